"""The event loop's async driver: `EventLoop`'s calls, awaited on the SDK's `AsyncAnthropic`.

Every rule (dedupe, arming, echo matching, stop rules, what a failure means, the backoff) is
`BaseEventLoop`'s, in stream.py; this module only awaits the calls. `AsyncEventLoop` is also an
`EventLoop`: a session's sync and async turns share one loop, and a `requires_action` idle is
answered by the turn's blocking action handler on a worker thread (`asyncio.to_thread`), which
sends its answers with the sync `send`, so custom tools never block the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from .stream import ASKS, ENDS, HISTORY, INTERRUPT, SEND_ATTEMPTS, BadFrame, EventLoop

__all__ = ["AsyncEventLoop"]


async def aframes(stream: Any) -> AsyncIterator[Any]:
    """The stream's events; a JSON error from the SDK's parser becomes `BadFrame` (as `frames`)."""
    events = stream.__aiter__()
    while True:
        try:
            event = await events.__anext__()
        except StopAsyncIteration:
            return
        except json.JSONDecodeError as exc:
            raise BadFrame(str(exc)) from exc
        yield event


class AsyncEventLoop(EventLoop):
    """`EventLoop` with `arun`/`asend`/`ainterrupt` on an async client (`aclient`); `asleep` is
    the awaited twin of `sleep`."""

    def __init__(
        self, client: Any, aclient: Any, session_id: str, *,
        asleep: Callable[[float], Awaitable[None]] = asyncio.sleep, **kw: Any,
    ) -> None:
        super().__init__(client, session_id, **kw)
        self.aclient = aclient
        self.asleep = asleep

    @classmethod
    def sharing(cls, loop: EventLoop, aclient: Any) -> AsyncEventLoop:
        """A loop on `aclient` with `loop`'s seen ids (the same set: ids seen by either are never
        replayed) and its backfill mark."""
        new = cls(loop.client, aclient, loop.session_id, on_event=loop.on_event, deltas=loop.deltas)
        new.seen, new.meter, new.mark = loop.seen, loop.meter, loop.mark
        return new

    async def asend(
        self, events: list[dict[str, Any]], *, arm: bool = True, known: set[str] | None = None
    ) -> list[Any]:
        """`EventLoop.send`, awaited."""
        api = self.aclient.with_options(max_retries=0).beta.sessions.events
        before = self.known_ids() if known is None else known
        last = failure = None
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                self.meter.sent(events, resend=attempt > 1)
                return self._sent(list((await api.send(self.session_id, events=events)).data), arm)
            except Exception as exc:
                if not self._api_failure(exc):
                    raise
                last, failure = self._send_failure(exc), exc
            echoes = await self._afind_echoes(events, before)
            if echoes:
                return self._sent(echoes, arm)
            await self.asleep(self._send_wait(attempt, failure))
        raise self._gave_up(last)

    async def ainterrupt(self) -> None:
        """`EventLoop.interrupt`, awaited."""
        await self.asend(INTERRUPT, arm=False)
        self._interrupt_sent()

    async def _afind_echoes(self, events: list[dict[str, Any]], before: set[str]) -> list[Any]:
        try:
            listed = await self._alist()
        except Exception:  # still unreachable: the caller retries
            return []
        return self.match_echoes(events, listed, before)

    async def _alist(self, **query: Any) -> list[Any]:
        api = self.aclient.beta.sessions.events
        return [e async for e in api.list(self.session_id, **(query or HISTORY))]

    async def _aopen(self, deadline: float | None) -> Any:
        api = self.aclient.with_options(max_retries=0).beta.sessions.events
        return await api.stream(self.session_id, **self._stream_options(deadline))

    @asynccontextmanager
    async def _acut_at(self, deadline: float | None, stream: Any) -> AsyncIterator[None]:
        """`_cut_at` with the cut scheduled on this event loop."""
        loop = asyncio.get_running_loop()

        def schedule(delay: float, fn: Callable[[], None]) -> Callable[[], None]:
            return loop.call_later(delay, fn).cancel

        with self._cut_at(deadline, stream, schedule):
            yield

    async def _ahandle(self, event: Any) -> bool:
        return await self._aends(self._take(event), event)

    async def _aends(self, verdict: str, event: Any) -> bool:
        return verdict is ENDS or (verdict is ASKS and not await asyncio.to_thread(self.on_requires_action, event))

    async def arun(self, send: list[dict[str, Any]] | None = None, *, deadline: float | None = None) -> Any:
        """`EventLoop.run`, awaited."""
        self._failures = 0
        while True:
            self._check(deadline)
            try:
                async with await self._aopen(deadline) as stream, self._acut_at(deadline, stream):
                    if send is not None:
                        known = self.known_ids()
                        listing = asyncio.ensure_future(self._alist(**self.backfill_query()))  # with the send
                        try:
                            await self.asend(send, known=known)
                        except BaseException:
                            listing.cancel()
                            await asyncio.gather(listing, return_exceptions=True)
                            raise
                        send = None  # sent: a failed backfill reconnects, it never sends again
                        for event in await listing:  # (after the send: its echo arms the stop checks)
                            if await self._ahandle(event):
                                return self.final
                    else:
                        listed = await self._alist(**self.backfill_query())
                        rest = self._resting(listed)
                        for event in listed:
                            if await self._ahandle(event):
                                return self.final
                        if rest is not None and await self._aends(self._rest_verdict(rest), rest):
                            return self.final
                    async for event in aframes(stream):
                        if await self._ahandle(event):
                            return self.final
                        self._read_one(deadline)
                reason, failure = "the stream ended", None
            except Exception as exc:
                reason, failure = self._failure(exc), exc
            await self.asleep(self._reconnecting(reason, deadline, failure))
