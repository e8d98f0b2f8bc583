"""The event loop's core (`BaseEventLoop`: echo matching, dedupe, arming, failure classification,
no I/O), and the proof that its two drivers agree: the same scripted session read by the sync
`EventLoop` and the async `AsyncEventLoop` gives the same events, notices, sends and errors; the
sync and async turns report a drain's outcome the same way; both clients start the emulator."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import anthropic
import httpx2
import pytest
from stream_fakes import MSG, FakeClient, ev, idle
from turn_fakes import make_turn, notes

from nb_agents.api import client as nb_client
from nb_agents.api.async_stream import AsyncEventLoop
from nb_agents.api.stream import (
    ASKS,
    ENDS,
    GO_ON,
    BadFrame,
    BaseEventLoop,
    DeadlineExceeded,
    EventLoop,
    event_key,
)
from nb_agents.config import Options
from nb_agents.errors import AgentAPIError, SessionError
from nb_agents.sessions.asynchronous import _adrain


def status_error(status: int) -> anthropic.APIStatusError:
    request = httpx2.Request("GET", "http://x/v1/sessions/sesn_1/events/stream")
    body = {"error": {"type": "some_error", "message": "no"}}
    return anthropic.APIStatusError("no", response=httpx2.Response(status, request=request, json=body), body=body)


def conn_error() -> anthropic.APIConnectionError:
    return anthropic.APIConnectionError(request=httpx2.Request("POST", "http://x/v1/sessions/sesn_1/events"))


def core(**kw) -> tuple[BaseEventLoop, list]:
    got: list = []
    return BaseEventLoop(None, "sesn_1", on_event=got.append, **kw), got


# -- the core's pure methods ---------------------------------------------------------------------
def test_echoes_match_by_type_and_content_never_twice_and_not_before():
    hi = ev("user.message", "sevt_1", content=[{"type": "text", "text": "hi"}])
    hi2 = ev("user.message", "sevt_2", content=[{"type": "text", "text": "hi"}])
    other = ev("user.message", "sevt_3", content=[{"type": "text", "text": "other"}])
    two = MSG + MSG
    assert BaseEventLoop.match_echoes(MSG, [other, hi], set()) == [hi]
    assert BaseEventLoop.match_echoes(two, [hi, other, hi2], set()) == [hi, hi2]
    assert BaseEventLoop.match_echoes(two, [hi, other], set()) == []  # one echo cannot answer two sends
    assert BaseEventLoop.match_echoes(MSG, [hi], {"sevt_1"}) == []  # seen before the send: not ours
    result = [{"type": "user.custom_tool_result", "custom_tool_use_id": "c1", "content": []}]
    listed = ev("user.custom_tool_result", "sevt_R", custom_tool_use_id="c2", content=[])
    assert BaseEventLoop.match_echoes(result, [listed], set()) == []


def test_take_dedupes_by_id_and_processed_copy_and_passes_deltas():
    loop, got = core()
    queued, processed = ev("user.message", "sevt_U", processed=False, content=[]), ev("user.message", "sevt_U", content=[])
    delta = ev("event_delta", event_id="sevt_A", delta={"type": "content_delta", "index": 0,
                                                        "content": {"type": "text", "text": "y"}})
    assert event_key(queued) == ("sevt_U", True) and event_key(processed) == ("sevt_U", False)
    assert event_key(delta) is None
    for event in (queued, queued, processed, processed, delta, delta):
        loop._take(event)
    assert got == [queued, processed, delta, delta]


def test_take_arms_on_the_processed_echo_and_gives_verdicts():
    loop, _ = core()
    loop._sent([ev("user.message", "sevt_U", processed=False, content=[])], arm=True)
    assert not loop.armed
    assert loop._take(idle("sevt_OLD")) == GO_ON  # an earlier turn's idle, before our echo
    assert loop._take(ev("user.message", "sevt_U", processed=False, content=[])) == GO_ON and not loop.armed
    assert loop._take(ev("user.message", "sevt_U", content=[])) == GO_ON and loop.armed
    assert loop._take(idle("sevt_W", "requires_action", event_ids=["x"])) == ASKS
    assert loop.stopped_by == "requires_action"
    assert loop._take(idle("sevt_I")) == ENDS and loop.final.id == "sevt_I" and loop.stopped_by == "end_turn"
    assert loop._take(ev("session.deleted", "sevt_D")) == ENDS and loop.stopped_by == "session.deleted"
    loop._sent([ev("user.interrupt", "sevt_X", processed=False)], arm=False)
    assert loop.armed  # arm=False: an interrupt's echo does not hold the stop checks back


def test_failures_are_classified_by_type_and_status():
    assert not BaseEventLoop._api_failure(json.JSONDecodeError("x", "{", 0))  # our handler's error
    assert not BaseEventLoop._api_failure(AgentAPIError("x", status=503))  # already reported
    assert not BaseEventLoop._api_failure(DeadlineExceeded())
    for exc, reason in [(BadFrame("x"), "a malformed event frame"), (conn_error(), "APIConnectionError"),
                        (httpx2.ReadTimeout("slow"), "ReadTimeout"), (status_error(503), "HTTP 503"),
                        (status_error(409), "HTTP 409")]:
        assert BaseEventLoop._api_failure(exc) and BaseEventLoop._reconnect_reason(exc) == reason
    with pytest.raises(AgentAPIError, match=r"API error 404 \(some_error\): no") as info:
        BaseEventLoop._reconnect_reason(status_error(404))
    assert info.value.status == 404


def test_send_failures_carry_status_and_the_last_one_is_reported():
    failure = BaseEventLoop._send_failure(status_error(503))
    assert failure.status == 503
    with pytest.raises(AgentAPIError) as info:
        BaseEventLoop._send_failure(status_error(400))
    assert info.value.status == 400
    gave_up = BaseEventLoop._gave_up(failure)
    assert gave_up.status == 503 and str(gave_up).startswith("could not send the message after 4 attempts: API error 503")
    gave_up = BaseEventLoop._gave_up(BaseEventLoop._send_failure(conn_error()))
    assert gave_up.connection and str(gave_up).endswith("after 4 attempts: the API is unreachable")


# -- the two drivers agree -----------------------------------------------------------------------
class FakeAsyncStream:
    def __init__(self, stream):
        self.stream = stream

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def __aiter__(self):
        for event in self.stream:
            yield event


class FakeAsyncClient:
    """`FakeClient`'s script, awaited."""

    def __init__(self, sync: FakeClient):
        self.sync = sync
        events = SimpleNamespace(stream=self._stream, list=self._list, send=self._send)
        self.beta = SimpleNamespace(sessions=SimpleNamespace(events=events))

    def with_options(self, **kw):
        return self

    async def _stream(self, session_id, **kw):
        return FakeAsyncStream(self.sync._stream(session_id, **kw))

    async def _list(self, session_id, **kw):
        for event in self.sync._list(session_id, **kw):
            yield event

    async def _send(self, session_id, events):
        return self.sync._send(session_id, events)


def _bad_frame() -> json.JSONDecodeError:
    return json.JSONDecodeError("Expecting property name", "{not json", 1)


ECHO = ev("user.message", "sevt_U", content=[{"type": "text", "text": "hi"}])
QUEUED = ev("user.message", "sevt_U", processed=False, content=[{"type": "text", "text": "hi"}])
SCRIPTS = {
    "a 404 is raised at once": lambda: (FakeClient([([], status_error(404))], [[]]), None),
    "a 503 reconnects": lambda: (FakeClient([([], status_error(503)), [idle("sevt_I")]], [[]]), None),
    "a cut stream reconnects and backfills": lambda: (
        FakeClient([([ECHO], httpx2.RemoteProtocolError("cut")), [idle("sevt_I")]], [[], [ECHO]]), MSG),
    "a malformed frame reconnects": lambda: (FakeClient([([ECHO], _bad_frame()), [idle("sevt_I")]], [[], [ECHO]]), MSG),
    # (the backfill goes out with the send: every list, whichever comes first, sees the queued echo)
    "a lost send is found, not resent": lambda: (
        FakeClient([[ECHO, idle("sevt_I")]], [[QUEUED]], send_errors=[conn_error()]), MSG),
    "a 503 send is retried": lambda: (FakeClient([[ECHO, idle("sevt_I")]], [[]], send_errors=[status_error(503)]), MSG),
    "a 400 send is raised at once": lambda: (FakeClient([[]], [[]], send_errors=[status_error(400)]), MSG),
    "an unreachable API gives up after 4 sends": lambda: (FakeClient([[]], [[]], send_errors=[conn_error()] * 4), MSG),
    "requires_action asks the handler": lambda: (
        FakeClient([[ECHO, idle("sevt_W", "requires_action", event_ids=["c"]), idle("sevt_I")]], [[]]), MSG),
}


def _read(name: str, driver: str) -> tuple[dict, list, list]:
    """Read script `name` with one driver: (outcome, events handed on, notices)."""
    client, send = SCRIPTS[name]()
    events: list = []
    noted: list = []
    kw = dict(on_event=events.append, on_notice=noted.append, sleep=lambda s: None, on_requires_action=lambda e: True)

    async def no_wait(seconds: float) -> None:
        return None

    loop = EventLoop(client, "sesn_1", **kw)
    aloop = AsyncEventLoop(None, FakeAsyncClient(client), "sesn_1", asleep=no_wait, **kw)
    try:
        final = loop.run(send=send) if driver == "sync" else asyncio.run(aloop.arun(send=send))
        result = final.id
    except Exception as exc:  # noqa: BLE001 - compared between the drivers
        result = (type(exc).__name__, str(exc), getattr(exc, "status", None), getattr(exc, "connection", None))
    used = loop if driver == "sync" else aloop
    outcome = {"result": result, "stopped_by": used.stopped_by, "reconnects": used.reconnects,
               "sent": client.sent, "opened": client.opened, "seen": sorted(used.seen)}
    return outcome, [(e.type, getattr(e, "id", None)) for e in events], noted


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_sync_and_async_drivers_read_a_script_the_same_way(name):
    assert _read(name, "sync") == _read(name, "async")


# -- the sync and async turns drain the same way ---------------------------------------------------
class DrainLoop:
    """What a drain calls on the loop, sync and async; `error` is raised by the interrupt."""

    def __init__(self, error: BaseException | None = None, read_error: BaseException | None = None):
        self.error, self.read_error, self.calls = error, read_error, []

    def interrupt(self):
        self.calls.append("interrupt")
        if self.error is not None:
            raise self.error

    def run(self, deadline=None):
        self.calls.append("run")
        if self.read_error is not None:
            raise self.read_error

    async def ainterrupt(self):
        self.interrupt()

    async def arun(self, deadline=None):
        self.run(deadline)


@pytest.mark.parametrize("error,read_error,expected", [
    (None, None, "Interrupted: the agent was stopped; everything received so far is kept."),
    (SessionError("no such session"), None, "could not interrupt: no such session"),  # not an AgentAPIError
    (AgentAPIError("API error 500", status=500), None, "could not interrupt: API error 500"),
    (None, DeadlineExceeded(), "interrupted; the session may still be running: `%agent interrupt` stops it"),
])
def test_sync_and_async_drains_report_the_same(error, read_error, expected):
    said = []
    for driver in ("sync", "async"):
        turn, _ = make_turn([])
        loop = DrainLoop(error, read_error)
        if driver == "sync":
            turn.loop = loop
            turn._drain()
        else:
            asyncio.run(_adrain(turn, loop))
        said.append((notes(turn), loop.calls))
    assert said[0] == said[1] and said[0][0] == [expected]


def test_both_clients_start_the_emulator_when_offline(monkeypatch):
    started = []

    def go_offline():
        started.append(True)
        monkeypatch.setattr(nb_client, "_emulator", SimpleNamespace(base_url="http://127.0.0.1:9/"))

    for make in (nb_client.make_client, nb_client.make_async_client):
        monkeypatch.setattr(nb_client, "_emulator", None)
        monkeypatch.setattr(nb_client, "go_offline", go_offline)
        made = make(Options(offline=True))
        assert str(made.base_url) == "http://127.0.0.1:9/" and made.api_key == "offline-emulator"
        closed = made.close()
        if asyncio.iscoroutine(closed):
            asyncio.run(closed)
    assert started == [True, True]


def test_following_a_session_at_rest_ends_at_its_last_idle():
    """`_resting`: the history's last idle, already taken, with nothing after it that starts work."""
    msg, done = ev("user.message", "u1", content=[{"type": "text", "text": "hi"}]), idle("i1")
    loop, _ = core()
    assert loop._resting([msg, done]) is None  # not taken yet: the usual reading ends there
    loop._take(msg), loop._take(done)
    assert loop._resting([msg, done]) is done
    assert loop._resting([msg, done, ev("user.interrupt", "x1")]) is done  # an interrupt starts nothing
    assert loop._resting([msg, done, ev("session.updated", "s1")]) is done
    assert loop._resting([msg, done, ev("user.message", "u2", content=[])]) is None  # a new turn is coming
    assert loop._resting([msg, done, ev("session.status_running", "r1")]) is None
    paused = idle("i2", "budget_reached")
    loop._take(paused)
    assert loop._resting([msg, paused]) is paused  # paused at its budget, nobody raised it
    assert loop._resting([msg, paused, ev("session.updated", "s2")]) is None  # raised: it resumes
    assert loop._resting([]) is None


def test_the_backfill_lists_from_a_second_before_the_newest_processed_event_read():
    loop = BaseEventLoop(None, "sesn_1", on_event=lambda e: None)
    assert loop.backfill_query() == {"limit": 1000, "order": "asc"}  # nothing read yet: everything
    loop._take(ev("user.message", "sevt_Q", processed=False, content=[]))  # queued: no time yet
    assert "created_at_gte" not in loop.backfill_query()
    loop._take(idle("sevt_I"))  # processed at 16:24:35.000001Z
    assert loop.backfill_query()["created_at_gte"] == "2026-10-08T16:24:34.000001Z"
    shared = AsyncEventLoop.sharing(loop, aclient=None)
    assert shared.backfill_query() == loop.backfill_query()
