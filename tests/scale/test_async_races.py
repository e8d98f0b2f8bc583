"""Async first use and one session in two tasks: `asyncio.gather` of `ask_async` in a fresh
kernel creates the agent and the environment once (a lock per name + config hash, a 409 settled
by finding what exists), and two `ask_async` on one session run one after the other."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agent_shell import scenario_writer

import nb_agents.api.client as nb_client
from nb_agents.emulator import Emulator
from nb_agents.errors import SessionError
from nb_agents.sessions import AgentSession

from .conftest import user_messages

ECHO = "[[emulator: echo]]\n"
pytestmark = pytest.mark.anyio


@pytest.fixture
def pause(tmp_path: Any) -> str:
    """A turn that takes a second: long enough for a second task to try to cut in."""
    return scenario_writer(tmp_path)([{"say": "Working."}, {"delay": 1}, {"say": "Done."}], "pause")


@pytest.fixture
def fresh() -> Any:
    """A server that has never seen this kernel, and a kernel that has cached nothing."""
    with Emulator() as emu, nb_client.using_emulator(emu):
        yield emu


async def test_gather_in_a_fresh_kernel_creates_agent_and_environment_once(fresh: Any) -> None:
    sessions = [AgentSession(f"race-{i}") for i in range(6)]
    runs = await asyncio.gather(*(s.ask_async(ECHO + f"n{i}", live=False) for i, s in enumerate(sessions)))
    assert [r.text for r in runs] == [f"n{i}" for i in range(6)]
    with fresh.client() as c:
        assert len(list(c.beta.environments.list(limit=100))) == 1
        assert len(list(c.beta.agents.list(limit=100))) == 1
    after = await AgentSession("race-after").ask_async(ECHO + "next", live=False)
    assert after.text == "next"


async def test_a_409_on_create_finds_what_exists(fresh: Any) -> None:
    """Another kernel created the environment between our look-up and our create: the 409 is
    settled by looking again (here the emulator answers 409 once, as a lost race would)."""
    fresh.faults.fail_next(1, 409, "POST /v1/environments")
    run = await AgentSession("conflict").ask_async(ECHO + "despite the 409", live=False)
    assert run.text == "despite the 409"
    with fresh.client() as c:
        assert len(list(c.beta.environments.list(limit=100))) == 1


async def test_two_ask_async_on_one_session_run_one_after_the_other(emu: Any, pause: str) -> None:
    sess = AgentSession("async-two")
    first, second = await asyncio.gather(
        sess.ask_async(pause + "one", live=False),
        sess.ask_async(ECHO + "two", live=False),
    )
    assert first.stop_reason == "end_turn" and second.text == "two"
    assert first.session_id == second.session_id and user_messages(emu, first.session_id) == 2
    types = [e.type for e in sess.events if e.type in ("user.message", "session.status_idle")]
    assert types == ["user.message", "session.status_idle", "user.message", "session.status_idle"]
    assert [e.type for e in second.events].count("user.message") == 1  # its own turn only


async def test_a_sync_turn_during_an_async_one_fails_in_one_line(emu: Any, pause: str) -> None:
    sess = AgentSession("async-busy")
    task = asyncio.create_task(sess.ask_async(pause + "long", live=False))
    for _ in range(200):
        await asyncio.sleep(0.05)
        if sess.async_busy:
            break
    with pytest.raises(SessionError, match=r"is running an async turn \(ask_async\): await it first"):
        await asyncio.to_thread(sess.ask, ECHO + "now", live=False)
    assert (await task).stop_reason == "end_turn"
    assert sess.ask(ECHO + "after", live=False).text == "after"
