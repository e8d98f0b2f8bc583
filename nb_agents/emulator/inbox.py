"""Applying the user events of one `POST /v1/sessions/{id}/events` to a session runtime.

All events of a request are checked first (state errors are 400s that apply nothing),
then applied in order. What each event does, and whether its echo is already processed,
follows the service: user.message and user.tool_confirmation echo with
`processed_at: null`; custom/self-hosted tool results, outcomes and system messages are
processed on receipt; user.interrupt jumps the queue (and is ignored at a budget pause).
"""

from __future__ import annotations

from typing import Any

from .common import ApiError, new_id, now_iso

__all__ = ["apply_user_events", "message_text", "SETTLE_EVENTS"]

SETTLE_EVENTS = ("user.tool_confirmation", "user.tool_result", "user.custom_tool_result", "user.interrupt")

_TERMINAL_OUTCOMES = ("satisfied", "max_iterations_reached", "failed", "interrupted")


def message_text(content: list[dict[str, Any]] | None) -> str:
    return "\n".join(str(b.get("text", "")) for b in content or [] if b.get("type") == "text")


def apply_user_events(rt: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for event in events:
        _check(rt, event)
    return [_APPLY[event["type"]](rt, event) for event in events]


def _call(rt: Any, call_id: str, kinds: tuple[str, ...], field: str) -> Any:
    call = rt.calls.get(call_id)
    if call is None or call.kind not in kinds:
        raise ApiError(400, f"{field} {call_id!r} does not match a pending tool use event in session {rt.sid}.")
    return call


def _check(rt: Any, event: dict[str, Any]) -> None:
    kind = event.get("type")
    if kind not in _APPLY:
        raise ApiError(400, f"Event type {kind!r} cannot be sent to a session.")
    if kind == "user.message" and rt.pause == "budget_reached":
        raise ApiError(
            400,
            f"Session {rt.sid} reached its budget: only {', '.join(SETTLE_EVENTS)} events are accepted "
            "until the budget is raised or removed.",
        )
    if kind == "user.custom_tool_result":
        _call(rt, event["custom_tool_use_id"], ("custom",), "custom_tool_use_id")
    elif kind == "user.tool_confirmation":
        call = _call(rt, event["tool_use_id"], ("builtin", "remote", "mcp"), "tool_use_id")
        if call.permission != "ask":
            raise ApiError(400, f"Tool use {call.id} does not require a confirmation.")
        if call.decision is not None:
            raise ApiError(400, f"Tool use {call.id} was already confirmed.")
    elif kind == "user.tool_result":
        if not rt.self_hosted:
            raise ApiError(400, "user.tool_result is only valid for sessions in a self_hosted environment.")
        _call(rt, event["tool_use_id"], ("remote",), "tool_use_id")
    elif kind == "user.define_outcome":
        active = rt.outcome is not None and rt.outcome.get("result") not in _TERMINAL_OUTCOMES
        if active or any(e["type"] == "user.define_outcome" for e in rt.inbox):
            raise ApiError(400, "An outcome is already active in this session; only one outcome can be active at a time.")


def _message(rt: Any, event: dict[str, Any]) -> dict[str, Any]:
    echo = {"type": "user.message", "id": new_id("sevt"), "content": event["content"], "processed_at": None}
    if rt.running:  # it waits behind running work: the stream shows the queued copy now
        rt.broadcast(dict(echo))
    rt.inbox.append(dict(echo))
    return echo


def _interrupt(rt: Any, event: dict[str, Any]) -> dict[str, Any]:
    echo = {"type": "user.interrupt", "id": new_id("sevt"), "processed_at": None,
            "session_thread_id": event.get("session_thread_id")}
    # at a budget pause it is accepted but ignored; an idle session has nothing to stop
    if rt.running and rt.pause != "budget_reached":
        rt.interrupt = echo
    return echo


def _after_resolution(rt: Any) -> None:
    """A partial resolution re-emits the idle with the remaining ids; the last one resumes the turn."""
    if rt.pause != "requires_action":
        return
    remaining = [c.id for c in rt.calls.values() if c.waiting and not c.answered]
    if remaining:
        rt.idle({"type": "requires_action", "event_ids": remaining})


def _custom_result(rt: Any, event: dict[str, Any]) -> dict[str, Any]:
    echo = _result_event(rt, event, "custom_tool_use_id")
    call = rt.calls[event["custom_tool_use_id"]]
    if not call.resolved:  # a late duplicate is recorded but changes nothing
        call.result = {"content": event.get("content") or [], "is_error": bool(event.get("is_error"))}
        call.resolved = True
        _after_resolution(rt)
    return echo


def _tool_result(rt: Any, event: dict[str, Any]) -> dict[str, Any]:
    echo = _result_event(rt, event, "tool_use_id")
    call = rt.calls[event["tool_use_id"]]
    if call.result is None:
        call.result = {"content": event.get("content") or [], "is_error": bool(event.get("is_error"))}
    return echo


def _result_event(rt: Any, event: dict[str, Any], key: str) -> dict[str, Any]:
    persisted = rt.emit({"type": event["type"], key: event[key], "content": event.get("content") or [],
                         "is_error": bool(event.get("is_error", False)), "session_thread_id": None})
    rt.meter.add_input(str(event.get("content") or ""))
    return dict(persisted)


def _confirmation(rt: Any, event: dict[str, Any]) -> dict[str, Any]:
    echo = {"type": "user.tool_confirmation", "id": new_id("sevt"), "tool_use_id": event["tool_use_id"],
            "result": event["result"], "deny_message": event.get("deny_message"),
            "session_thread_id": None, "processed_at": None}
    call = rt.calls[event["tool_use_id"]]
    call.decision, call.deny_message = event["result"], event.get("deny_message")
    rt.emit({k: v for k, v in echo.items() if k != "processed_at"})
    _after_resolution(rt)
    return echo


def _define_outcome(rt: Any, event: dict[str, Any]) -> dict[str, Any]:
    echo = {"type": "user.define_outcome", "id": new_id("sevt"), "outcome_id": new_id("outc"),
            "description": event["description"], "rubric": event["rubric"],
            "max_iterations": event.get("max_iterations") or 3, "processed_at": now_iso()}
    rt.inbox.append(dict(echo))
    return echo


def _system(rt: Any, event: dict[str, Any]) -> dict[str, Any]:
    rt.meter.add_input(message_text(event.get("content")))
    return dict(rt.emit({"type": "system.message", "content": event["content"]}))


_APPLY = {
    "user.message": _message,
    "user.interrupt": _interrupt,
    "user.custom_tool_result": _custom_result,
    "user.tool_result": _tool_result,
    "user.tool_confirmation": _confirmation,
    "user.define_outcome": _define_outcome,
    "system.message": _system,
}
