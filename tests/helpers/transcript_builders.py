"""Tiny builders of SDK event models for the transcript and renderer tests.

`B()` hands out increasing `sevt_` ids and processed_at times one second apart, and
builds each event through `nb_agents.events.event_from_json` (the SDK's own lenient
constructor), so the tests fold exactly what the stream would deliver.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from nb_agents.events import event_from_json

T0 = datetime(2026, 11, 25, 4, 0, 0, tzinfo=timezone.utc)


def text_blocks(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


class B:
    def __init__(self) -> None:
        self.n = 0

    def next_id(self) -> str:
        self.n += 1
        return f"sevt_{self.n:04d}"

    def stamp(self) -> str:
        return (T0 + timedelta(seconds=self.n)).isoformat().replace("+00:00", "Z")

    def ev(self, type_: str, *, id: str | None = None, queued: bool = False, **fields: Any) -> Any:
        eid = id or self.next_id()
        body: dict[str, Any] = {"type": type_, "id": eid, **fields}
        body["processed_at"] = None if queued else self.stamp()
        return event_from_json(body)

    # session.*
    def running(self) -> Any:
        return self.ev("session.status_running")

    def idle(self, reason: str = "end_turn", event_ids: list[str] | None = None, **kw: Any) -> Any:
        stop: dict[str, Any] = {"type": reason}
        if event_ids is not None:
            stop["event_ids"] = event_ids
        return self.ev("session.status_idle", stop_reason=stop, **kw)

    def error(
        self, etype: str = "model_overloaded_error", message: str = "Overloaded", retry: str = "retrying"
    ) -> Any:
        return self.ev(
            "session.error", error={"type": etype, "message": message, "retry_status": {"type": retry}}
        )

    def usage(
        self, inp: int, out: int, cents: str | None = None, budget: str | None = None, **kw: Any
    ) -> Any:
        usage: dict[str, Any] = {"input_tokens": inp, "output_tokens": out, **kw}
        if cents is not None:
            usage["list_cost"] = {"amount": cents, "currency": "USD"}
        extra = (
            {"budget": {"type": "limit", "max_list_cost": {"amount": budget, "currency": "USD"}}}
            if budget
            else {}
        )
        return self.ev("session.usage", usage=usage, **extra)

    # user.* / agent.*
    def user(self, text: str, **kw: Any) -> Any:
        return self.ev("user.message", content=text_blocks(text), **kw)

    def msg(self, text: str, **kw: Any) -> Any:
        return self.ev("agent.message", content=text_blocks(text), **kw)

    def start(self, event_id: str, kind: str = "agent.message") -> Any:
        return event_from_json({"type": "event_start", "event": {"type": kind, "id": event_id}})

    def delta(self, event_id: str, text: str, index: int = 0) -> Any:
        delta = {"type": "content_delta", "index": index, "content": {"type": "text", "text": text}}
        return event_from_json({"type": "event_delta", "event_id": event_id, "delta": delta})

    def tool_use(
        self,
        name: str = "bash",
        input: dict[str, Any] | None = None,
        permission: str | None = "allow",
        **kw: Any,
    ) -> Any:
        extra = {"evaluated_permission": permission} if permission else {}
        return self.ev("agent.tool_use", name=name, input=input or {"command": "ls"}, **extra, **kw)

    def tool_result(self, use_id: str, text: str = "ok", is_error: bool = False) -> Any:
        return self.ev("agent.tool_result", tool_use_id=use_id, content=text_blocks(text), is_error=is_error)

    def span_start(self) -> Any:
        return self.ev("span.model_request_start")

    def span_end(
        self, inp: int = 10, out: int = 5, is_error: bool | None = None, cr: int = 0, cw: int = 0
    ) -> Any:
        usage = {
            "input_tokens": inp,
            "output_tokens": out,
            "cache_read_input_tokens": cr,
            "cache_creation_input_tokens": cw,
        }
        extra = {} if is_error is None else {"is_error": is_error}
        return self.ev("span.model_request_end", model_request_start_id="sevt_x", model_usage=usage, **extra)
