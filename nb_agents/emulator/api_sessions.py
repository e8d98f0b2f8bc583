"""Sessions endpoints: create, retrieve, update, list, delete, archive.

Each session gets a `runtime.SessionRuntime` (the event engine); this module owns the wire
Session's title, metadata, budget, resources and archive state, the runtime owns the rest.
"""

from __future__ import annotations

import copy
import posixpath
import re
from typing import Any

from anthropic.types.beta import session_create_params, session_update_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_agents import build_agent, session_snapshot, versioned_fields
from .api_common import (
    list_response,
    ok,
    q_bool,
    q_int,
    q_list,
    q_order,
    read_json,
    store_of,
    time_filter,
)
from .common import ApiError, new_id, now_iso
from .resolve import check_metadata, patch_metadata, resolve_tools
from .store import SessionRecord, Store
from .surface import EXTRA_RESOURCES, attach_extra_resources, check_extra_resources

__all__ = ["ROUTES", "normalize_mount_path", "open_session", "check_budget", "check_memory_store_ids",
           "check_vault_ids"]

UPLOADS = "/mnt/session/uploads"
MAX_FILE_RESOURCES = 500
_STATUSES = ("rescheduling", "running", "idle", "terminated")


def normalize_mount_path(path: str | None) -> str | None:
    """`"x.csv"` and `"/x.csv"` -> `/mnt/session/uploads/x.csv`; None keeps the runtime default."""
    if path is None:
        return None
    if not path.strip() or len(path.encode()) > 1024:
        raise ApiError(400, "mount_path: must be 1 to 1024 bytes")
    if ".." in path.split("/"):
        raise ApiError(400, "mount_path: must not contain '..'")
    normal = posixpath.normpath(path if path.startswith(UPLOADS + "/") else f"{UPLOADS}/{path.lstrip('/')}")
    if normal == UPLOADS or path.endswith("/"):
        raise ApiError(400, "mount_path: must name a file, not a directory")
    return normal


def _resolve_agent(store: Store, ref: str | dict[str, Any]) -> dict[str, Any]:
    """The session's agent snapshot for `agent_…`, `{type: agent}` or `{type: agent_with_overrides}`."""
    if isinstance(ref, str):
        ref = {"type": "agent", "id": ref}
    agent = store.agent(ref["id"], ref.get("version"))
    if agent.get("archived_at"):
        raise ApiError(400, f"Agent {agent['id']} is archived; new sessions cannot use it")
    if ref["type"] == "agent_with_overrides":
        fields = versioned_fields(agent)
        for key in ("model", "system", "tools", "mcp_servers", "skills"):
            if key in ref:
                fields[key] = ref[key]
        agent = build_agent(fields, agent_id=agent["id"], version=agent["version"])
    snap = session_snapshot(agent)
    multiagent = snap.get("multiagent")
    # A session's rosters hold each agent as the session will run it (a thread agent snapshot),
    # not the `{type: agent, id, version}` reference the agent keeps.
    if multiagent and multiagent.get("type") == "coordinator":
        multiagent["agents"] = [_roster_snapshot(store, agent, e) for e in multiagent["agents"]]
    elif multiagent and multiagent.get("type") == "multiagent_20261001":
        for key in ("subagents", "workflows"):
            part = multiagent.get(key) or {}
            if part.get("type") == "enabled":
                part["predefined_agents"] = [_roster_snapshot(store, agent, e) for e in part["predefined_agents"]]
    return snap


def _roster_snapshot(store: Store, agent: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    if entry.get("type") != "agent":
        return entry  # an advisor entry is kept as it is
    member = agent if entry["id"] == agent["id"] else store.agent(entry["id"], entry.get("version"))
    snap = session_snapshot(member)
    snap.pop("multiagent", None)
    return snap


def check_budget(budget: dict[str, Any] | None) -> None:
    if budget is None:
        return
    cost = budget["max_list_cost"]
    if not re.fullmatch(r"0|[1-9][0-9]*", cost["amount"]):
        raise ApiError(400, "budget.max_list_cost.amount: must be a whole number of cents, as a string")
    if cost["currency"] != "USD":
        raise ApiError(400, "budget.max_list_cost.currency: only 'USD' is supported")


def _fresh_session(body: dict[str, Any], agent: dict[str, Any], env: dict[str, Any]) -> dict[str, Any]:
    stamp = now_iso()
    return {
        "type": "session",
        "id": new_id("sesn"),
        "title": body.get("title"),
        "environment_id": env["id"],
        "deployment_id": None,
        "metadata": dict(body.get("metadata") or {}),
        "vault_ids": list(body.get("vault_ids") or []),
        "status": "idle",
        "agent": agent,
        "resources": [],
        "budget": copy.deepcopy(body.get("budget")),
        "outcome_evaluations": [],
        "stats": {"active_seconds": 0.0, "duration_seconds": 0.0},
        "usage": {},
        "created_at": stamp,
        "updated_at": stamp,
        "archived_at": None,
    }


def _runtime_factory(app: Any) -> Any:
    factory = app.state.runtime_factory
    if factory is None:
        from .runtime import SessionRuntime

        factory = SessionRuntime
    return factory


async def create(request: Request) -> JSONResponse:
    body = await read_json(request, session_create_params.SessionCreateParams)
    return ok(await open_session(request.app, body))


# What the service answers for an attached id it does not know is not in the API reference
# (/work/shared/managed-agents-api.md); the emulator answers as it does for the other unknown ids
# of a create (agent, environment, file): 404 `not_found_error`, naming the field, and nothing is made.
def check_vault_ids(store: Store, vault_ids: list[str]) -> None:
    """Each vault must exist and be live: an unknown or deleted id is 404, an archived one 400."""
    for i, vault_id in enumerate(vault_ids):
        vault = store.vaults.get(vault_id)
        if vault is None:
            raise ApiError(404, f"vault_ids.{i}: Vault {vault_id} not found")
        if vault.get("archived_at"):
            raise ApiError(400, f"vault_ids.{i}: Vault {vault_id} is archived")


def check_memory_store_ids(store: Store, resources: list[dict[str, Any]]) -> None:
    """Each `memory_store` resource must name a store that exists (unknown or deleted: 404) and
    is not archived (400)."""
    for i, res in enumerate(resources):
        if res["type"] != "memory_store":
            continue
        store_id = res["memory_store_id"]
        with store.memory.lock:
            found = store.memory.stores.get(store_id)
        if found is None:
            raise ApiError(404, f"resources.{i}.memory_store_id: Memory store {store_id} not found")
        if found.get("archived_at"):
            raise ApiError(400, f"resources.{i}.memory_store_id: Memory store {store_id} is archived "
                                "and cannot be attached to new sessions")


async def open_session(app: Any, body: dict[str, Any], *, deployment_id: str | None = None) -> dict[str, Any]:
    """Create and start a session from a validated `SessionCreateParams` body (the create
    endpoint and deployment runs)."""
    store: Store = app.state.store
    check_metadata(body.get("metadata") or {})
    check_budget(body.get("budget"))
    if len(body.get("initial_events") or []) > 50:
        raise ApiError(400, "initial_events: at most 50 events are allowed")
    agent = _resolve_agent(store, body["agent"])
    env = store.environment(body["environment_id"])
    if env.get("archived_at"):
        raise ApiError(400, f"Environment {env['id']} is archived", error_code="environment_archived")
    check_vault_ids(store, list(body.get("vault_ids") or []))
    files = _resource_files(store, body.get("resources") or [])
    check_extra_resources(body.get("resources") or [])  # (its messages index the whole list)
    extra = [r for r in body.get("resources") or [] if r["type"] in EXTRA_RESOURCES]
    check_memory_store_ids(store, body.get("resources") or [])
    session = _fresh_session(body, agent, env)
    session["deployment_id"] = deployment_id
    runtime = _runtime_factory(app)(
        store=store, session=session, agent=agent, environment=env, config=app.state.config
    )
    try:
        for meta, mount_path in files:
            session["resources"].append(await runtime.mount_file(meta, mount_path))
        await attach_extra_resources(runtime, extra)  # repositories, memory stores; MCP reachability
    except BaseException:
        # a failed create must not leave a sandbox or session-scoped copies behind
        store.memory.sync_session(session["id"], detach=True)
        await runtime.close("deleted")
        for copy_meta in store.files_for_scope(session["id"]):
            store.delete_file(copy_meta["id"])
        raise
    with store.lock:
        store.sessions[session["id"]] = SessionRecord(session, runtime, agent, env)
    store.bump("sessions_created")
    if env["config"]["type"] == "self_hosted":
        app.state.work.enqueue(env["id"], session["id"])  # a worker must serve its tools
    await runtime.start(list(body.get("initial_events") or []))
    return session


def _resource_files(store: Store, resources: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str | None]]:
    if len(resources) > MAX_FILE_RESOURCES:
        raise ApiError(400, f"resources: at most {MAX_FILE_RESOURCES} file resources are allowed")
    out: list[tuple[dict[str, Any], str | None]] = []
    paths: set[str] = set()
    for i, res in enumerate(resources):
        if res["type"] in EXTRA_RESOURCES:
            continue  # surface.py mounts them
        if res["type"] != "file":
            raise ApiError(
                400,
                f"resources.{i}.type: {res['type']!r} resources are not supported by the offline emulator",
            )
        meta = store.get_file(res["file_id"])
        if meta is None:
            raise ApiError(404, f"resources.{i}.file_id: File {res['file_id']} not found")
        path = normalize_mount_path(res.get("mount_path"))
        if path is not None:
            if path in paths:
                raise ApiError(400, f"resources.{i}.mount_path: {path} is already used by another resource")
            paths.add(path)
        out.append((meta, path))
    return out


async def retrieve(request: Request) -> JSONResponse:
    return ok(store_of(request).session_record(request.path_params["session_id"]).session)


async def update(request: Request) -> JSONResponse:
    body = await read_json(request, session_update_params.SessionUpdateParams)
    record = store_of(request).session_record(request.path_params["session_id"])
    session = record.session
    if "vault_ids" in body:
        raise ApiError(400, "vault_ids: cannot be changed after the session is created")
    changes: dict[str, Any] = {}
    if "title" in body and body["title"] != session.get("title"):
        changes["title"] = body["title"]
    if body.get("metadata") is not None:
        merged = patch_metadata(session["metadata"], body["metadata"])
        if merged != session["metadata"]:
            changes["metadata"] = merged
    if "budget" in body:
        if session.get("budget") is None and body["budget"] is not None:
            raise ApiError(
                400,
                "budget: a budget can only be set when the session is created",
                error_code="budget_create_only",
            )
        check_budget(body["budget"])
        if body["budget"] != session.get("budget"):
            changes["budget"] = copy.deepcopy(body["budget"])
    if "agent" in body:
        changes.update(_agent_changes(session, body["agent"]))
    if changes:
        for key, value in changes.items():
            session[key] = value
        session["updated_at"] = now_iso()
        await record.runtime.on_session_updated(copy.deepcopy(changes))
    return ok(session)


def _agent_changes(session: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    if session["status"] == "running":
        raise ApiError(400, "agent: the session's agent can only be changed while the session is not running")
    agent = copy.deepcopy(session["agent"])
    servers = patch.get("mcp_servers")
    if servers is not None:
        agent["mcp_servers"] = [{"type": "url", "name": s["name"], "url": s["url"]} for s in servers]
    if "tools" in patch or servers is not None:
        agent["tools"] = resolve_tools(patch.get("tools", agent["tools"]), agent["mcp_servers"])
    return {"agent": agent} if agent != session["agent"] else {}


async def list_sessions(request: Request) -> JSONResponse:
    store = store_of(request)
    order = q_order(request, "desc")
    statuses = q_list(request, "statuses")
    if statuses:
        for s in statuses:
            if s not in _STATUSES:
                raise ApiError(400, f"statuses: {s!r} is not one of {', '.join(map(repr, _STATUSES))}")
    agent_id = request.query_params.get("agent_id")
    agent_version = q_int(request, "agent_version", None, 1, 2**31)
    deployment_id = request.query_params.get("deployment_id")
    memory_store_id = request.query_params.get("memory_store_id")
    include_archived = q_bool(request, "include_archived")
    keep = time_filter(request)
    with store.lock:
        sessions = [r.session for r in store.sessions.values()]
    items = [
        s
        for s in sessions
        if (include_archived or not s.get("archived_at"))
        and (not statuses or s["status"] in statuses)
        and (agent_id is None or s["agent"]["id"] == agent_id)
        and (agent_version is None or s["agent"]["version"] == agent_version)
        and (deployment_id is None or s.get("deployment_id") == deployment_id)
        and (memory_store_id is None
             or any(r.get("memory_store_id") == memory_store_id for r in s.get("resources") or []))
        and keep(s["created_at"])
    ]
    if order == "desc":
        items.reverse()
    return list_response(request, items, kind="sessions", order=order, prev=True)


async def delete(request: Request) -> JSONResponse:
    store = store_of(request)
    record = store.session_record(request.path_params["session_id"])
    sid = record.session["id"]
    if record.session["status"] == "running":
        raise ApiError(
            400,
            "Cannot delete session while it is running. Send an interrupt event or wait for the session to complete.",
        )
    store.memory.sync_session(sid, detach=True)  # keep what the agent wrote to its memory stores
    await record.runtime.close("deleted")
    request.app.state.work.request_stop(sid)
    with store.lock:
        store.sessions.pop(sid, None)
        for meta in store.files_for_scope(sid):
            store.delete_file(meta["id"])
    return ok({"id": sid, "type": "session_deleted"})


async def archive(request: Request) -> JSONResponse:
    record = store_of(request).session_record(request.path_params["session_id"])
    session = record.session
    if session["status"] in ("running", "rescheduling"):
        raise ApiError(
            400,
            f'Session {session["id"]} cannot be archived while its status is "{session["status"]}". '
            "Only pending or idle sessions may be archived.",
        )
    if not session.get("archived_at"):
        store_of(request).memory.sync_session(session["id"], detach=True)
        await record.runtime.close("archived")
        request.app.state.work.request_stop(session["id"])
        session["status"] = "terminated"
        session["archived_at"] = session["updated_at"] = now_iso()
    return ok(session)


ROUTES = [
    ("POST", "/v1/sessions", create),
    ("GET", "/v1/sessions", list_sessions),
    ("GET", "/v1/sessions/{session_id}", retrieve),
    ("POST", "/v1/sessions/{session_id}", update),
    ("DELETE", "/v1/sessions/{session_id}", delete),
    ("POST", "/v1/sessions/{session_id}/archive", archive),
]
