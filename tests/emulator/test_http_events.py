"""Events endpoints: send echoes, list (order, types[], time filters, cursors) and raw SSE framing."""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
import httpx2
import pytest

ECHO = {"emulator_brain": "echo"}


def _msg(text: str) -> dict[str, Any]:
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}


@pytest.fixture(scope="module")
def session_id(emulator: Any) -> str:
    """A session with two finished echo turns."""
    c = emulator.client(max_retries=0)
    agent = c.beta.agents.create(name="events", model="claude-sonnet-4-6", metadata=ECHO)
    env = c.beta.environments.create(name="events-env")
    sid = c.beta.sessions.create(agent=agent.id, environment_id=env.id, initial_events=[_msg("first")]).id
    _wait_idle(c, sid, turns=1)
    c.beta.sessions.events.send(sid, events=[_msg("second")])
    _wait_idle(c, sid, turns=2)
    return sid


def _wait_idle(c: Any, sid: str, turns: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        idles = c.beta.sessions.events.list(sid, types=["session.status_idle"]).data
        if len(idles) >= turns:
            return
        time.sleep(0.05)
    raise AssertionError("session did not go idle")


def test_send_returns_echoes_with_ids(client: Any, session_id: str) -> None:
    sent = client.beta.sessions.events.send(session_id, events=[_msg("third")])
    (echo,) = sent.data
    assert echo.type == "user.message" and echo.id.startswith("sevt_")
    _wait_idle(client, session_id, turns=3)
    listed = [e for e in client.beta.sessions.events.list(session_id, types=["user.message"]).data]
    assert [e.id for e in listed][-1] == echo.id and listed[-1].processed_at is not None


def test_list_order_types_and_cursors(client: Any, session_id: str) -> None:
    events = client.beta.sessions.events
    asc = events.list(session_id).data
    stamps = [e.processed_at for e in asc]
    assert stamps == sorted(stamps)
    assert [e.id for e in events.list(session_id, order="desc").data] == [e.id for e in asc][::-1]
    messages = events.list(session_id, types=["user.message", "agent.message"]).data
    assert {e.type for e in messages} == {"user.message", "agent.message"}
    first = events.list(session_id, limit=3)
    assert len(first.data) == 3 and first.next_page
    paged = [e.id for e in events.list(session_id, limit=3)]
    assert paged == [e.id for e in asc]
    cut = asc[len(asc) // 2].processed_at
    later = events.list(session_id, created_at_gte=cut).data
    assert later and all(e.processed_at >= cut for e in later)
    with pytest.raises(anthropic.BadRequestError):
        events.list(session_id, page="page_bogus")
    with pytest.raises(anthropic.BadRequestError):
        events.list(session_id, types=["not.a.type"])  # type: ignore[list-item]
    with pytest.raises(anthropic.NotFoundError):
        events.list("sesn_missing")


def test_invalid_events_are_400(client: Any, session_id: str) -> None:
    bad = [
        [{"type": "user.message", "content": [{"type": "txt", "text": "x"}]}],
        [{"type": "user.tool_confirmation", "tool_use_id": "sevt_x", "result": "maybe"}],
        [{"type": "user.tool_result", "tool_use_id": "sevt_x"}],  # self_hosted only
        [],
        [{"type": "system.message", "content": [{"type": "text", "text": "s"}]}, _msg("after")],
    ]
    for events in bad:
        with pytest.raises(anthropic.BadRequestError):
            client.beta.sessions.events.send(session_id, events=events)


def _raw_stream(
    emulator: Any, sid: str, query: str, stop: str, headers: dict[str, str] | None = None
) -> list[str]:
    url = f"{emulator.base_url}/v1/sessions/{sid}/events/stream{query}"
    lines: list[str] = []
    hdrs = {"x-api-key": "k", "accept": "application/json", **(headers or {})}
    with httpx2.stream("GET", url, headers=hdrs, timeout=10) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["request-id"].startswith("req_")
        for line in resp.iter_lines():
            lines.append(line)
            if stop in line:
                break
    return lines


def test_sse_frames_and_heartbeats(make_emulator: Any) -> None:
    emu = make_emulator(brain="echo", heartbeat_interval=0.1, turn_delay=0.3)
    c = emu.client(max_retries=0)
    agent = c.beta.agents.create(name="sse", model="claude-sonnet-4-6")
    env = c.beta.environments.create(name="sse-env")
    sid = c.beta.sessions.create(
        agent=agent.id, environment_id=env.id, initial_events=[_msg("hello world")]
    ).id
    lines = _raw_stream(emu, sid, "?event_deltas[]=agent.message", '"session.status_idle"')
    assert "event: ping" in lines  # heartbeats while the slow turn runs
    pairs = [
        (a, b)
        for a, b in zip(lines, lines[1:], strict=False)
        if a.startswith("event: ") and a != "event: ping"
    ]
    assert pairs and all(b.startswith("data: ") for _a, b in pairs)
    for a, b in pairs:
        assert json.loads(b[6:])["type"] == a[7:]
    assert any(a == "event: event_delta" for a, _ in pairs)


def test_no_deltas_unless_asked_and_bad_delta_values(client: Any, emulator: Any, session_id: str) -> None:
    with client.beta.sessions.events.stream(session_id) as stream:
        client.beta.sessions.events.send(session_id, events=[_msg("plain")])
        seen = []
        for ev in stream:
            seen.append(ev.type)
            if ev.type == "session.status_idle":
                break
    assert "event_delta" not in seen and "agent.message" in seen
    with pytest.raises(anthropic.BadRequestError):
        client.beta.sessions.events.stream(session_id, event_deltas=["agent.tool_use"])  # type: ignore[list-item]


def test_deleting_a_session_ends_its_stream(client: Any, emulator: Any) -> None:
    agent = client.beta.agents.create(name="del", model="claude-sonnet-4-6", metadata=ECHO)
    env = client.beta.environments.create(name="del-env")
    sid = client.beta.sessions.create(agent=agent.id, environment_id=env.id).id
    with client.beta.sessions.events.stream(sid) as stream:
        client.beta.sessions.delete(sid)
        types = [ev.type for ev in stream]  # ends on its own
    assert types[-1] == "session.deleted"


def test_closed_streams_unsubscribe(make_emulator: Any) -> None:
    emu = make_emulator(brain="echo")
    c = emu.client(max_retries=0)
    agent = c.beta.agents.create(name="subs", model="claude-sonnet-4-6")
    env = c.beta.environments.create(name="subs-env")
    sid = c.beta.sessions.create(agent=agent.id, environment_id=env.id).id
    for _ in range(3):
        with c.beta.sessions.events.stream(sid) as stream:
            c.beta.sessions.events.send(sid, events=[_msg("x")])
            for ev in stream:
                if ev.type == "session.status_idle":
                    break
    deadline = time.monotonic() + 5
    while emu.app.state.streams and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not emu.app.state.streams  # the client hung up: the server let go of its queue
