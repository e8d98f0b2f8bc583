"""The event loop of one session: stream first, send, backfill, tail, reconnect, stop.

`BaseEventLoop` owns every rule and all the state, without I/O; `EventLoop` (here) and
`AsyncEventLoop` (async_stream.py) only make the calls, on the SDK's sync or async client.
1. open `events.stream` (with `event_deltas` for live text);
2. send the turn's events once, on the first connection (`max_retries=0`; after a connection
   error or a retryable status the echo is looked for in `events.list` before resending, so
   nothing is sent twice); every attempt is counted by the loop's `meter` (egress.py) as it goes out;
3. backfill `events.list` (ascending, limit=1000; once the loop has read a processed event, only
   from a second before the newest one it read: `created_at_gte`, which the API compares with
   `processed_at`, so a long session is not listed whole on every turn) and hand every event not
   seen yet to `on_event`. On the first connection the list goes out with the send, on a second
   thread (one round trip per cell instead of two), and what it lists is handed on once the send
   has armed the stop checks: an idle listed before our echo never ends the turn. The page is parsed
   only when it holds an event not seen yet (`_unseen_history`). A new session is listed too: the
   server may have said something at creation (a repository it cannot clone);
4. tail the stream, deduping by `(id, processed_at is None)` (deltas, which have no id, pass);
5. on a connection error (the SDK's, or the HTTP layer's under a stream being read), a
   retryable status, a frame that is not JSON or a clean end of stream: notice, back off
   (retry.py's schedule, reset by every event read) and repeat from 1 (the stream opens with
   `max_retries=0`: the SDK's own retries would each wait the full read timeout, past the
   run's deadline). Any other status is raised at once as a one-line `AgentAPIError`.
6. a deadline is kept even when nothing arrives: the server's pings keep a silent stream's read
   alive without bringing an event, so at the deadline the open stream is cut (its socket shut
   down, `cut_stream`) and the read ends with `DeadlineExceeded` within moments.
The loop stops on `session.status_idle` (unless `requires_action` and the handler resolved it),
`session.status_terminated` and `session.deleted` — but only for events that arrive after our own
echo (for a `user.message`, its processed copy), so the idle that ended the previous turn, or
the end of an earlier turn our message was queued behind, never ends this one.

The loop runs on the caller's thread: a foreground run reads on the main thread, so Ctrl-C (or a
listener) raises `KeyboardInterrupt` right here and the caller decides what to do.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from ..egress import NO_METER, EgressMeter
from ..errors import AgentAPIError
from ..events import event_to_json, event_type
from .client import alongside, api_error
from .retry import is_connection_error, is_retryable, retry_wait, retryable_status

__all__ = [
    "BaseEventLoop", "EventLoop", "DeadlineExceeded", "cut_stream", "event_key", "TERMINAL_TYPES", "INTERRUPT",
]

TERMINAL_TYPES = ("session.status_terminated", "session.deleted")
DELTA_TYPES = ["agent.message", "agent.thinking"]
READ_TIMEOUT = 30.0
SEND_ATTEMPTS = 4
INTERRUPT = [{"type": "user.interrupt"}]
BACKFILL_MARGIN = timedelta(seconds=1)  # a backfill lists from this long before the newest event read
HISTORY = {"limit": 1000, "order": "asc"}  # `events.list` arguments of the whole history, oldest first

# What one event means for the read, from `BaseEventLoop._take`.
GO_ON, ENDS, ASKS = "go on", "ends", "asks"  # ASKS: a requires_action idle; ends unless answered


class DeadlineExceeded(Exception):
    """The run's `--timeout` passed; raised on the loop's thread like a KeyboardInterrupt."""


class BadFrame(Exception):
    """A `data:` line of the stream was not JSON: handled like a cut stream."""


def frames(stream: Iterable[Any]) -> Iterator[Any]:
    """The stream's events; a JSON error from the SDK's parser becomes `BadFrame`, so an error
    raised by our own handlers is never mistaken for a broken frame."""
    events = iter(stream)
    while True:
        try:
            event = next(events)
        except StopIteration:
            return
        except json.JSONDecodeError as exc:
            raise BadFrame(str(exc)) from exc
        yield event


def cut_stream(stream: Any) -> None:
    """End an open SSE stream's read from any thread: shut its socket down (a blocked read then
    sees the connection end at once; closing alone would leave it waiting for the next ping),
    else close the response."""
    response = getattr(stream, "response", None)
    network = (getattr(response, "extensions", None) or {}).get("network_stream")
    sock = network.get_extra_info("socket") if network is not None else None
    try:
        if callable(getattr(sock, "shutdown", None)):  # a socket, or asyncio's TransportSocket
            sock.shutdown(socket.SHUT_RDWR)
        elif response is not None:
            response.close()
    except Exception:  # noqa: BLE001 - already closed: the read has ended anyway
        pass


Schedule = Callable[[float, Callable[[], None]], Callable[[], None]]  # (delay, fn) -> cancel


def _timer(delay: float, fn: Callable[[], None]) -> Callable[[], None]:
    """`Schedule` on a daemon timer thread (the sync driver's); cancelling also joins it."""
    timer = threading.Timer(delay, fn)
    timer.daemon = True
    timer.start()

    def cancel() -> None:
        timer.cancel()
        if timer is not threading.current_thread():
            timer.join()

    return cancel


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


def same_event(sent: dict[str, Any], listed: Any) -> bool:
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


class BaseEventLoop:
    """The state and rules of reading one session's events, shared by both drivers: dedupe,
    arming, echo matching, stop rules, and what a failure means (resend, reconnect, or raise).
    No method here does I/O. State (seen ids, armed) survives `run` calls."""

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
        self._failures = 0  # reconnects since the last event read: the backoff's attempt number
        self._cut = False  # the open stream was cut at the deadline (`_cut_at`)
        self.meter: EgressMeter = NO_METER  # counts what each send puts on the wire (the session's)
        self.mark: datetime | None = None  # the newest `processed_at` read (`backfill_query`)

    # -- sending -----------------------------------------------------------------------------
    def known_ids(self) -> set[str]:
        """Ids that cannot be the echo of a send made now: every id seen so far."""
        return {k[0] for k in self.seen}

    @staticmethod
    def match_echoes(events: list[dict[str, Any]], listed: Iterable[Any], before: set[str]) -> list[Any]:
        """The echoes of `events` among `listed` (each matched by type and identifying fields,
        none of the ids in `before`, none used twice), or [] unless every event has one."""
        fresh = [e for e in listed if str(getattr(e, "id", "")) not in before]
        found: list[Any] = []
        for sent in events:
            match = next((e for e in fresh if same_event(sent, e) and e not in found), None)
            if match is None:
                return []
            found.append(match)
        return found

    def _sent(self, echoes: list[Any], arm: bool) -> list[Any]:
        """After a send: with `arm`, the stop checks wait for these echoes (see `_take`)."""
        ids = {str(e.id) for e in echoes if getattr(e, "id", None)}
        if ids and arm:
            self._await_ids |= ids
            self.armed = False
        return echoes

    def _interrupt_sent(self) -> None:
        """`user.interrupt` is out: any idle from now on ends the read."""
        self.armed = True

    @staticmethod
    def _api_failure(exc: Exception) -> bool:
        """Whether `exc` is the API failing (a status, no answer, a broken stream), as opposed to an
        error of our own handlers, which the drivers re-raise untouched."""
        return isinstance(exc, BadFrame) or is_connection_error(exc) or isinstance(getattr(exc, "status_code", None), int)

    @staticmethod
    def _send_failure(exc: Exception) -> AgentAPIError:
        """A failed send (an `_api_failure`) as the error to report if no attempt succeeds; raised
        at once when resending cannot help (a 4xx other than 408/409/429)."""
        error = api_error(exc)
        if not is_retryable(error):
            raise error from exc
        return error

    @staticmethod
    def _send_wait(attempt: int, failure: BaseException | None) -> float:
        """The wait before resending: what the failed answer asked (`retry-after`), else the backoff."""
        return retry_wait(attempt, failure)

    @staticmethod
    def _gave_up(last: AgentAPIError | None) -> AgentAPIError:
        why = "the API is unreachable" if last is None or last.connection else str(last)
        return AgentAPIError(f"could not send the message after {SEND_ATTEMPTS} attempts: {why}",
                             status=None if last is None else last.status,
                             connection=last is None or last.connection)

    # -- reading -----------------------------------------------------------------------------
    def _stream_options(self, deadline: float | None) -> dict[str, Any]:
        """Keyword arguments of `events.stream`: the read timeout ends within the deadline."""
        import httpx2

        read = READ_TIMEOUT if deadline is None else max(0.05, min(READ_TIMEOUT, deadline - time.monotonic()))
        kw: dict[str, Any] = {"timeout": httpx2.Timeout(600.0, connect=10.0, read=read)}
        if self.deltas:
            kw["event_deltas"] = DELTA_TYPES
        return kw

    def _take(self, event: Any) -> str:
        """Fold one event in (dedupe, arming, `on_event`); whether it ends the turn: `GO_ON`,
        `ENDS`, or `ASKS` (a requires_action idle: the driver asks `on_requires_action`)."""
        if getattr(event, "type", None) in _PREVIEWS:  # the per-delta path: no id, never a stop
            self.on_event(event)
            return GO_ON
        key = event_key(event)
        if key is not None:
            if key in self.seen:
                return GO_ON
            self.seen.add(key)
            stamp = getattr(event, "processed_at", None)
            if isinstance(stamp, datetime) and (self.mark is None or stamp > self.mark):
                self.mark = stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
            # Our echo arms the stop checks. A queued user.message (processed_at None) is not
            # enough: events of an earlier turn may still come before it is taken.
            if key[0] in self._await_ids and not (key[1] and event_type(event) == "user.message"):
                self.armed = True
        self.on_event(event)
        return self._stop_verdict(event) if self.armed else GO_ON

    def backfill_query(self) -> dict[str, Any]:
        """The `events.list` arguments of a backfill: oldest first and, once this loop has read a
        processed event, only events processed from `BACKFILL_MARGIN` before the newest one it read
        (`created_at_gte`, compared with `processed_at`): anything this loop has not read came
        after it, and a session of thousands of events is not listed (and parsed) whole on every
        turn. The few listed again are dropped as seen. Not for the echo lookup of a send: a
        queued echo has no `processed_at` yet, and a time filter never matches it."""
        query: dict[str, Any] = dict(HISTORY)
        if self.mark is not None:
            since = (self.mark - BACKFILL_MARGIN).astimezone(timezone.utc)
            query["created_at_gte"] = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return query

    def _stop_verdict(self, event: Any) -> str:
        etype = event_type(event)
        if etype in TERMINAL_TYPES:
            self.final, self.stopped_by = event, etype
            return ENDS
        if etype != "session.status_idle":
            return GO_ON
        self.final, self.stopped_by = event, _stop_type(event) or "idle"
        # requires_action: the handler sends the answers (the loop keeps reading) or declines (we stop, waiting).
        return ASKS if self.stopped_by == "requires_action" else ENDS

    def _resting(self, listed: list[Any]) -> Any:
        """Following (no send): the session's last idle (or end) when this loop took it before and
        nothing that starts work came after it, else None. Nothing runs then, so the read ends
        there rather than wait for events that will not come (also the drain after an interrupt
        sent to a session already idle). Work starts again after a user event other than an
        interrupt (a message, an answer), a running/rescheduled status, or a budget raised on a
        session paused at its budget (`session.updated` after a `budget_reached` idle)."""
        for i in range(len(listed) - 1, -1, -1):
            etype = event_type(listed[i])
            if (etype.startswith("user.") and etype != "user.interrupt") or etype in (
                    "session.status_running", "session.status_rescheduled"):
                return None  # (an interrupt starts nothing: sent to an idle session it is a no-op)
            if etype == "session.status_idle" or etype in TERMINAL_TYPES:
                rest = listed[i]
                if _stop_type(rest) == "budget_reached" and any(
                        event_type(e) == "session.updated" for e in listed[i + 1:]):
                    return None
                key = event_key(rest)
                return rest if key is not None and key in self.seen else None
        return None

    def _rest_verdict(self, event: Any) -> str:
        return self._stop_verdict(event) if self.armed else GO_ON
    def _all_seen(self, page: dict[str, Any]) -> bool:
        """Whether a raw `events.list` page (wire JSON) is one page holding only events seen
        already (by their `event_key`): then the backfill has nothing to hand on."""
        items = page.get("data")
        if page.get("next_page") or not isinstance(items, list):
            return False
        return all(isinstance(i, dict) and i.get("id") and (str(i["id"]), i.get("processed_at") is None) in self.seen
                   for i in items)

    @contextmanager
    def _cut_at(self, deadline: float | None, stream: Any, schedule: Schedule) -> Iterator[None]:
        """While `stream` is open: cut it at the deadline (`schedule` runs the cut then). The read's
        failure that follows is the deadline's (`_failure`), not a reason to reconnect."""
        self._cut = False
        if deadline is None:
            yield
            return

        def cut() -> None:
            self._cut = True
            cut_stream(stream)

        cancel = schedule(max(0.0, deadline - time.monotonic()), cut)
        try:
            yield
        finally:
            cancel()

    def _failure(self, exc: Exception) -> str:
        """What a failed connection means: the deadline's cut, or `_reconnect_reason`."""
        if self._cut:
            raise DeadlineExceeded() from None
        return self._reconnect_reason(exc)

    def _read_one(self, deadline: float | None) -> None:
        """An event came on the stream: the connection is healthy again (`_check`, inlined: once per event)."""
        if deadline is not None and time.monotonic() >= deadline:
            raise DeadlineExceeded()
        self._failures = 0

    @staticmethod
    def _reconnect_reason(exc: Exception) -> str:
        """Why the stream is opened again after `exc`. What is not an `_api_failure` (an error of
        our own handlers) is raised untouched; a status a retry cannot fix, as the one-line error."""
        if not BaseEventLoop._api_failure(exc):
            raise exc
        if isinstance(exc, BadFrame):
            return "a malformed event frame"  # lost from this stream only: the backfill lists it
        if is_connection_error(exc):
            return type(exc).__name__
        status = exc.status_code  # type: ignore[attr-defined]  # an APIStatusError
        if not retryable_status(status):
            raise api_error(exc) from exc
        return f"HTTP {status}"

    def _reconnecting(self, reason: str, deadline: float | None, failure: BaseException | None = None) -> float:
        """Count and announce a reconnect; the seconds to wait first (what a refused open asked with
        `retry-after`, else the backoff; never past the deadline)."""
        self._check(deadline)
        self.reconnects += 1
        self._failures += 1
        self.on_notice(f"reconnecting… ({reason})")
        wait = retry_wait(self._failures, failure)
        return wait if deadline is None else min(wait, max(0.0, deadline - time.monotonic()))

    @staticmethod
    def _check(deadline: float | None) -> None:
        if deadline is not None and time.monotonic() >= deadline:
            raise DeadlineExceeded()


class EventLoop(BaseEventLoop):
    """Reads one session's events on the SDK's sync client until the turn ends."""

    def send(self, events: list[dict[str, Any]], *, arm: bool = True, known: set[str] | None = None) -> list[Any]:
        """Send once (no SDK retries); after a failure worth retrying, resend only if no echo is
        listed. With `arm`, the loop's stop checks wait for these events' echo. `known`: the ids
        that cannot be the echo (default: every id seen so far)."""
        api = self.client.with_options(max_retries=0).beta.sessions.events
        before = self.known_ids() if known is None else known
        last = failure = None
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                self.meter.sent(events, resend=attempt > 1)
                return self._sent(list(api.send(self.session_id, events=events).data), arm)
            except Exception as exc:
                if not self._api_failure(exc):
                    raise
                last, failure = self._send_failure(exc), exc
            # The request may have been applied before the failure: look for our echo first.
            echoes = self._find_echoes(events, before)
            if echoes:
                return self._sent(echoes, arm)
            self.sleep(self._send_wait(attempt, failure))
        raise self._gave_up(last)

    def interrupt(self) -> None:
        """Send `user.interrupt`; any idle from now on ends the read."""
        self.send(INTERRUPT, arm=False)
        self._interrupt_sent()

    def _find_echoes(self, events: list[dict[str, Any]], before: set[str]) -> list[Any]:
        try:
            listed = self._list()
        except Exception:  # still unreachable: the caller retries
            return []
        return self.match_echoes(events, listed, before)

    def history(self) -> list[Any]:
        """Every event of the session so far, oldest first (`events.list`, pages of 1000)."""
        return self._list()

    def _list(self, **query: Any) -> list[Any]:
        return list(self.client.beta.sessions.events.list(self.session_id, **(query or HISTORY)))

    def _unseen_history(self) -> list[Any]:
        """The first connection's backfill: `_list()`, unless the raw page (the SDK's own
        `with_raw_response`) shows only events seen already — the usual case, a turn after a turn
        this loop read to its end — and then nothing is parsed: the SDK building its models for an
        events page the first time costs 0.05-0.3 s per process (pydantic builds the schema of
        the event union). Anything new: the same response parsed by the SDK, every page."""
        raw = self.client.beta.sessions.events.with_raw_response.list(self.session_id, **self.backfill_query())
        try:
            page = raw.http_response.json()
        except ValueError:  # not JSON: the SDK's own parse says what is wrong
            page = None
        return [] if isinstance(page, dict) and self._all_seen(page) else list(raw.parse())

    def _open(self, deadline: float | None) -> Any:
        # No SDK retries: the loop reconnects itself, within the deadline.
        api = self.client.with_options(max_retries=0).beta.sessions.events
        return api.stream(self.session_id, **self._stream_options(deadline))

    def _handle(self, event: Any) -> bool:
        """Fold one event in; True when the turn is over."""
        return self._ends(self._take(event), event)

    def _ends(self, verdict: str, event: Any) -> bool:
        return verdict is ENDS or (verdict is ASKS and not self.on_requires_action(event))

    def run(self, send: list[dict[str, Any]] | None = None, *, deadline: float | None = None) -> Any:
        """Read until the turn ends; returns the final event. Raises DeadlineExceeded after `deadline`."""
        self._failures = 0
        while True:
            self._check(deadline)
            try:
                with self._open(deadline) as stream, self._cut_at(deadline, stream, _timer):
                    if send is not None:
                        known = self.known_ids()  # (the echo lookup's reference, as before the backfill)
                        with alongside(self._unseen_history, "nb_agents-backfill") as listing:  # with the send
                            self.send(send, known=known)
                            send = None  # sent: a failed backfill reconnects, it never sends again
                            listed = listing.result()
                        for event in listed:  # (after the send: its echo arms the stop checks)
                            if self._handle(event):
                                return self.final
                    else:
                        listed = self._list(**self.backfill_query())
                        rest = self._resting(listed)
                        for event in listed:
                            if self._handle(event):
                                return self.final
                        if rest is not None and self._ends(self._rest_verdict(rest), rest):
                            return self.final
                    for event in frames(stream):  # (the per-delta path: no call that a delta does not need)
                        verdict = self._take(event)
                        if verdict is not GO_ON and self._ends(verdict, event):
                            return self.final
                        self._read_one(deadline)
                reason, failure = "the stream ended", None
            except Exception as exc:
                reason, failure = self._failure(exc), exc
            self.sleep(self._reconnecting(reason, deadline, failure))
