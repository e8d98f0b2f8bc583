"""The event loop of one session: stream first, send, backfill, tail, reconnect, stop.

Per the reference (managed-agents-api.md §8, event-sequences.md §12):
1. open `events.stream` (with `event_deltas` for live text);
2. send the turn's events once, on the first connection (`max_retries=0`; after a connection
   error or a retryable status the echo is looked for in `events.list` before resending, so
   nothing is sent twice);
3. backfill `events.list` (ascending, limit=1000) and hand every event not seen yet to `on_event`
   (on the first connection, before step 2: the session is quiet then, so the list answers at
   once and the turn's first events do not wait behind a list answered by a busy server);
4. tail the stream, deduping by `(id, processed_at is None)` (deltas, which have no id, pass);
5. on `APIConnectionError`, an httpx2 error, a frame that is not JSON or a clean end of stream:
   notice, back off 0.5 -> 10 s, and repeat from 1 (the stream opens with `max_retries=0`: the
   SDK's own retries would each wait the full read timeout, past the run's deadline).
The loop stops on `session.status_idle` (unless `requires_action` and the handler resolved it),
`session.status_terminated` and `session.deleted` — but only for events that arrive after our own
echo (for a `user.message`, its processed copy), so the idle that ended the previous turn, or
the end of an earlier turn our message was queued behind, never ends this one.

The loop runs on the caller's thread: a foreground run reads on the main thread, so Ctrl-C (or a
listener) raises `KeyboardInterrupt` right here and the caller decides what to do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import AgentAPIError, format_api_error
from ..events import event_to_json, event_type

__all__ = ["EventLoop", "DeadlineExceeded", "event_key", "TERMINAL_TYPES"]

TERMINAL_TYPES = ("session.status_terminated", "session.deleted")
DELTA_TYPES = ["agent.message", "agent.thinking"]
BACKOFF_START = 0.5
BACKOFF_MAX = 10.0
READ_TIMEOUT = 30.0
SEND_ATTEMPTS = 4


def _retryable(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


class DeadlineExceeded(Exception):
    """The run's `--timeout` passed; raised on the loop's thread like a KeyboardInterrupt."""


class _BadFrame(Exception):
    """A `data:` line of the stream was not JSON: handled like a cut stream."""


def _frames(stream: Iterable[Any]) -> Iterator[Any]:
    """The stream's events; a JSON error from the SDK's parser becomes `_BadFrame`, so an error
    raised by our own handlers is never mistaken for a broken frame."""
    events = iter(stream)
    while True:
        try:
            event = next(events)
        except StopIteration:
            return
        except json.JSONDecodeError as exc:
            raise _BadFrame(str(exc)) from exc
        yield event


def event_key(event: Any) -> tuple[str, bool] | None:
    """Dedupe key; None for events without an id (deltas, empty-id interrupts), which always pass."""
    if getattr(event, "type", None) in _PREVIEWS:
        return None  # no id field: skip pydantic's slow miss on `id` (called once per delta)
    eid = getattr(event, "id", None)
    if not eid:
        return None
    return (str(eid), getattr(event, "processed_at", None) is None)


_IDENTIFYING = ("custom_tool_use_id", "tool_use_id", "content")
_PREVIEWS = frozenset({"event_start", "event_delta"})


def _same_event(sent: dict[str, Any], listed: Any) -> bool:
    """Whether a listed event is the echo of `sent` (type plus the fields that identify it)."""
    if event_type(listed) != sent.get("type"):
        return False
    wire = event_to_json(listed)
    return all(wire.get(k) == sent[k] for k in _IDENTIFYING if k in sent and k != "content") and (
        "content" not in sent or _texts(wire.get("content")) == _texts(sent["content"])
    )


def _texts(blocks: Any) -> list[str]:
    return [b.get("text", "") for b in blocks or [] if isinstance(b, dict)]


def _stop_type(event: Any) -> str | None:
    reason = getattr(event, "stop_reason", None)
    return getattr(reason, "type", None) if reason is not None else None


class EventLoop:
    """Reads one session's events until the turn ends. State (seen ids, armed) survives `run` calls."""

    def __init__(
        self,
        client: Any,
        session_id: str,
        *,
        deltas: bool = True,
        on_event: Callable[[Any], None],
        on_notice: Callable[[str], None] | None = None,
        on_requires_action: Callable[[Any], bool] | None = None,
        seen: Iterable[tuple[str, bool]] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.deltas = deltas
        self.on_event = on_event
        self.on_notice = on_notice or (lambda text: None)
        # Default: a requires_action idle the caller cannot answer ends the loop (shown as waiting).
        self.on_requires_action = on_requires_action or (lambda event: False)
        self.seen: set[tuple[str, bool]] = set(seen)
        self.sleep = sleep
        self.armed = True
        self._await_ids: set[str] = set()
        self.final: Any = None
        self.reconnects = 0
        self.stopped_by: str | None = None

    # -- sending -----------------------------------------------------------------------------
    def send(self, events: list[dict[str, Any]], *, arm: bool = True, known: set[str] | None = None) -> list[Any]:
        """Send once (no SDK retries); after a connection error, resend only if no echo is listed.
        With `arm`, the loop's stop checks wait for these events' echo (see `_handle`). `known`:
        the ids that cannot be the echo (default: every id seen so far)."""
        import anthropic

        api = self.client.with_options(max_retries=0).beta.sessions.events
        before = {k[0] for k in self.seen} if known is None else known
        failure = "the API is unreachable"
        for attempt in range(SEND_ATTEMPTS):
            try:
                echoes = list(api.send(self.session_id, events=events).data)
                break
            except anthropic.APIStatusError as exc:
                if not _retryable(exc.status_code):
                    raise AgentAPIError(format_api_error(exc)) from exc
                failure = format_api_error(exc)
            except anthropic.APIConnectionError:
                pass
            # The request may have been applied before the failure: look for our echo first.
            echoes = self._find_echoes(events, before)
            if echoes:
                break
            self.sleep(min(BACKOFF_START * 2**attempt, BACKOFF_MAX))
        else:
            raise AgentAPIError(f"could not send the message after {SEND_ATTEMPTS} attempts: {failure}")
        ids = {str(e.id) for e in echoes if getattr(e, "id", None)}
        if ids and arm:
            self._await_ids |= ids
            self.armed = False
        return echoes

    def _find_echoes(self, events: list[dict[str, Any]], before: set[str]) -> list[Any]:
        """The listed echoes of `events` (each matched by type and identifying fields), or []."""
        try:
            listed = [e for e in self._list() if str(getattr(e, "id", "")) not in before]
        except Exception:  # still unreachable: the caller retries
            return []
        found = []
        for sent in events:
            match = next((e for e in listed if _same_event(sent, e) and e not in found), None)
            if match is None:
                return []
            found.append(match)
        return found

    # -- reading -----------------------------------------------------------------------------
    def _list(self) -> list[Any]:
        return list(self.client.beta.sessions.events.list(self.session_id, limit=1000, order="asc"))

    def _open(self, deadline: float | None) -> Any:
        import httpx2

        read = READ_TIMEOUT if deadline is None else max(0.05, min(READ_TIMEOUT, deadline - time.monotonic()))
        kw: dict[str, Any] = {"timeout": httpx2.Timeout(600.0, connect=10.0, read=read)}
        if self.deltas:
            kw["event_deltas"] = DELTA_TYPES
        # No SDK retries: the loop reconnects itself, within the deadline.
        return self.client.with_options(max_retries=0).beta.sessions.events.stream(self.session_id, **kw)

    def _handle(self, event: Any) -> bool:
        """Fold one event in; True when the turn is over."""
        key = event_key(event)
        if key is not None:
            if key in self.seen:
                return False
            self.seen.add(key)
            # Our echo arms the stop checks. A queued user.message (processed_at None) is not
            # enough: events of an earlier turn may still come before it is taken.
            if key[0] in self._await_ids and not (key[1] and event_type(event) == "user.message"):
                self.armed = True
        self.on_event(event)
        return self.armed and self._is_final(event)

    def _is_final(self, event: Any) -> bool:
        etype = event_type(event)
        if etype in TERMINAL_TYPES:
            self.final, self.stopped_by = event, etype
            return True
        if etype != "session.status_idle":
            return False
        self.final, self.stopped_by = event, _stop_type(event) or "idle"
        if self.stopped_by == "requires_action":
            # The handler sends the answers (the loop keeps reading) or declines (we stop, waiting).
            return not self.on_requires_action(event)
        return True

    def run(
        self,
        send: list[dict[str, Any]] | None = None,
        *,
        deadline: float | None = None,
    ) -> Any:
        """Read until the turn ends; returns the final event. Raises DeadlineExceeded after `deadline`."""
        import anthropic
        import httpx2

        backoff = BACKOFF_START
        while True:
            self._check(deadline)
            try:
                with self._open(deadline) as stream:
                    if send is not None:
                        known = {k[0] for k in self.seen}  # (the echo lookup's reference, as before)
                        self._quiet_backfill(self._list())
                        self.send(send, known=known)
                        send = None
                    else:
                        for event in self._list():
                            if self._handle(event):
                                return self.final
                    for event in _frames(stream):
                        if self._handle(event):
                            return self.final
                        self._check(deadline)
                        backoff = BACKOFF_START
                reason = "the stream ended"
            except (anthropic.APIConnectionError, httpx2.HTTPError) as exc:
                reason = type(exc).__name__
            except _BadFrame:
                # The event is lost from this stream only: the backfill on reconnect lists it.
                reason = "a malformed event frame"
            except anthropic.APIStatusError as exc:
                if _retryable(exc.status_code):
                    reason = f"HTTP {exc.status_code}"
                else:
                    raise AgentAPIError(format_api_error(exc)) from exc
            self._check(deadline)
            self.reconnects += 1
            self.on_notice(f"reconnecting… ({reason})")
            self.sleep(backoff if deadline is None else min(backoff, max(0.0, deadline - time.monotonic())))
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _quiet_backfill(self, listed: list[Any]) -> None:
        """First connection: hand on the listed history BEFORE our send, while the session is
        quiet. Listed after the send, by a server busy streaming the turn, the backfill stalled
        the reader (~0.3 s of a 20,000-event turn, and ~60 ms of latency for its first deltas:
        docs/benchmarks.md). Nothing listed then can end this turn, and everything after the
        send comes on the stream, opened first."""
        armed, self.armed = self.armed, False
        try:
            for event in listed:
                self._handle(event)
        finally:
            self.armed = armed

    @staticmethod
    def _check(deadline: float | None) -> None:
        if deadline is not None and time.monotonic() >= deadline:
            raise DeadlineExceeded()
