"""Local mode on the in-kernel emulator: a real IPython shell whose kernel is the self-hosted
environment's worker. Leases expire after 2 s here (the service's 90 s would make a lost-lease
test wait that long). Every test ends with the worker stopped and no thread of ours left."""

from __future__ import annotations

import threading
import time

import pytest
from agent_shell import agent_shell, scenario_writer


@pytest.fixture(scope="module")
def emu():
    from nb_agents.api import client

    emulator = client.go_offline(work_ttl=2.0)
    yield emulator
    client.go_online()


@pytest.fixture()
def ip(emu, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # ./agent_workspace/<session>/ lands in the test's folder
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the slot lock files (local/slots.py)
    with agent_shell(emu, monkeypatch, NB_AGENTS_LOCAL_IDLE="1") as shell:
        yield shell  # (leaving it stops the worker: agent_shell's clean_sessions)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _ours():
        time.sleep(0.05)
    assert not _ours(), f"threads left behind: {_ours()}"


def _ours() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("nb-agents-local", "nb-agents-approval"))
            and t.is_alive() and t.name != "nb-agents-approval"]


@pytest.fixture()
def scenario(tmp_path):
    return scenario_writer(tmp_path)


@pytest.fixture()
def answers(monkeypatch):
    """Answers to the approval prompts (builtins.input), in order; records what was asked."""
    import builtins

    asked: list[str] = []
    queue: list[str] = []

    def fake_input(prompt: str = "") -> str:
        asked.append(prompt)
        return queue.pop(0) if queue else "n"

    monkeypatch.setattr(builtins, "input", fake_input)

    def give(*replies: str) -> list[str]:
        queue.extend(replies)
        return asked

    return give
