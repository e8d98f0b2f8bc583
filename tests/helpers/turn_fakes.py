"""A Turn over a scripted loop (no server): custom tool calls, their answers and the idles between."""

from __future__ import annotations

from types import SimpleNamespace

from nb_agents.config import Options
from nb_agents.events import event_from_json
from nb_agents.sessions import Turn
from nb_agents.tools import ActionHandler

T = "2026-11-25T04:00:00Z"


def lookup(key: str) -> str:
    """Look a key up."""
    return key.upper()


def use(eid: str, name: str = "lookup"):
    return event_from_json(
        {"type": "agent.custom_tool_use", "id": eid, "processed_at": T, "name": name, "input": {"key": eid}}
    )


def answer(eid: str):
    return event_from_json(
        {
            "type": "user.custom_tool_result",
            "id": f"r_{eid}",
            "processed_at": T,
            "custom_tool_use_id": eid,
            "content": [{"type": "text", "text": "ok"}],
        }
    )


def idle(*ids: str):
    return event_from_json(
        {
            "type": "session.status_idle",
            "id": "sevt_I",
            "processed_at": T,
            "stop_reason": {"type": "requires_action", "event_ids": list(ids)},
        }
    )


class Loop:
    def __init__(self):
        self.sent = []

    def send(self, params, arm=True):
        self.sent.append(params)


def make_turn(events, pending=()):
    loop = Loop()
    history = SimpleNamespace(requires_action=bool(pending), pending_action_ids=tuple(pending))
    session = SimpleNamespace(
        offline=True,
        session_id="sesn_1",
        loop=lambda: loop,
        events=list(events),
        action_handler=ActionHandler([lookup]),
        history=history,
    )
    return Turn(session, Options(), "hi", live=False), loop


def notes(turn):
    return [i.text for i in turn.t.items if type(i).__name__ == "Notice"]
