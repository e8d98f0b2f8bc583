"""The backfill of a later turn lists only what came since the last event this kernel read
(`created_at_gte`, compared with `processed_at`): a long session is not listed, and parsed, whole
on every cell; yet an event another client caused between two cells is still handed on."""

from __future__ import annotations

import time
from datetime import timedelta

import nb_agents
from nb_agents.api import stream

from .conftest import ECHO


def _spy_backfills(monkeypatch, client):
    """Record the arguments and the page size of every raw `events.list` (the turn's backfill)."""
    raw = client.beta.sessions.events.with_raw_response
    real = raw.list
    calls: list[tuple[dict, int]] = []

    def listed(*args, **kw):
        response = real(*args, **kw)
        calls.append((kw, len(response.http_response.json()["data"])))
        return response

    monkeypatch.setattr(raw, "list", listed)
    return calls


def _wait_idle(client, session_id, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.beta.sessions.retrieve(session_id).status == "idle":
            return
        time.sleep(0.05)
    raise AssertionError("the session did not come back to idle")


def test_a_later_turn_lists_only_what_came_since_the_last_event_read(ip, monkeypatch):
    # (echo turns all fall within the default one-second margin: without it, the tail is small)
    monkeypatch.setattr(stream, "BACKFILL_MARGIN", timedelta(0))
    for word in ("one", "two", "three"):
        ip.run_cell_magic("agent", "--session grow", ECHO + word)
    s = nb_agents.session("grow")
    total = len(s.client.beta.sessions.events.list(s.session_id, limit=1000).data)
    calls = _spy_backfills(monkeypatch, s.client)
    ip.run_cell_magic("agent", "--session grow --out last", ECHO + "four")
    assert ip.user_ns["last"].text.endswith("four")
    [(query, size)] = calls
    assert "created_at_gte" in query and query["order"] == "asc"
    assert 0 < size < total  # the last turn's tail, not the whole history (deduped, not shown twice)
    assert sum(1 for e in s.events if getattr(e, "type", "") == "user.message") == 4


def test_an_exchange_another_client_caused_between_cells_is_still_read(ip, emu):
    ip.run_cell_magic("agent", "--session shared", ECHO + "mine")
    s = nb_agents.session("shared")
    other = emu.client()
    other.beta.sessions.events.send(s.session_id, events=[
        {"type": "user.message", "content": [{"type": "text", "text": ECHO + "from elsewhere"}]}])
    _wait_idle(other, s.session_id)
    ip.run_cell_magic("agent", "--session shared --out after", ECHO + "mine again")
    texts = [block.text for e in s.events if getattr(e, "type", "") == "user.message" for block in e.content]
    assert texts == [ECHO + "mine", ECHO + "from elsewhere", ECHO + "mine again"]
    assert ip.user_ns["after"].text.endswith("mine again")
