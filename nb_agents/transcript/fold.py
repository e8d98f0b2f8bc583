"""The transcript fold: `fold(t, event)` returns a new Transcript and never mutates `t`.

Dispatch is on `event.type` strings only; unknown types pass through (counted in
`unknown_count`). This module holds the dispatch and the handlers for span.*, session.*
(status, usage, errors, threads) and workflow_run.* events.

Dedupe by event id happens here once, before dispatch: an already-seen id is ignored,
except a user event whose `processed_at` goes from None to set (queued -> processed).
Conversation handlers (user.*, agent.*, previews) are in `conversation.py`. Error messages
are scrubbed of secrets (`nb_agents.scrub`): server text can echo a credential, and every view
shows it and saves it with the notebook.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..events import event_from_json, get_field, usd
from ..scrub import scrub_text
from .conversation import CONVERSATION_HANDLERS
from .items import ErrorItem, Notice, OutcomeItem, ThreadItem, ToolCall, Usage
from .ops import Handler, append, close_previews, put, stamp

if TYPE_CHECKING:
    from .model import Transcript

__all__ = ["fold", "fold_all", "fold_event", "HANDLERS"]


def fold(t: Transcript, event: Any) -> Transcript:
    """Fold one SDK event (or wire dict) into `t`, returning a new Transcript."""
    return fold_event(t, event)


def fold_all(t: Transcript, events: Iterable[Any]) -> Transcript:
    for event in events:
        t = fold_event(t, event)
    return t


def fold_event(t: Transcript, event: Any) -> Transcript:
    if isinstance(event, dict):
        event = event_from_json(event)
    etype = str(get_field(event, "type", ""))
    eid = get_field(event, "id") or None
    # one `replace` for the bookkeeping (ids, count, start): it copies every field of the Transcript
    changes: dict[str, Any] = {"event_count": t.event_count + 1}
    if eid:
        if (etype.startswith("user.") or etype == "system.message") and get_field(event, "processed_at") is None:
            if eid in t.seen or eid in t.queued:
                return t
            changes["queued"] = t.queued | {eid}
        else:
            if eid in t.seen:
                return t
            changes["seen"] = t.seen | {eid}
            if eid in t.queued:
                changes["queued"] = t.queued - {eid}
    if t.started_at is None:
        when = stamp(event)
        if when is not None:
            changes["started_at"] = when
    t = replace(t, **changes)
    handler = HANDLERS.get(etype)
    if handler is None:
        return replace(t, unknown_count=t.unknown_count + 1)
    return handler(t, event)


# -- span.* -----------------------------------------------------------------------
def _request_start(t: Transcript, e: Any) -> Transcript:
    return replace(t, model_requests=t.model_requests + 1)


def _request_end(t: Transcript, e: Any) -> Transcript:
    mu = get_field(e, "model_usage")
    if mu is not None:
        add = Usage(
            int(get_field(mu, "input_tokens") or 0),
            int(get_field(mu, "output_tokens") or 0),
            int(get_field(mu, "cache_read_input_tokens") or 0),
            int(get_field(mu, "cache_creation_input_tokens") or 0),
        )
        t = replace(t, usage=t.usage + add)
    return close_previews(t)


def _outcome_update(t: Transcript, e: Any) -> Transcript:
    key = f"outcome:{get_field(e, 'outcome_id', '')}"
    item = t.get(key)
    if not isinstance(item, OutcomeItem):
        item = OutcomeItem(str(get_field(e, "outcome_id", "")), "")
    if e.type == "span.outcome_evaluation_start":
        item = replace(item, result="evaluating")
    else:
        item = replace(
            item,
            result=str(get_field(e, "result", "")),
            explanation=get_field(e, "explanation"),
            iterations=int(get_field(e, "iteration", 0) or 0) + 1,
        )
    return put(t, key, item)


# -- session.* ----------------------------------------------------------------------
def _running(t: Transcript, e: Any) -> Transcript:
    return replace(
        t, status="running", stop_reason=None, stop_details=None, pending_action_ids=(), ended_at=None
    )


def _idle(t: Transcript, e: Any) -> Transcript:
    reason = get_field(e, "stop_reason")
    rtype = str(get_field(reason, "type", "end_turn"))
    details = get_field(e, "stop_details")
    if details is not None and not isinstance(details, dict):
        details = details.model_dump(mode="json", exclude_none=True)
    pending = tuple(get_field(reason, "event_ids") or ()) if rtype == "requires_action" else ()
    # the clock stops on every idle (a requires_action pause too); status_running restarts it
    t = replace(
        t,
        status="idle",
        stop_reason=rtype,
        stop_details=details,
        pending_action_ids=pending,
        ended_at=stamp(e),
    )
    return close_previews(t if rtype == "requires_action" else close_calls(t, stamp(e)))


def close_calls(t: Transcript, when: float | None) -> Transcript:
    """The session stopped (not to wait on us): a tool call still open will get no result.

    Marked "ended" so the view stops showing it as running; a result arriving later (a
    backfill out of order) still replaces it."""
    for pos, item in enumerate(t.items):
        if isinstance(item, ToolCall) and item.status in ("running", "waiting"):
            closed = replace(item, status="ended", finished_at=when if item.started_at is not None else None)
            t = replace(t, items=t.items[:pos] + (closed,) + t.items[pos + 1 :])
    return t


def _status(value: str, ends: bool) -> Handler:
    def handle(t: Transcript, e: Any) -> Transcript:
        t = replace(t, status=value, ended_at=stamp(e) if ends else t.ended_at)
        return close_previews(close_calls(t, stamp(e))) if ends else t

    return handle


def _error(t: Transcript, e: Any) -> Transcript:
    err = get_field(e, "error")
    retry = get_field(get_field(err, "retry_status"), "type")
    item = ErrorItem(e.id, str(get_field(err, "type", "unknown_error")), scrub_text(get_field(err, "message", "")), retry)
    return put(t, e.id, item)


def _usage(t: Transcript, e: Any) -> Transcript:
    u = get_field(e, "usage")
    cache = get_field(u, "cache_creation")
    created = int(get_field(cache, "ephemeral_5m_input_tokens") or 0) + int(
        get_field(cache, "ephemeral_1h_input_tokens") or 0
    )
    usage = Usage(
        int(get_field(u, "input_tokens") or 0),
        int(get_field(u, "output_tokens") or 0),
        int(get_field(u, "cache_read_input_tokens") or 0),
        created,
    )
    cost = usd(get_field(u, "list_cost"))
    budget = usd(get_field(get_field(e, "budget"), "max_list_cost"))
    return replace(
        t,
        usage=usage,
        cost_usd=cost if cost is not None else t.cost_usd,
        budget_usd=budget if budget is not None else t.budget_usd,
        active_seconds=get_field(u, "active_seconds", t.active_seconds),
    )


def _updated(t: Transcript, e: Any) -> Transcript:
    budget = get_field(e, "budget")
    title = get_field(e, "title")
    return replace(
        t,
        budget_usd=usd(get_field(budget, "max_list_cost")) if budget is not None else t.budget_usd,
        title=title if title is not None else t.title,
    )


def _thread_created(t: Transcript, e: Any) -> Transcript:
    tid = str(get_field(e, "session_thread_id", ""))
    return put(t, f"thread:{tid}", ThreadItem(tid, str(get_field(e, "agent_name", tid)), "created"))


def _thread_status(value: str) -> Handler:
    def handle(t: Transcript, e: Any) -> Transcript:
        key = f"thread:{get_field(e, 'session_thread_id', '')}"
        item = t.get(key)
        if not isinstance(item, ThreadItem):
            return t  # the primary thread's own lifecycle: the session status covers it
        reason = get_field(get_field(e, "stop_reason"), "type") if value == "idle" else None
        return put(t, key, replace(item, status=value, stop_reason=reason))

    return handle


def _workflow_notice(t: Transcript, e: Any) -> Transcript:
    if e.type == "workflow_run.created":
        return append(t, Notice(f"Workflow {get_field(e, 'name', '')} started.", "info"))
    result = get_field(get_field(e, "result"), "type", "completed")
    return append(t, Notice(f"Workflow {get_field(e, 'workflow_run_id', '')} ended: {result}.", "info"))


def _workflow_error(t: Transcript, e: Any) -> Transcript:
    err = get_field(e, "error")
    item = ErrorItem(e.id, str(get_field(err, "type", "unknown_error")), scrub_text(get_field(err, "message", "")), None)
    return put(t, e.id, item)


def _ignore(t: Transcript, e: Any) -> Transcript:
    return t


HANDLERS: dict[str, Handler] = {
    **CONVERSATION_HANDLERS,
    "span.model_request_start": _request_start,
    "span.model_request_end": _request_end,
    "span.outcome_evaluation_start": _outcome_update,
    "span.outcome_evaluation_ongoing": _ignore,
    "span.outcome_evaluation_end": _outcome_update,
    "session.status_running": _running,
    "session.status_idle": _idle,
    "session.status_rescheduled": _status("rescheduling", ends=False),
    "session.status_terminated": _status("terminated", ends=True),
    "session.deleted": _status("deleted", ends=True),
    "session.error": _error,
    "session.usage": _usage,
    "session.updated": _updated,
    "session.thread_created": _thread_created,
    "session.thread_status_running": _thread_status("running"),
    "session.thread_status_idle": _thread_status("idle"),
    "session.thread_status_rescheduled": _thread_status("rescheduling"),
    "session.thread_status_terminated": _thread_status("terminated"),
    "workflow_run.created": _workflow_notice,
    "workflow_run.status_ended": _workflow_notice,
    "workflow_run.error": _workflow_error,
    "workflow_run.status_running": _ignore,
    "workflow_run.status_idle": _ignore,
    "workflow_run.phase_started": _ignore,
    "workflow_run.phase_ended": _ignore,
}
