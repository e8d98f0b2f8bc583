"""Transcript fold handlers for the conversation: user.*, agent.*, and message previews.

Each handler takes a Transcript and an SDK event and returns a new Transcript; dispatch
and dedupe are in `fold.py`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..events import get_field
from . import items as ti
from .items import blocks_text
from .model import prompt_for
from .ops import Handler, append, put, put_last, stamp

if TYPE_CHECKING:
    from .model import Transcript

__all__ = ["CONVERSATION_HANDLERS"]


# -- user.* -----------------------------------------------------------------------
def _user_message(t: Transcript, e: Any) -> Transcript:
    content = tuple(get_field(e, "content") or ())
    role = "system" if e.type == "system.message" else "user"
    text = blocks_text(content)
    prompt = prompt_for(t, text) if role == "user" and t.prompts else None
    item = ti.UserMessage(e.id, text, content, get_field(e, "processed_at") is None, role, prompt)
    old = t.get(e.id)
    if isinstance(old, ti.UserMessage) and old.queued and not item.queued:
        # Taken by the agent only now: it goes where the server put it, after what the agent said
        # meanwhile (the end of an earlier turn), so that is not read as this message's answer.
        t = put_last(t, e.id, item)
    else:
        t = put(t, e.id, item)
    return replace(t, interrupted=False) if role == "user" else t


def _user_interrupt(t: Transcript, e: Any) -> Transcript:
    if t.interrupted:
        return t
    note = ti.Notice("Interrupted: the agent was stopped; everything received so far is kept.", "warning")
    return replace(append(t, note), interrupted=True)


def _tool_confirmation(t: Transcript, e: Any) -> Transcript:
    call = t.get(get_field(e, "tool_use_id", ""))
    if not isinstance(call, ti.ToolCall) or call.status not in ("waiting", "running"):
        return t
    if get_field(e, "result") == "deny":
        call = replace(call, status="denied", permission="deny", deny_message=get_field(e, "deny_message"))
    else:
        call = replace(call, status="running", permission="allow")
    return put(t, call.id, call)


def _define_outcome(t: Transcript, e: Any) -> Transcript:
    oid = get_field(e, "outcome_id") or e.id
    item = ti.OutcomeItem(oid, str(get_field(e, "description", "")), get_field(e, "max_iterations"))
    return put(t, f"outcome:{oid}", item)


def _result_for(field_name: str) -> Handler:
    def handle(t: Transcript, e: Any) -> Transcript:
        call = t.get(get_field(e, field_name, ""))
        if not isinstance(call, ti.ToolCall):
            return t
        blocks = tuple(get_field(e, "content") or ())
        is_error = bool(get_field(e, "is_error"))
        status = "denied" if call.status == "denied" else ("error" if is_error else "done")
        done = replace(
            call,
            status=status,
            result_blocks=blocks,
            result_text=blocks_text(blocks),
            is_error=is_error,
            finished_at=stamp(e),
        )
        return put(t, call.id, done)

    return handle


# -- agent.* ----------------------------------------------------------------------
def _agent_message(t: Transcript, e: Any) -> Transcript:
    content = tuple(get_field(e, "content") or ())
    item = ti.AgentMessage(e.id, blocks_text(content), content, False, get_field(e, "session_thread_id"))
    return put(t, e.id, item)


def _agent_thinking(t: Transcript, e: Any) -> Transcript:
    return put(t, e.id, ti.Thinking(e.id, get_field(e, "session_thread_id"), pending=False))


def _tool_use(kind: str) -> Handler:
    def handle(t: Transcript, e: Any) -> Transcript:
        permission = get_field(e, "evaluated_permission")
        if kind == "custom":
            status = "waiting"  # answered by the kernel
        else:
            status = {"ask": "waiting", "deny": "denied"}.get(permission or "", "running")
        call = ti.ToolCall(
            id=e.id,
            kind=kind,
            name=str(get_field(e, "name") or ""),  # a nameless tool use: "", shown as "?"
            input=dict(get_field(e, "input") or {}),
            server=get_field(e, "mcp_server_name"),
            status=status,
            permission=permission,
            started_at=stamp(e),
            thread_id=get_field(e, "session_thread_id"),
        )
        return put(t, e.id, call)

    return handle


def _thread_message(direction: str) -> Handler:
    def handle(t: Transcript, e: Any) -> Transcript:
        prefix = "to" if direction == "sent" else "from"
        tid = str(get_field(e, f"{prefix}_session_thread_id", ""))
        name = get_field(e, f"{prefix}_agent_name")
        if t.get(f"thread:{tid}") is None:
            t = put(t, f"thread:{tid}", ti.ThreadItem(tid, name or tid, "running"))
        content = tuple(get_field(e, "content") or ())
        return put(t, e.id, ti.ThreadMessage(e.id, tid, name, direction, blocks_text(content)))

    return handle


def _compacted(t: Transcript, e: Any) -> Transcript:
    return append(t, ti.Notice("The agent's context was compacted to fit the model's window.", "info"))


# -- previews (event_start / event_delta) -------------------------------------------
def _event_start(t: Transcript, e: Any) -> Transcript:
    preview = get_field(e, "event")
    pid, ptype = get_field(preview, "id"), get_field(preview, "type")
    if not pid or t.get(pid) is not None:
        return t  # a repeated start (reconnect) or the final event already arrived
    if ptype == "agent.message":
        from anthropic.lib.sessions import accumulate_managed_agents_event

        snap = accumulate_managed_agents_event(None, e)
        return put(t, pid, ti.AgentMessage(pid, "", (), streaming=True, snapshot=snap))
    if ptype == "agent.thinking":
        return put(t, pid, ti.Thinking(pid, pending=True))
    return t


def _event_delta(t: Transcript, e: Any) -> Transcript:
    item = t.get(get_field(e, "event_id", "") or "")
    if not isinstance(item, ti.AgentMessage) or not item.streaming or item.snapshot is None:
        return t  # a delta whose start we never saw: best effort, ignore
    from anthropic import AnthropicError
    from anthropic.lib.sessions import accumulate_managed_agents_event

    try:
        snap = accumulate_managed_agents_event(item.snapshot, e)
    except (AnthropicError, AttributeError):
        return t
    blocks = tuple(snap.content)
    return put(t, item.id, replace(item, text=blocks_text(blocks), blocks=blocks, snapshot=snap))


CONVERSATION_HANDLERS: dict[str, Handler] = {
    "user.message": _user_message,
    "system.message": _user_message,
    "user.interrupt": _user_interrupt,
    "user.tool_confirmation": _tool_confirmation,
    "user.custom_tool_result": _result_for("custom_tool_use_id"),
    "user.tool_result": _result_for("tool_use_id"),
    "user.define_outcome": _define_outcome,
    "agent.message": _agent_message,
    "agent.thinking": _agent_thinking,
    "agent.tool_use": _tool_use("builtin"),
    "agent.tool_result": _result_for("tool_use_id"),
    "agent.mcp_tool_use": _tool_use("mcp"),
    "agent.mcp_tool_result": _result_for("mcp_tool_use_id"),
    "agent.custom_tool_use": _tool_use("custom"),
    "agent.thread_message_sent": _thread_message("sent"),
    "agent.thread_message_received": _thread_message("received"),
    "agent.thread_context_compacted": _compacted,
    "event_start": _event_start,
    "event_delta": _event_delta,
}
