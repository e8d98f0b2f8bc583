"""EventLoop rules on scripted event sequences (no server): arming, dedupe, stop rules, reconnects."""

from __future__ import annotations

import threading

import httpx2
import pytest
from stream_fakes import MSG, FakeClient, ev, idle, make_loop

from nb_agents.api.stream import DeadlineExceeded, event_key
from nb_agents.errors import AgentAPIError


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


def test_a_backfill_of_events_seen_already_is_not_parsed_and_a_new_one_is_handed_on():
    old = [ev("user.message", "sevt_0", content=[]), idle("sevt_I0")]
    turn = [ev("user.message", "sevt_U", content=[]), idle("sevt_I1")]
    parsed = []

    def counting(client):
        raw_list = client.beta.sessions.events.with_raw_response.list

        def listed(*a, **kw):
            response = raw_list(*a, **kw)
            parse = response.parse
            response.parse = lambda: parsed.append(1) or parse()
            return response

        client.beta.sessions.events.with_raw_response.list = listed
        return client

    loop, got, _ = make_loop(counting(FakeClient([turn], [old])), seen={event_key(e) for e in old})
    assert loop.run(send=MSG).id == "sevt_I1" and parsed == []  # the history was all seen: not parsed
    assert [e.id for e in got] == ["sevt_U", "sevt_I1"]
    other = ev("agent.message", "sevt_X", content=[])  # e.g. another client's, since our last read
    loop, got, _ = make_loop(counting(FakeClient([turn], [old + [other]])), seen={event_key(e) for e in old})
    assert loop.run(send=MSG).id == "sevt_I1" and parsed == [1]
    assert [e.id for e in got] == ["sevt_X", "sevt_U", "sevt_I1"]


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


def test_a_refused_stream_waits_what_the_server_asked_before_reconnecting():
    import anthropic

    request = httpx2.Request("GET", "http://x/v1/sessions/sesn_1/events/stream")
    busy = anthropic.APIStatusError("busy", response=httpx2.Response(503, request=request,
                                                                     headers={"retry-after": "2.5"}), body=None)
    echo = ev("user.message", "sevt_U", content=[])
    client = FakeClient([([], busy), ([], httpx2.RemoteProtocolError("cut")), [echo, idle("sevt_I")]], [[]])
    waits: list[float] = []
    loop, _, notes = make_loop(client, sleep=waits.append)
    assert loop.run(send=MSG).id == "sevt_I"
    assert notes == ["reconnecting… (HTTP 503)", "reconnecting… (RemoteProtocolError)"]
    assert waits[0] == 2.5 and waits[1] < 2.5  # the server's retry-after, then the backoff (attempt 2: 0.5–1.5 s)


def test_the_backfill_goes_out_with_the_send_and_an_old_idle_it_lists_does_not_end_the_turn():
    """One round trip per cell: the list is in flight while the send is (each waits, at most
    10 s, for the other to start); the previous turn's idle it lists is handed on after the send
    armed the stop checks, so only this turn's idle ends the read."""
    old = [ev("user.message", "sevt_0", content=[]), idle("sevt_I0")]
    started = {"list": threading.Event(), "send": threading.Event()}
    overlapped = {}

    class Both(FakeClient):
        def _raw_list(self, session_id, **kw):
            started["list"].set()
            overlapped["list"] = started["send"].wait(10)
            return super()._raw_list(session_id, **kw)

        def _send(self, session_id, events):
            started["send"].set()
            overlapped["send"] = started["list"].wait(10)
            return super()._send(session_id, events)

    turn = [ev("user.message", "sevt_U", content=[]), idle("sevt_I1")]
    loop, got, _ = make_loop(Both([turn], [old]))
    assert loop.run(send=MSG).id == "sevt_I1"
    assert overlapped == {"list": True, "send": True}
    assert [e.id for e in got] == ["sevt_0", "sevt_I0", "sevt_U", "sevt_I1"]


def test_a_failed_backfill_after_a_sent_message_reconnects_without_sending_again():
    class ListFailsOnce(FakeClient):
        failed = False

        def _raw_list(self, session_id, **kw):
            if not self.failed:
                self.failed = True
                raise _conn_error()
            return super()._raw_list(session_id, **kw)

    turn = [ev("user.message", "sevt_U", content=[]), idle("sevt_I")]
    client = ListFailsOnce([[], turn], [[]])
    loop, _, notes = make_loop(client)
    assert loop.run(send=MSG).id == "sevt_I"
    assert client.sent == [MSG] and client.opened == 2 and notes and notes[0].startswith("reconnecting")


def test_ctrl_c_during_the_send_does_not_wait_for_the_backfill():
    """The backfill runs beside the send; an interrupted send ends the read at once, without
    waiting for a list that may take minutes on a bad network (the list ends on its own)."""
    release, finished = threading.Event(), threading.Event()

    class SlowList(FakeClient):
        def _raw_list(self, session_id, **kw):
            release.wait(10)
            finished.set()
            return super()._raw_list(session_id, **kw)

        def _send(self, session_id, events):
            raise KeyboardInterrupt

    loop, _, _ = make_loop(SlowList([[]], [[]]))
    with pytest.raises(KeyboardInterrupt):
        loop.run(send=MSG)
    assert not finished.is_set()  # the read ended while the list was still waiting
    release.set()
    assert finished.wait(10)
