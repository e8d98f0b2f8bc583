"""EventLoop rules on scripted event sequences (no server): arming, dedupe, stop rules, reconnects."""

from __future__ import annotations

from types import SimpleNamespace

import httpx2
import pytest

from nb_agents.api.stream import DeadlineExceeded, EventLoop, event_key
from nb_agents.errors import AgentAPIError
from nb_agents.events import event_from_json

T = "2026-10-08T16:24:35.000001Z"


def ev(etype, eid=None, processed=True, **fields):
    data = {"type": etype, **fields}
    if eid is not None:
        data["id"] = eid
        data["processed_at"] = T if processed else None
    return event_from_json(data)


def idle(eid, reason="end_turn", **extra):
    return ev("session.status_idle", eid, stop_reason={"type": reason, **extra})


class FakeStream:
    def __init__(self, events, error=None):
        self.events, self.error = events, error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        yield from self.events
        if self.error is not None:
            raise self.error


class FakeClient:
    """`streams`: one list of events (or (events, error)) per connection; `listed`: what list returns
    per call (the last entry repeats); `sent` records sends; the echo id is `sevt_U`."""

    def __init__(self, streams, listed, send_errors=()):
        self.streams, self.listed, self.send_errors = list(streams), list(listed), list(send_errors)
        self.sent, self.opened = [], 0
        events = SimpleNamespace(stream=self._stream, list=self._list, send=self._send)
        self.beta = SimpleNamespace(sessions=SimpleNamespace(events=events))

    def with_options(self, **kw):
        return self

    def _stream(self, session_id, **kw):
        self.opened += 1
        item = self.streams.pop(0) if self.streams else ([], None)
        events, error = item if isinstance(item, tuple) else (item, None)
        return FakeStream(events, error)

    def _list(self, session_id, **kw):
        return list(self.listed.pop(0) if len(self.listed) > 1 else self.listed[0])

    def _send(self, session_id, events):
        if self.send_errors:
            raise self.send_errors.pop(0)
        self.sent.append(events)
        return SimpleNamespace(data=[ev(e["type"], "sevt_U", processed=False) for e in events])


def make_loop(client, seen=(), **kw):
    got, notes = [], []
    loop = EventLoop(client, "sesn_1", on_event=got.append, on_notice=notes.append, seen=seen,
                     sleep=lambda s: None, **kw)
    return loop, got, notes


MSG = [{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]


def test_the_previous_turns_idle_does_not_end_the_new_turn():
    old = [ev("user.message", "sevt_0", content=[]), idle("sevt_I0")]
    turn = [ev("session.status_running", "sevt_R"), ev("user.message", "sevt_U", content=[]),
            ev("agent.message", "sevt_A", content=[{"type": "text", "text": "yo"}]), idle("sevt_I1")]
    client = FakeClient([old + turn], [old])
    loop, got, _ = make_loop(client, seen={event_key(e) for e in old})
    final = loop.run(send=MSG)
    assert final.id == "sevt_I1" and client.sent == [MSG]
    assert [e.id for e in got] == ["sevt_R", "sevt_U", "sevt_A", "sevt_I1"]


def test_queued_echo_does_not_arm_but_the_processed_copy_does():
    stream = [ev("user.message", "sevt_U", processed=False, content=[]), idle("sevt_OLD"),
              ev("user.message", "sevt_U", content=[]), idle("sevt_NEW")]
    loop, got, _ = make_loop(FakeClient([stream], [[]]))
    assert loop.run(send=MSG).id == "sevt_NEW"
    assert [(e.id, e.processed_at is None) for e in got][:2] == [("sevt_U", True), ("sevt_OLD", False)]


def test_deltas_always_pass_and_duplicates_are_dropped():
    delta = ev("event_delta", event_id="sevt_A", delta={"type": "content_delta", "index": 0,
                                                        "content": {"type": "text", "text": "y"}})
    stream = [ev("user.message", "sevt_U", content=[]), delta, delta, ev("user.message", "sevt_U", content=[]),
              idle("sevt_I")]
    loop, got, _ = make_loop(FakeClient([stream], [[]]))
    loop.run(send=MSG)
    assert [e.type for e in got] == ["user.message", "event_delta", "event_delta", "session.status_idle"]


@pytest.mark.parametrize("terminal", ["session.status_terminated", "session.deleted"])
def test_terminated_and_deleted_end_the_turn(terminal):
    stream = [ev("user.message", "sevt_U", content=[]), ev(terminal, "sevt_T")]
    loop, _, _ = make_loop(FakeClient([stream], [[]]))
    assert loop.run(send=MSG).type == terminal and loop.stopped_by == terminal


def test_requires_action_stops_unless_the_handler_answers():
    waiting = idle("sevt_I", "requires_action", event_ids=["sevt_C"])
    stream = [ev("user.message", "sevt_U", content=[]), waiting, idle("sevt_I2")]
    loop, _, _ = make_loop(FakeClient([stream], [[]]))
    assert loop.run(send=MSG).id == "sevt_I" and loop.stopped_by == "requires_action"
    answered = []
    loop, _, _ = make_loop(FakeClient([stream], [[]]), on_requires_action=lambda e: answered.append(e) or True)
    assert loop.run(send=MSG).id == "sevt_I2" and len(answered) == 1


def test_cut_streams_reconnect_backfill_and_keep_one_copy_each():
    first = [ev("user.message", "sevt_U", content=[]), ev("agent.message", "sevt_A", content=[])]
    listed_after_cut = first + [ev("span.model_request_end", "sevt_S", model_request_start_id="x",
                                   model_usage={"input_tokens": 1, "output_tokens": 1,
                                                "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0})]
    client = FakeClient(
        [(first, httpx2.RemoteProtocolError("cut")), ([], None), [idle("sevt_I")]],
        [[], listed_after_cut, listed_after_cut],
    )
    loop, got, notes = make_loop(client)
    assert loop.run(send=MSG).id == "sevt_I"
    assert [e.id for e in got] == ["sevt_U", "sevt_A", "sevt_S", "sevt_I"]
    assert notes == ["reconnecting… (RemoteProtocolError)", "reconnecting… (the stream ended)"]
    assert client.opened == 3 and len(client.sent) == 1 and loop.reconnects == 2


def test_a_client_error_is_one_line_and_not_retried():
    import anthropic

    request = httpx2.Request("GET", "http://x/v1/sessions/sesn_1/events/stream")
    response = httpx2.Response(404, request=request, json={"error": {"type": "not_found_error", "message": "gone"}})
    error = anthropic.NotFoundError("gone", response=response, body={"error": {"type": "not_found_error",
                                                                                  "message": "gone"}})
    client = FakeClient([([], error)], [[]])
    loop, _, _ = make_loop(client)
    with pytest.raises(AgentAPIError, match=r"API error 404 \(not_found_error\): gone"):
        loop.run()
    assert client.opened == 1


def test_deadline_raises_on_the_loop_thread():
    loop, _, _ = make_loop(FakeClient([], [[]]))
    with pytest.raises(DeadlineExceeded):
        loop.run(deadline=0.0)


def _conn_error():
    import anthropic

    return anthropic.APIConnectionError(request=httpx2.Request("POST", "http://x/v1/sessions/sesn_1/events"))


def test_lost_send_response_is_matched_by_content_not_resent():
    other = ev("user.message", "sevt_OTHER", content=[{"type": "text", "text": "someone else"}])
    mine = ev("user.message", "sevt_U", processed=False, content=[{"type": "text", "text": "hi"}])
    stream = [ev("user.message", "sevt_U", content=[{"type": "text", "text": "hi"}]), idle("sevt_I")]
    client = FakeClient([stream], [[other, mine]], send_errors=[_conn_error()])
    loop, _, _ = make_loop(client)
    assert loop.run(send=MSG).id == "sevt_I"
    assert client.sent == []  # the message had arrived: never sent again


def test_unmatched_send_is_retried_then_reported():
    other = ev("user.message", "sevt_OTHER", content=[{"type": "text", "text": "someone else"}])
    client = FakeClient([[]], [[other]], send_errors=[_conn_error()] * 4)
    loop, _, _ = make_loop(client)
    with pytest.raises(AgentAPIError, match="after 4 attempts: the API is unreachable"):
        loop.run(send=MSG)
    client = FakeClient([[ev("user.message", "sevt_U", content=[]), idle("sevt_I")]], [[other]],
                        send_errors=[_conn_error()])
    loop, _, _ = make_loop(client)
    assert loop.run(send=MSG).id == "sevt_I" and client.sent == [MSG]
