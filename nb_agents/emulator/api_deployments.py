"""Deployment endpoints: deployments (create, retrieve, update, list, archive, pause, unpause,
run) and deployment runs (retrieve, list), plus `fire`, which turns a deployment into a session.

A deployment pins an agent version, an environment, resources, vaults, a budget and initial
events. Each fire (`run`, a manual trigger, or its cron schedule through `scheduler.Scheduler`)
creates a session from them with `api_sessions.open_session` and records a deployment run
holding the session id, or the error object when creation failed. A failed scheduled fire whose
error can be fixed by the user (an archived agent, a deleted vault, ...) pauses the deployment
with `paused_reason: {type: "error", error}`; paused deployments still run manually; archived
ones never fire. Stored as `{"wire": <BetaManagedAgentsDeployment>, "resources": <the resource
params, with their write-only tokens>}`.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from anthropic.types.beta import deployment_create_params, deployment_update_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_common import (
    apply_update,
    list_response,
    ok,
    q_bool,
    q_int,
    read_json,
    require_beta,
    store_of,
    time_filter,
)
from .api_sessions import check_budget, open_session
from .common import ApiError, new_id, now_iso
from .resolve import check_metadata
from .scheduler import Scheduler, check_schedule, upcoming
from .store import Store

__all__ = ["ROUTES", "fire"]

log = logging.getLogger("nb_agents.emulator")
BETA = "managed-agents-2026-04-01"
# Run errors that pause a scheduled deployment (the others may pass on a later fire).
_PAUSING = frozenset({
    "environment_archived_error", "agent_archived_error", "environment_not_found_error", "vault_not_found_error",
    "file_not_found_error", "session_resource_not_found_error", "organization_disabled_error",
    "memory_store_archived_error", "skill_not_found_error", "vault_archived_error", "unknown_error",
    "self_hosted_resources_unsupported_error", "mcp_egress_blocked_error",
})


class RunError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error = {"type": error_type, "message": message}


def _scheduler(request: Request) -> Scheduler:
    return request.app.state.scheduler  # type: ignore[no-any-return]


def _record(store: Store, deployment_id: str) -> dict[str, Any]:
    with store.lock:
        record = store.deployments.get(deployment_id)
    if record is None:
        raise ApiError(404, f"Deployment {deployment_id} not found")
    return record


def _wire(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    """The deployment as sent, with the schedule's upcoming occurrences computed now."""
    dep = copy.deepcopy(record["wire"])
    if dep["schedule"] is not None:
        dep["schedule"]["upcoming_runs_at"] = (
            [] if dep["archived_at"] else upcoming(dep["schedule"], _scheduler(request).now())
        )
    return dep


# -- checking the parts -------------------------------------------------------------------------
def _agent_ref(store: Store, ref: str | dict[str, Any]) -> dict[str, Any]:
    agent_id = ref if isinstance(ref, str) else ref["id"]
    version = None if isinstance(ref, str) else ref.get("version")
    if version is not None and version < 1:
        raise ApiError(400, "agent.version: must be at least 1")
    agent = store.agent(agent_id, version)
    if agent.get("archived_at"):
        raise ApiError(400, f"Agent {agent_id} is archived")
    return {"type": "agent", "id": agent["id"], "version": agent["version"]}


def _environment(store: Store, env_id: str) -> None:
    env = store.environment(env_id)
    if env.get("archived_at"):
        raise ApiError(400, f"Environment {env_id} is archived", error_code="environment_archived")


def _initial_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not 1 <= len(events) <= 50:
        raise ApiError(400, "initial_events: must have 1 to 50 events")
    systems = [i for i, ev in enumerate(events) if ev["type"] == "system.message"]
    if len(systems) > 1 or (systems and systems[0] != len(events) - 1):
        raise ApiError(400, "initial_events: at most one system.message is allowed, and it must be the last event")
    out = []
    for ev in events:
        echo = copy.deepcopy(ev)
        if ev["type"] == "user.define_outcome":
            echo.setdefault("max_iterations", None)
        out.append(echo)
    return out


def _resources(store: Store, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The wire echo of resource params (write-only tokens left out); 404 for unknown files and
    memory stores."""
    if len(resources) > 500:
        raise ApiError(400, "resources: at most 500 resources are allowed")
    out = []
    for i, res in enumerate(resources):
        if res["type"] == "file":
            if store.get_file(res["file_id"]) is None:
                raise ApiError(404, f"resources.{i}.file_id: File {res['file_id']} not found")
            out.append({"type": "file", "file_id": res["file_id"], "mount_path": res.get("mount_path")})
        elif res["type"] == "github_repository":
            out.append({"type": "github_repository", "url": res["url"], "checkout": res.get("checkout"),
                        "mount_path": res.get("mount_path")})
        else:
            if res["memory_store_id"] not in store.memory.stores:  # unknown or deleted (api_sessions.py)
                raise ApiError(404, f"resources.{i}.memory_store_id: Memory store {res['memory_store_id']} not found")
            if len(res.get("instructions") or "") > 4096:
                raise ApiError(400, f"resources.{i}.instructions: at most 4096 characters")
            out.append({"type": "memory_store", "memory_store_id": res["memory_store_id"],
                        "access": res.get("access"), "instructions": res.get("instructions")})
    return out


def _vault_ids(store: Store, vault_ids: list[str]) -> list[str]:
    if len(vault_ids) > 50:
        raise ApiError(400, "vault_ids: at most 50 vaults are allowed")
    for i, vault_id in enumerate(vault_ids):
        if vault_id not in store.vaults:  # unknown or deleted, as at session creation (api_sessions.py)
            raise ApiError(404, f"vault_ids.{i}: Vault {vault_id} not found")
    return list(vault_ids)


def _name(name: str) -> str:
    if not name.strip():
        raise ApiError(400, "name: must not be empty")
    return name


# -- deployments ----------------------------------------------------------------------------------
async def create(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    body = await read_json(request, deployment_create_params.DeploymentCreateParams)
    store = store_of(request)
    check_metadata(body.get("metadata") or {})
    check_budget(body.get("budget"))
    stamp = now_iso()
    dep = {
        "type": "deployment",
        "id": new_id("depl"),
        "name": _name(body["name"]),
        "description": body.get("description") or None,
        "agent": _agent_ref(store, body["agent"]),
        "environment_id": body["environment_id"],
        "initial_events": _initial_events(list(body["initial_events"])),
        "resources": _resources(store, list(body.get("resources") or [])),
        "vault_ids": _vault_ids(store, list(body.get("vault_ids") or [])),
        "budget": copy.deepcopy(body.get("budget")),
        "schedule": None,
        "status": "active",
        "paused_reason": None,
        "metadata": dict(body.get("metadata") or {}),
        "created_at": stamp,
        "updated_at": stamp,
        "archived_at": None,
    }
    _environment(store, body["environment_id"])
    if body.get("schedule") is not None:
        dep["schedule"] = {**check_schedule(body["schedule"]), "last_run_at": None, "upcoming_runs_at": []}
    record = {"wire": dep, "resources": copy.deepcopy(list(body.get("resources") or []))}
    with store.lock:
        store.deployments[dep["id"]] = record
    _scheduler(request).reset(dep["id"])
    store.bump("deployments_created")
    return ok(_wire(request, record))


async def retrieve(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    return ok(_wire(request, _record(store_of(request), request.path_params["deployment_id"])))


def _live(store: Store, deployment_id: str, action: str) -> dict[str, Any]:
    record = _record(store, deployment_id)
    if record["wire"]["archived_at"]:
        raise ApiError(400, f"Deployment {deployment_id} is archived and cannot be {action}")
    return record


async def update(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    body = await read_json(request, deployment_update_params.DeploymentUpdateParams)
    store = store_of(request)
    with store.lock:
        record = _live(store, request.path_params["deployment_id"], "updated")
        dep = record["wire"]
        changed = copy.deepcopy(dep)
        raw_resources = record["resources"]
        if "name" in body:
            changed["name"] = _name(body["name"])
        if "description" in body:
            changed["description"] = body["description"] or None
        if "agent" in body:
            changed["agent"] = _agent_ref(store, body["agent"])
        if "environment_id" in body:
            _environment(store, body["environment_id"])
            changed["environment_id"] = body["environment_id"]
        if "initial_events" in body:
            changed["initial_events"] = _initial_events(list(body["initial_events"]))
        if "resources" in body:
            raw_resources = copy.deepcopy(list(body["resources"] or []))
            changed["resources"] = _resources(store, raw_resources)
        if "vault_ids" in body:
            changed["vault_ids"] = _vault_ids(store, list(body["vault_ids"] or []))
        if "budget" in body:
            check_budget(body["budget"])
            changed["budget"] = copy.deepcopy(body["budget"])
        schedule_changed = False
        if "schedule" in body:
            if body["schedule"] is None:
                changed["schedule"] = None
            else:
                fresh = check_schedule(body["schedule"])
                last = (dep["schedule"] or {}).get("last_run_at")
                changed["schedule"] = {**fresh, "last_run_at": last, "upcoming_runs_at": []}
            schedule_changed = changed["schedule"] != dep["schedule"]
        resources_changed = raw_resources != record["resources"]
        if apply_update(dep, changed, body.get("metadata"), also_changed=resources_changed):
            record["resources"] = raw_resources
    if schedule_changed:
        _scheduler(request).reset(dep["id"])
    return ok(_wire(request, record))


async def list_deployments(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    include_archived = q_bool(request, "include_archived")
    status = request.query_params.get("status")
    if status is not None and status not in ("active", "paused"):
        raise ApiError(400, f"status: {status!r} is not one of 'active', 'paused'")
    if status is not None and include_archived:
        raise ApiError(400, "status and include_archived cannot be combined")
    agent_id = request.query_params.get("agent_id")
    keep = time_filter(request, ops=("gte", "lte"))
    with store.lock:
        records = list(store.deployments.values())
    items = [
        _wire(request, r)
        for r in records
        if (include_archived or not r["wire"]["archived_at"])
        and (status is None or r["wire"]["status"] == status)
        and (agent_id is None or r["wire"]["agent"]["id"] == agent_id)
        and keep(r["wire"]["created_at"])
    ]
    return list_response(request, items[::-1], kind="deployments", order="desc")


async def archive(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    with store.lock:
        record = _record(store, request.path_params["deployment_id"])
        dep = record["wire"]
        if not dep["archived_at"]:
            # archived deployments report `active` (with archived_at) and never fire again
            dep.update(status="active", paused_reason=None)
            dep["archived_at"] = dep["updated_at"] = now_iso()
    return ok(_wire(request, record))


def _set_status(request: Request, status: str, paused_reason: dict[str, Any] | None) -> dict[str, Any]:
    """Pause (`status` "paused") or unpause ("active") a live deployment; its record."""
    require_beta(request, BETA)
    store = store_of(request)
    action = "paused" if status == "paused" else "unpaused"
    with store.lock:
        record = _live(store, request.path_params["deployment_id"], action)
        dep = record["wire"]
        if dep["status"] != status:
            dep.update(status=status, paused_reason=paused_reason, updated_at=now_iso())
    return record


async def pause(request: Request) -> JSONResponse:
    return ok(_wire(request, _set_status(request, "paused", {"type": "manual"})))


async def unpause(request: Request) -> JSONResponse:
    record = _set_status(request, "active", None)
    _scheduler(request).reset(record["wire"]["id"])  # occurrences missed while paused are not caught up
    return ok(_wire(request, record))


async def run(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    await read_json(request)  # no body params
    record = _live(store_of(request), request.path_params["deployment_id"], "run")
    return ok(await fire(request.app, record, {"type": "manual"}))


# -- firing -----------------------------------------------------------------------------------------
def _precheck(store: Store, dep: dict[str, Any], resources: list[dict[str, Any]]) -> None:
    """The run errors the service names, checked before the session is created."""
    agent = store.agents.get(dep["agent"]["id"])
    if agent and agent[-1].get("archived_at"):
        raise RunError("agent_archived_error", f"Agent {dep['agent']['id']} is archived")
    env = store.environments.get(dep["environment_id"])
    if env is None:
        raise RunError("environment_not_found_error", f"Environment {dep['environment_id']} no longer exists")
    if env.get("archived_at"):
        raise RunError("environment_archived_error", f"Environment {dep['environment_id']} is archived")
    for vault_id in dep["vault_ids"]:
        if vault_id in store.deleted_ids:
            raise RunError("vault_not_found_error", f"Vault {vault_id} no longer exists")
        if (store.vaults.get(vault_id) or {}).get("archived_at"):
            raise RunError("vault_archived_error", f"Vault {vault_id} is archived")
    for res in resources:
        if res["type"] == "file" and store.get_file(res["file_id"]) is None:
            raise RunError("file_not_found_error", f"File {res['file_id']} no longer exists")
        if res["type"] == "memory_store":
            store_id = res["memory_store_id"]
            if store_id in store.memory.deleted:
                raise RunError("session_resource_not_found_error", f"Memory store {store_id} no longer exists")
            if (store.memory.stores.get(store_id) or {}).get("archived_at"):
                raise RunError("memory_store_archived_error", f"Memory store {store_id} is archived")


async def fire(app: Any, record: dict[str, Any], trigger: dict[str, Any]) -> dict[str, Any]:
    """Create a session from the deployment now and record the run (never raises)."""
    store: Store = app.state.store
    dep = record["wire"]
    run_record: dict[str, Any] = {
        "type": "deployment_run", "id": new_id("drun"), "deployment_id": dep["id"],
        "agent": dict(dep["agent"]), "trigger_context": trigger, "session_id": None, "error": None,
        "created_at": now_iso(),
    }
    body = {
        "agent": dict(dep["agent"]), "environment_id": dep["environment_id"],
        "resources": copy.deepcopy(record["resources"]), "vault_ids": list(dep["vault_ids"]),
        "initial_events": copy.deepcopy(dep["initial_events"]),
    }
    for event in body["initial_events"]:
        if event.get("max_iterations", 0) is None:
            del event["max_iterations"]
    if dep["budget"] is not None:
        body["budget"] = copy.deepcopy(dep["budget"])
    try:
        _precheck(store, dep, body["resources"])
        session = await open_session(app, body, deployment_id=dep["id"])
        run_record["session_id"] = session["id"]
    except RunError as exc:
        run_record["error"] = exc.error
    except ApiError as exc:
        kind = "session_rate_limited_error" if exc.status == 429 else (
            "session_creation_rejected_error" if exc.status < 500 else "unknown_error")
        run_record["error"] = {"type": kind, "message": exc.message}
    except Exception as exc:  # noqa: BLE001 - a fire is recorded, never lost
        log.exception("deployment %s: session creation failed", dep["id"])
        run_record["error"] = {"type": "unknown_error", "message": f"{type(exc).__name__}: {exc}"}
    with store.lock:
        store.deployment_runs[run_record["id"]] = run_record
        if trigger["type"] == "schedule" and dep["schedule"] is not None:
            dep["schedule"]["last_run_at"] = run_record["created_at"]
            error = run_record["error"]
            if error is not None and error["type"] in _PAUSING and not dep["archived_at"]:
                # A paused reason's error object is only its type (the run keeps the message).
                dep.update(status="paused", paused_reason={"type": "error", "error": {"type": error["type"]}},
                           updated_at=now_iso())
    store.bump("deployment_runs")
    return run_record


# -- deployment runs --------------------------------------------------------------------------------
async def retrieve_run(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    run_id = request.path_params["deployment_run_id"]
    with store.lock:
        found = store.deployment_runs.get(run_id)
    if found is None:
        raise ApiError(404, f"Deployment run {run_id} not found")
    return ok(found)


async def list_runs(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    q = request.query_params
    has_error = q_bool(request, "has_error") if "has_error" in q else None
    trigger = q.get("trigger_type")
    if trigger is not None and trigger not in ("schedule", "manual"):
        raise ApiError(400, f"trigger_type: {trigger!r} is not one of 'schedule', 'manual'")
    keep = time_filter(request)
    q_int(request, "limit", 20, 1, 1000)
    with store.lock:
        runs = list(store.deployment_runs.values())
    items = [
        r for r in runs
        if (q.get("deployment_id") is None or r["deployment_id"] == q["deployment_id"])
        and (has_error is None or (r["error"] is not None) == has_error)
        and (trigger is None or r["trigger_context"]["type"] == trigger)
        and keep(r["created_at"])
    ]
    return list_response(request, items[::-1], kind="deployment_runs", order="desc", max_limit=1000)


ROUTES = [
    ("POST", "/v1/deployments", create),
    ("GET", "/v1/deployments", list_deployments),
    ("GET", "/v1/deployments/{deployment_id}", retrieve),
    ("POST", "/v1/deployments/{deployment_id}", update),
    ("POST", "/v1/deployments/{deployment_id}/archive", archive),
    ("POST", "/v1/deployments/{deployment_id}/pause", pause),
    ("POST", "/v1/deployments/{deployment_id}/unpause", unpause),
    ("POST", "/v1/deployments/{deployment_id}/run", run),
    ("GET", "/v1/deployment_runs", list_runs),
    ("GET", "/v1/deployment_runs/{deployment_run_id}", retrieve_run),
]
