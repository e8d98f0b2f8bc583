"""Session threads endpoints: list, retrieve, archive, per-thread events and stream.

A read-only view derived from the session's event log: the primary thread always exists, child
threads are the ones `session.thread_created` announced, and a thread's status is its latest
`session.thread_status_*` event. The primary thread's events and stream are the session's own;
a child thread's are the events that name it (the emulator runs no child-thread spans).
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

from .api_agents import SNAPSHOT_KEYS
from .api_common import list_response, ok, q_list, store_of
from .api_events import DELTA_TYPES, frames, sse_headers
from .common import ApiError, now_iso
from .store import SessionRecord

__all__ = ["ROUTES"]

_STATUS = {
    "session.thread_status_running": "running",
    "session.thread_status_idle": "idle",
    "session.thread_status_rescheduled": "rescheduling",
    "session.thread_status_terminated": "terminated",
}


def _primary_id(record: SessionRecord) -> str:
    return str(getattr(record.runtime, "thread_id", "") or f"sthr_primary_{record.session['id']}")


def _threads(request: Request, record: SessionRecord) -> dict[str, dict[str, Any]]:
    """Every thread of the session as wire `BetaManagedAgentsSessionThread` dicts, in creation order."""
    session = record.session
    archived: dict[str, str] = request.app.state.archived_threads
    agent = {k: copy.deepcopy(session["agent"].get(k)) for k in SNAPSHOT_KEYS}
    agent["execution_identity"] = copy.deepcopy(
        session["agent"].get("execution_identity") or {"type": "service_account"}
    )
    primary = _primary_id(record)
    threads = {primary: _thread(primary, session, agent, session["created_at"], None)}
    for ev in list(record.runtime.events):
        tid = ev.get("session_thread_id")
        if ev.get("type") == "session.thread_created" and tid and tid not in threads:
            child_agent = {**agent, "name": ev.get("agent_name") or agent["name"]}
            threads[tid] = _thread(
                tid, session, child_agent, ev["processed_at"], primary, ev.get("workflow_run_id")
            )
        elif ev.get("type") in _STATUS and tid in threads:
            threads[tid]["status"] = _STATUS[ev["type"]]
            threads[tid]["updated_at"] = ev["processed_at"]
    for tid, stamp in archived.items():
        if tid in threads:
            threads[tid]["archived_at"] = stamp
    return threads


def _thread(
    tid: str,
    session: dict[str, Any],
    agent: dict[str, Any],
    created: str,
    parent: str | None,
    run: str | None = None,
) -> dict[str, Any]:
    return {
        "type": "session_thread",
        "id": tid,
        "session_id": session["id"],
        "parent_thread_id": parent,
        "agent": agent,
        "status": "idle",
        "workflow_run_id": run,
        "archived_at": None,
        "created_at": created,
        "updated_at": created,
    }


def _find(request: Request) -> tuple[SessionRecord, dict[str, Any], bool]:
    record = store_of(request).session_record(request.path_params["session_id"])
    tid = request.path_params["thread_id"]
    thread = _threads(request, record).get(tid)
    if thread is None:
        raise ApiError(404, f"Thread {tid} not found in session {record.session['id']}")
    return record, thread, tid == _primary_id(record)


async def list_threads(request: Request) -> JSONResponse:
    record = store_of(request).session_record(request.path_params["session_id"])
    statuses = q_list(request, "statuses")
    for s in statuses or ():
        if s not in _STATUS.values():
            raise ApiError(
                400, f"statuses: {s!r} is not one of 'running', 'idle', 'rescheduling', 'terminated'"
            )
    items = [t for t in _threads(request, record).values() if not statuses or t["status"] in statuses]
    return list_response(
        request, items, kind=f"threads:{record.session['id']}", default_limit=1000, max_limit=1000
    )


async def retrieve(request: Request) -> JSONResponse:
    return ok(_find(request)[1])


async def archive(request: Request) -> JSONResponse:
    _record, thread, is_primary = _find(request)
    if is_primary:
        raise ApiError(400, "The primary thread cannot be archived; archive the session instead")
    if thread["status"] in ("running", "rescheduling"):
        raise ApiError(400, f"Thread {thread['id']} cannot be archived while it is {thread['status']}")
    if not thread["archived_at"]:
        thread["archived_at"] = request.app.state.archived_threads[thread["id"]] = now_iso()
    return ok(thread)


def _belongs(tid: str, is_primary: bool) -> Any:
    if is_primary:
        return lambda ev: True
    return lambda ev: ev.get("session_thread_id") == tid


async def list_events(request: Request) -> JSONResponse:
    record, thread, is_primary = _find(request)
    keep = _belongs(thread["id"], is_primary)
    items = [ev for ev in list(record.runtime.events) if keep(ev)]
    return list_response(
        request, items, kind=f"thread_events:{thread['id']}", default_limit=1000, max_limit=1000
    )


async def stream(request: Request) -> StreamingResponse:
    record, thread, is_primary = _find(request)
    deltas = q_list(request, "event_deltas") or []
    for d in deltas:
        if d not in DELTA_TYPES:
            raise ApiError(400, f"event_deltas: {d!r} is not one of 'agent.message', 'agent.thinking'")
    # deltas belong to the primary thread only
    queue = record.runtime.subscribe(frozenset(deltas) if is_primary else frozenset())
    body = frames(request, record.runtime, queue, keep=_belongs(thread["id"], is_primary))
    return StreamingResponse(body, media_type="text/event-stream", headers=sse_headers())


ROUTES = [
    ("GET", "/v1/sessions/{session_id}/threads", list_threads),
    ("GET", "/v1/sessions/{session_id}/threads/{thread_id}", retrieve),
    ("POST", "/v1/sessions/{session_id}/threads/{thread_id}/archive", archive),
    ("GET", "/v1/sessions/{session_id}/threads/{thread_id}/events", list_events),
    ("GET", "/v1/sessions/{session_id}/threads/{thread_id}/stream", stream),
]
