"""A scripted client for the event loop: events built from wire JSON, a fake stream that can be cut, a
fake client that records what was sent."""

from __future__ import annotations

from types import SimpleNamespace

from nb_agents.api import EventLoop
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
        raw = SimpleNamespace(list=self._raw_list)
        events = SimpleNamespace(stream=self._stream, list=self._list, send=self._send, with_raw_response=raw)
        self.beta = SimpleNamespace(sessions=SimpleNamespace(events=events))
        self.raw_lists = 0

    def with_options(self, **kw):
        return self

    def _stream(self, session_id, **kw):
        self.opened += 1
        item = self.streams.pop(0) if self.streams else ([], None)
        events, error = item if isinstance(item, tuple) else (item, None)
        return FakeStream(events, error)

    def _list(self, session_id, **kw):
        return list(self.listed.pop(0) if len(self.listed) > 1 else self.listed[0])

    def _raw_list(self, session_id, **kw):
        """`with_raw_response.list`: the next `list` answer, as wire JSON and `.parse()`d."""
        self.raw_lists += 1
        listed = self._list(session_id, **kw)
        page = {"data": [e.model_dump(mode="json") for e in listed], "next_page": None}
        return SimpleNamespace(http_response=SimpleNamespace(json=lambda: page), parse=lambda: listed)

    def _send(self, session_id, events):
        if self.send_errors:
            raise self.send_errors.pop(0)
        self.sent.append(events)
        return SimpleNamespace(data=[ev(e["type"], "sevt_U", processed=False) for e in events])


def make_loop(client, seen=(), **kw):
    got, notes = [], []
    kw.setdefault("sleep", lambda s: None)
    loop = EventLoop(client, "sesn_1", on_event=got.append, on_notice=notes.append, seen=seen, **kw)
    return loop, got, notes


MSG = [{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]
