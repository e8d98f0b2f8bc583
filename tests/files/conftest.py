"""Fixtures for file-sync tests on the offline emulator: a server, sessions, one turn end to end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nb_agents.emulator import Emulator
from nb_agents.files import FileSync


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(brain="analyst") as server:
        yield server


@pytest.fixture()
def client(emu: Emulator) -> Any:
    return emu.client(max_retries=0)


@pytest.fixture(scope="module")
def agent_env(emu: Emulator) -> tuple[str, str]:
    c = emu.client()
    agent = c.beta.agents.create(model="claude-sonnet-4-6", name="files-tests",
                                 tools=[{"type": "agent_toolset_20260401"}])
    env = c.beta.environments.create(name="files-tests", config={"type": "cloud", "networking": {"type": "unrestricted"}})
    return agent.id, env.id


@pytest.fixture()
def new_session(client: Any, agent_env: tuple[str, str]) -> Callable[..., str]:
    def make(**kw: Any) -> str:
        agent, env = agent_env
        return str(client.beta.sessions.create(agent=agent, environment_id=env, **kw).id)

    return make


@pytest.fixture()
def sync(client: Any, tmp_path: Path) -> FileSync:
    return FileSync(client, outputs_dir=tmp_path / "agent_outputs", session_name="default", settle=0.2)


def run_turn(client: Any, session_id: str, text: str, timeout: float = 60) -> list[Any]:
    """Send one user message and wait for the next end-of-turn idle; returns the turn's events."""
    before = list(client.beta.sessions.events.list(session_id, limit=1000))
    client.beta.sessions.events.send(session_id, events=[{"type": "user.message",
                                                          "content": [{"type": "text", "text": text}]}])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = list(client.beta.sessions.events.list(session_id, limit=1000))[len(before):]
        if any(e.type == "session.status_idle" and e.stop_reason.type != "requires_action" for e in events):
            return events
        time.sleep(0.05)
    raise AssertionError(f"turn did not end within {timeout}s")
