"""The event loop counts every send attempt it puts on the wire into its meter (egress.py): the
turn's message once, a resend after a failed attempt again, nothing for an echo found instead."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx2
from stream_fakes import MSG, FakeClient, ev, idle, make_loop

from nb_agents.api import AsyncEventLoop
from nb_agents.egress import EgressMeter, event_bytes


def _conn_error():
    import anthropic

    return anthropic.APIConnectionError(request=httpx2.Request("POST", "http://x/v1/sessions/sesn_1/events"))


def _metered(client):
    loop, _, _ = make_loop(client)
    loop.meter = EgressMeter()
    loop.meter.begin("t")
    return loop


def test_one_send_counts_once():
    client = FakeClient([[ev("user.message", "sevt_U", content=[]), idle("sevt_I")]], [[]])
    loop = _metered(client)
    loop.run(send=MSG)
    row = loop.meter.finish()
    assert (row.sends, row.resends, row.prompt_bytes, row.prompt_chars) == (1, 0, event_bytes(MSG[0]), 2)


def test_a_resend_counts_again_and_a_found_echo_does_not():
    other = ev("user.message", "sevt_OTHER", content=[{"type": "text", "text": "someone else"}])
    client = FakeClient([[ev("user.message", "sevt_U", content=[]), idle("sevt_I")]], [[other]],
                        send_errors=[_conn_error()])
    loop = _metered(client)
    loop.run(send=MSG)  # the first attempt failed with no echo listed: sent again
    row = loop.meter.finish()
    assert (row.sends, row.resends, row.prompt_bytes) == (2, 1, 2 * event_bytes(MSG[0]))

    mine = ev("user.message", "sevt_U", processed=False, content=[{"type": "text", "text": "hi"}])
    stream = [ev("user.message", "sevt_U", content=[{"type": "text", "text": "hi"}]), idle("sevt_I")]
    client = FakeClient([stream], [[other, mine]], send_errors=[_conn_error()])
    loop = _metered(client)
    loop.run(send=MSG)  # the echo was listed: no second attempt
    assert loop.meter.finish().sends == 1


def test_the_async_driver_counts_into_the_shared_meter():
    sent = []

    async def send(session_id, events):
        sent.append(events)
        return SimpleNamespace(data=[ev(e["type"], "sevt_U", processed=False) for e in events])

    aclient = SimpleNamespace(beta=SimpleNamespace(sessions=SimpleNamespace(events=SimpleNamespace(send=send))))
    aclient.with_options = lambda **kw: aclient
    loop = _metered(FakeClient([], [[]]))
    aloop = AsyncEventLoop.sharing(loop, aclient)
    assert aloop.meter is loop.meter
    asyncio.run(aloop.asend(MSG))
    assert sent == [MSG] and loop.meter.finish().sends == 1
