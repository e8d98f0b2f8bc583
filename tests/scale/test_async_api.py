"""`await session.ask_async(...)` on AsyncAnthropic against the in-kernel emulator."""

from __future__ import annotations

import asyncio

import pytest

from nb_agents.api import AsyncEventLoop
from nb_agents.sessions import AgentSession

from .conftest import user_messages

ECHO = "[[emulator: echo]]\n"
pytestmark = pytest.mark.anyio


async def test_ask_async_returns_the_same_run_and_continues_the_session(emu, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sess = AgentSession("async-a")
    first = await sess.ask_async(ECHO + "hello async", live=False)
    assert first.text == "hello async" and first.stop_reason == "end_turn" and first.cost_usd
    assert isinstance(sess.loop(), AsyncEventLoop)
    second = sess.ask(ECHO + "then sync", live=False)  # sync and async turns mix on one session
    third = await sess.ask_async(ECHO + "and async again", live=False)
    assert [r.text for r in sess.runs] == ["hello async", "then sync", "and async again"]
    assert second.session_id == third.session_id == first.session_id
    assert user_messages(emu, first.session_id) == 3
    assert [e.type for e in third.events].count("user.message") == 1  # nothing replayed


async def test_concurrent_sessions_with_gather(emu):
    sessions = [AgentSession(f"async-g{i}") for i in range(4)]
    runs = await asyncio.gather(*(s.ask_async(ECHO + f"n{i}", live=False) for i, s in enumerate(sessions)))
    assert [r.text for r in runs] == ["n0", "n1", "n2", "n3"]
    assert len({r.session_id for r in runs}) == 4


async def test_cancel_interrupts_the_agent(emu):
    sess = AgentSession("async-c")
    task = asyncio.create_task(sess.ask_async("[[emulator: scenario slow]]\nlong", live=False))
    for _ in range(200):
        await asyncio.sleep(0.05)
        if sess.history is not None and sess.history.messages:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert emu.store.sessions[sess.session_id].session["status"] == "idle"
    assert "user.interrupt" in [e.type for e in sess.events]
    after = await sess.ask_async(ECHO + "still usable", live=False)
    assert after.text == "still usable"


async def test_timeout_ends_interrupted(emu):
    sess = AgentSession("async-t")
    run = await sess.ask_async("[[emulator: scenario slow]]\nlong", live=False, timeout=1.0)
    assert run.stop_reason == "interrupted" and "timed out" in str(run.transcript.items)


async def test_custom_tool_answered_off_the_event_loop(emu):
    calls = []

    def lookup(sku: str = "A1") -> str:
        """Look a product up."""
        calls.append(sku)
        return "in stock"

    sess = AgentSession("async-tools")
    run = await sess.ask_async("Use lookup for 'Z9'", live=False, tools=[lookup])
    assert calls == ["A1"] and "in stock" in run.text and run.stop_reason == "end_turn"


async def test_stream_errors_reconnect(emu):
    emu.faults.update(stream_cut_after=3, stream_cut_mode="eof")
    try:
        run = await AgentSession("async-r").ask_async(ECHO + "through cuts", live=False, deltas=False)
    finally:
        emu.faults.reset()
    assert run.text == "through cuts"
