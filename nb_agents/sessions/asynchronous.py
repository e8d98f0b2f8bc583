"""The async API: `await session.ask_async(prompt, ...) -> Run`, on the SDK's `AsyncAnthropic`.

Only the reading is async. Everything else is the sync turn (turn.py) unchanged: the prompt is
prepared (interpolation, uploads, session creation) and the outputs pulled on a worker thread
(`asyncio.to_thread`), the live view, the transcript fold, budget guard, recorder and `Run` are
the same objects, and so are the turn's decisions: what it sends (`Turn._outgoing`), what ends
a read early (`STOPS`), how a drain's outcome is reported (`Turn._draining`). The reading is
api/async_stream.py's `AsyncEventLoop`, which shares the session's seen ids. One async client per
call, closed at the end (an httpx async pool is bound to the event loop that opened it).

Cancelling the task (or Ctrl-C) sends `user.interrupt` and drains to the idle, like a foreground
run; a cancelled call then re-raises `CancelledError`, Ctrl-C / `timeout` return the Run.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..api import AsyncEventLoop, make_async_client
from ..view import on_main_thread
from .turn import STOPS, Turn

__all__ = ["ask_async"]


async def ask_async(session: Any, prompt: str, **kw: Any) -> Any:
    """See `AgentSession.ask_async`."""
    kw.pop("background", None)
    turn = await asyncio.to_thread(session.prepare_turn, prompt, **kw)
    if not hasattr(turn, "loop"):  # a DryRun
        return turn
    aclient = make_async_client(turn.opts)
    run = None
    try:
        loop = turn.loop = session.event_loop = AsyncEventLoop.sharing(session.loop(), aclient)
        turn.begin(display=on_main_thread())
        try:
            interrupted = await _aread(turn, loop)
            run = await asyncio.to_thread(turn.complete, interrupted)
        finally:
            turn.end(run)
    finally:
        await aclient.close()
    session.runs.append(run)
    return run


async def _aread(turn: Turn, loop: AsyncEventLoop) -> bool:
    """`Turn._read`, awaited; True if the turn was interrupted (Ctrl-C, cancel, timeout)."""
    try:
        send = await asyncio.to_thread(turn._outgoing)
        await loop.arun(send=send, deadline=turn.deadline)
        return False
    except STOPS as exc:
        turn._stopping(exc)
    except asyncio.CancelledError as exc:
        turn._stopping(exc)
        await asyncio.shield(_adrain(turn, loop))
        raise
    await _adrain(turn, loop)
    return True


async def _adrain(turn: Turn, loop: AsyncEventLoop) -> None:
    """`Turn._drain`, awaited."""
    with turn._draining() as deadline:
        await loop.ainterrupt()
        await loop.arun(deadline=deadline)
