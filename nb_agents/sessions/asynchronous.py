"""The async API: `await session.ask_async(prompt, ...) -> Run`, on the SDK's `AsyncAnthropic`.

Only the reading is async. Everything else is the sync turn (turn.py) unchanged: the prompt is
prepared (interpolation, uploads, session creation) and the outputs pulled on a worker thread
(`asyncio.to_thread`), the live view, the transcript fold, budget guard, recorder and `Run` are
the same objects. `AsyncEventLoop` subclasses `stream.EventLoop` and reuses its dedupe, arming
and stop rules (`_handle`); it adds the async stream/list/send. A `requires_action` idle is
answered by the turn's (blocking) action handler on a worker thread, so custom tools never block
the event loop. One async client per call, closed at the end (an httpx async pool is bound to
the event loop that opened it).

Cancelling the task (or Ctrl-C) sends `user.interrupt` and drains to the idle, like a foreground
run; a cancelled call then re-raises `CancelledError`, Ctrl-C / `timeout` return the Run.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from ..api.stream import (
    BACKOFF_MAX,
    BACKOFF_START,
    DELTA_TYPES,
    READ_TIMEOUT,
    SEND_ATTEMPTS,
    DeadlineExceeded,
    EventLoop,
    _BadFrame,
    _retryable,
    _same_event,
)
from ..errors import AgentAPIError, format_api_error
from ..events import event_type

__all__ = ["AsyncEventLoop", "ask_async", "make_async_client"]


def make_async_client() -> Any:
    """An `anthropic.AsyncAnthropic` for the current backend (the emulator after `%agent offline`)."""
    import anthropic

    from ..api.client import backend

    where = backend()
    if where.offline:
        return anthropic.AsyncAnthropic(base_url=where.base_url, api_key="offline-emulator")
    return anthropic.AsyncAnthropic()


class AsyncEventLoop(EventLoop):
    """`EventLoop` with `arun`/`asend` on an async client; the sync methods still work (threads)."""

    def __init__(self, client: Any, aclient: Any, session_id: str, **kw: Any) -> None:
        super().__init__(client, session_id, **kw)
        self.aclient = aclient
        self._defer_actions = False
        self._pending_action: Any = None

    @classmethod
    def adopt(cls, session: Any, aclient: Any) -> AsyncEventLoop:
        """Take over the session's loop state (seen ids), so sync and async turns mix freely."""
        old = session.loop()
        loop = cls(session.client, aclient, str(session.session_id), on_event=old.on_event, deltas=old.deltas)
        loop.seen = old.seen  # the same set: ids seen by either are never replayed
        session._loop = loop
        return loop

    def _is_final(self, event: Any) -> bool:
        reason = getattr(getattr(event, "stop_reason", None), "type", None)
        if self._defer_actions and event_type(event) == "session.status_idle" and reason == "requires_action":
            self.final, self.stopped_by, self._pending_action = event, "requires_action", event
            return True  # arun answers it on a thread, then keeps reading or stops
        return super()._is_final(event)

    async def _ahandle(self, event: Any) -> bool:
        if not self._handle(event):
            return False
        idle, self._pending_action = self._pending_action, None
        if idle is None:
            return True
        return not await asyncio.to_thread(self.on_requires_action, idle)

    async def _alist(self) -> list[Any]:
        api = self.aclient.beta.sessions.events
        return [e async for e in api.list(self.session_id, limit=1000, order="asc")]

    async def asend(
        self, events: list[dict[str, Any]], *, arm: bool = True, known: set[str] | None = None
    ) -> list[Any]:
        """`EventLoop.send` on the async client: no SDK retries; before a resend, look for the echo."""
        import anthropic

        api = self.aclient.with_options(max_retries=0).beta.sessions.events
        before = {k[0] for k in self.seen} if known is None else known
        failure = "the API is unreachable"
        for attempt in range(SEND_ATTEMPTS):
            try:
                echoes = list((await api.send(self.session_id, events=events)).data)
                break
            except anthropic.APIStatusError as exc:
                if not _retryable(exc.status_code):
                    raise AgentAPIError(format_api_error(exc)) from exc
                failure = format_api_error(exc)
            except anthropic.APIConnectionError:
                pass
            echoes = await self._afind_echoes(events, before)
            if echoes:
                break
            await asyncio.sleep(min(BACKOFF_START * 2**attempt, BACKOFF_MAX))
        else:
            raise AgentAPIError(f"could not send the message after {SEND_ATTEMPTS} attempts: {failure}")
        ids = {str(e.id) for e in echoes if getattr(e, "id", None)}
        if ids and arm:
            self._await_ids |= ids
            self.armed = False
        return echoes

    async def _afind_echoes(self, events: list[dict[str, Any]], before: set[str]) -> list[Any]:
        try:
            listed = [e for e in await self._alist() if str(getattr(e, "id", "")) not in before]
        except Exception:  # still unreachable: the caller retries
            return []
        found: list[Any] = []
        for sent in events:
            match = next((e for e in listed if _same_event(sent, e) and e not in found), None)
            if match is None:
                return []
            found.append(match)
        return found

    async def _aopen(self, deadline: float | None) -> Any:
        import httpx2

        read = READ_TIMEOUT if deadline is None else max(0.05, min(READ_TIMEOUT, deadline - time.monotonic()))
        kw: dict[str, Any] = {"timeout": httpx2.Timeout(600.0, connect=10.0, read=read)}
        if self.deltas:
            kw["event_deltas"] = DELTA_TYPES
        # No SDK retries: the loop reconnects itself, within the deadline (as EventLoop._open).
        return await self.aclient.with_options(max_retries=0).beta.sessions.events.stream(self.session_id, **kw)

    async def arun(self, send: list[dict[str, Any]] | None = None, *, deadline: float | None = None) -> Any:
        """`EventLoop.run`, awaiting: stream first, send once, backfill, tail, reconnect, stop."""
        self._defer_actions = True
        try:
            return await self._arun(send, deadline)
        finally:
            self._defer_actions = False

    async def _arun(self, send: list[dict[str, Any]] | None, deadline: float | None) -> Any:
        import anthropic
        import httpx2

        backoff = BACKOFF_START
        while True:
            self._check(deadline)
            try:
                async with await self._aopen(deadline) as stream:
                    if send is not None:
                        known = {k[0] for k in self.seen}
                        self._quiet_backfill(await self._alist())  # before the send: see stream.py
                        await self.asend(send, known=known)
                        send = None
                    else:
                        for event in await self._alist():
                            if await self._ahandle(event):
                                return self.final
                    async for event in _aframes(stream):
                        if await self._ahandle(event):
                            return self.final
                        self._check(deadline)
                        backoff = BACKOFF_START
                reason = "the stream ended"
            except (anthropic.APIConnectionError, httpx2.HTTPError) as exc:
                reason = type(exc).__name__
            except _BadFrame:  # lost from this stream only: the backfill on reconnect lists it
                reason = "a malformed event frame"
            except anthropic.APIStatusError as exc:
                if not _retryable(exc.status_code):
                    raise AgentAPIError(format_api_error(exc)) from exc
                reason = f"HTTP {exc.status_code}"
            self._check(deadline)
            self.reconnects += 1
            self.on_notice(f"reconnecting… ({reason})")
            await asyncio.sleep(backoff if deadline is None else min(backoff, max(0.0, deadline - time.monotonic())))
            backoff = min(backoff * 2, BACKOFF_MAX)


async def _aframes(stream: Any) -> Any:
    """The stream's events; a JSON error from the SDK's parser becomes `_BadFrame` (as `_frames`)."""
    events = stream.__aiter__()
    while True:
        try:
            event = await events.__anext__()
        except StopAsyncIteration:
            return
        except json.JSONDecodeError as exc:
            raise _BadFrame(str(exc)) from exc
        yield event


async def ask_async(session: Any, prompt: str, **kw: Any) -> Any:
    """See `AgentSession.ask_async`."""
    import threading

    kw.pop("background", None)
    turn = await asyncio.to_thread(session.prepare_turn, prompt, **kw)
    if not hasattr(turn, "loop"):  # a DryRun
        return turn
    aclient = make_async_client()
    run = None
    try:
        turn.loop = AsyncEventLoop.adopt(session, aclient)
        turn.begin(display=threading.current_thread() is threading.main_thread())
        try:
            interrupted = await _aread(turn)
            run = await asyncio.to_thread(turn.complete, interrupted)
        finally:
            turn.end(run)
    finally:
        await aclient.close()
    session.runs.append(run)
    return run


async def _aread(turn: Any) -> bool:
    """`Turn._read`, awaiting; True if the turn was interrupted (Ctrl-C, cancel, timeout)."""
    loop = turn.loop
    try:
        if turn.text is None:
            await loop.arun(deadline=turn.deadline)
        else:
            from ..api import turn_events  # a user.message, or a user.define_outcome

            await asyncio.to_thread(turn._settle_previous)
            await loop.arun(send=turn_events(turn.text, turn.opts), deadline=turn.deadline)
        return False
    except KeyboardInterrupt:
        await _adrain(turn)
    except asyncio.CancelledError:
        await asyncio.shield(_adrain(turn))
        raise
    except DeadlineExceeded:
        turn.notice(f"timed out after {turn.opts.timeout:g} s: stopping the agent…", "warning")
        await _adrain(turn)
    return True


async def _adrain(turn: Any) -> None:
    loop = turn.loop
    try:
        await loop.asend([{"type": "user.interrupt"}], arm=False)
        loop.armed = True  # any idle from now on ends the turn
        await loop.arun(deadline=time.monotonic() + turn.opts.interrupt_wait)
        if not getattr(turn.t, "interrupted", False):
            turn.notice("Interrupted: the agent was stopped; everything received so far is kept.", "warning")
    except (DeadlineExceeded, asyncio.CancelledError):
        turn.notice("interrupted; the session may still be running: `%agent interrupt` stops it", "warning")
    except AgentAPIError as exc:
        turn.notice(f"could not interrupt: {exc}", "error")
