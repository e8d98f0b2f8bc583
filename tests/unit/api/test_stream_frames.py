"""EventLoop and broken frames: a `data:` line that is not JSON reconnects (no traceback); a JSON
error raised by our own event handler is not mistaken for one. The stream opens without SDK retries."""

from __future__ import annotations

import json

import pytest
from stream_fakes import MSG, FakeClient, ev, idle, make_loop


def _bad_frame() -> json.JSONDecodeError:
    try:
        json.loads("{not json at all")
    except json.JSONDecodeError as exc:
        return exc
    raise AssertionError("unreachable")


def test_a_malformed_frame_reconnects_and_the_backfill_recovers_the_event():
    echo = ev("user.message", "sevt_U", content=[])
    answer = ev("agent.message", "sevt_A", content=[{"type": "text", "text": "yo"}])
    first = ([echo], _bad_frame())  # the agent.message frame was garbled
    client = FakeClient([first, [idle("sevt_I")]], [[], [echo, answer]])
    loop, got, notes = make_loop(client)
    assert loop.run(send=MSG).id == "sevt_I"
    assert [e.id for e in got] == ["sevt_U", "sevt_A", "sevt_I"]
    assert notes == ["reconnecting… (a malformed event frame)"] and loop.reconnects == 1


def test_a_json_error_in_the_handler_is_not_a_bad_frame():
    def handler(event):
        json.loads("{")

    client = FakeClient([[ev("user.message", "sevt_U", content=[])]], [[]])
    loop, _, notes = make_loop(client)
    loop.on_event = handler
    with pytest.raises(json.JSONDecodeError):
        loop.run()
    assert notes == []


def test_the_stream_opens_without_sdk_retries():
    options: list[dict] = []
    client = FakeClient([[idle("sevt_I")]], [[]])
    plain = client.with_options

    def with_options(**kw):
        options.append(kw)
        return plain(**kw)

    client.with_options = with_options
    loop, _, _ = make_loop(client)
    loop.run()
    assert options == [{"max_retries": 0}]
