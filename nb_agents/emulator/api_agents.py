"""Agents endpoints: create, retrieve (`?version=N`), update (versioned), list, archive, versions."""

from __future__ import annotations

import copy
from typing import Any

from anthropic.types.beta import agent_create_params, agent_update_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_common import list_archivable, list_response, ok, q_int, read_json, store_of
from .common import ApiError, new_id, now_iso
from .resolve import (
    check_metadata,
    patch_metadata,
    resolve_execution_identity,
    resolve_model,
    resolve_multiagent,
    resolve_skills,
    resolve_tools,
)
from .surface import check_roster

__all__ = ["ROUTES", "SNAPSHOT_KEYS", "build_agent", "session_snapshot", "versioned_fields"]

# Fields that define an agent version (a change to any of them makes a new version).
_VERSIONED = (
    "name",
    "description",
    "system",
    "model",
    "tools",
    "mcp_servers",
    "skills",
    "multiagent",
    "execution_identity",
    "metadata",
)
# The keys a session's agent snapshot copies as they are (threads show the same ones).
SNAPSHOT_KEYS = ("type", "id", "version", "name", "description", "system", "model", "tools", "mcp_servers", "skills")


def _check_text(body: dict[str, Any]) -> None:
    if "name" in body and not body["name"].strip():
        raise ApiError(400, "name: must not be empty")
    if len(body.get("description") or "") > 2048:
        raise ApiError(400, "description: must be at most 2048 characters")
    if len(body.get("system") or "") > 100_000:
        raise ApiError(400, "system: must be at most 100000 characters")


def build_agent(fields: dict[str, Any], *, agent_id: str, version: int) -> dict[str, Any]:
    """Resolve params-shaped fields into the wire `BetaManagedAgentsAgent` body (no timestamps)."""
    _check_text(fields)
    servers = [{"type": "url", "name": s["name"], "url": s["url"]} for s in fields.get("mcp_servers") or []]
    return {
        "type": "agent",
        "id": agent_id,
        "version": version,
        "name": fields["name"],
        "description": fields.get("description") or None,
        "system": fields.get("system") or None,
        "model": resolve_model(fields["model"]),
        "tools": resolve_tools(fields.get("tools"), servers),
        "mcp_servers": servers,
        "skills": resolve_skills(fields.get("skills")),
        "multiagent": resolve_multiagent(
            fields.get("multiagent"), {"type": "agent", "id": agent_id, "version": version}
        ),
        "execution_identity": resolve_execution_identity(fields.get("execution_identity")),
        "metadata": dict(fields.get("metadata") or {}),
    }


def session_snapshot(agent: dict[str, Any]) -> dict[str, Any]:
    """The `BetaManagedAgentsSessionAgent` snapshot a session keeps of an agent version."""
    snap = {k: copy.deepcopy(agent[k]) for k in SNAPSHOT_KEYS}
    snap["multiagent"] = copy.deepcopy(agent.get("multiagent"))
    snap["execution_identity"] = copy.deepcopy(agent["execution_identity"])
    return snap


async def create(request: Request) -> JSONResponse:
    body = await read_json(request, agent_create_params.AgentCreateParams)
    check_metadata(body.get("metadata") or {})
    store = store_of(request)
    check_roster(store, body.get("multiagent"))
    agent = build_agent(body, agent_id=new_id("agent"), version=1)
    stamp = now_iso()
    agent.update(created_at=stamp, updated_at=stamp, archived_at=None)
    with store.lock:
        store.agents[agent["id"]] = [agent]
    store.bump("agents_created")
    return ok(agent)


async def retrieve(request: Request) -> JSONResponse:
    version = q_int(request, "version", None, 1, 2**31)
    return ok(store_of(request).agent(request.path_params["agent_id"], version))


def versioned_fields(agent: dict[str, Any]) -> dict[str, Any]:
    """Params-shaped fields of a stored agent, so an update can re-resolve them."""
    return {k: copy.deepcopy(agent[k]) for k in _VERSIONED}


async def update(request: Request) -> JSONResponse:
    body = await read_json(request, agent_update_params.AgentUpdateParams)
    store = store_of(request)
    agent_id = request.path_params["agent_id"]
    with store.lock:
        current = store.agent(agent_id)
        if current.get("archived_at"):
            raise ApiError(400, f"Agent {agent_id} is archived and cannot be updated")
        if "version" in body and body["version"] < 1:
            raise ApiError(400, "version: must be at least 1")
        if "version" in body and body["version"] != current["version"]:
            raise ApiError(
                409,
                f"Agent {agent_id} has version {current['version']}, but the update was based on version "
                f"{body['version']}; retrieve the agent and retry",
                error_type="invalid_request_error",
            )
        fields = versioned_fields(current)
        check_roster(store, body.get("multiagent"), agent_id)
        for key in ("name", "description", "system", "model", "tools", "mcp_servers", "skills", "multiagent"):
            if key in body:
                if key == "model" and body[key] is None:
                    raise ApiError(400, "model: cannot be cleared")
                fields[key] = body[key]
        if "execution_identity" in body:
            fields["execution_identity"] = body["execution_identity"]
        fields["metadata"] = patch_metadata(current["metadata"], body.get("metadata"))
        candidate = build_agent(fields, agent_id=agent_id, version=current["version"])
        if all(candidate[k] == current[k] for k in _VERSIONED):
            return ok(current)  # nothing really changed: no new version
        candidate.update(
            version=current["version"] + 1,
            created_at=current["created_at"],
            updated_at=now_iso(),
            archived_at=None,
        )
        store.agents[agent_id].append(candidate)
    return ok(candidate)


async def list_agents(request: Request) -> JSONResponse:
    store = store_of(request)
    latest = (versions[-1] for versions in store.agents.values())
    return list_archivable(request, store.lock, latest, kind="agents")


async def archive(request: Request) -> JSONResponse:
    store = store_of(request)
    with store.lock:
        agent = store.agent(request.path_params["agent_id"])
        if not agent.get("archived_at"):
            stamp = now_iso()
            for version in store.agents[agent["id"]]:
                version["archived_at"] = stamp
            agent["updated_at"] = stamp
    return ok(agent)


async def list_versions(request: Request) -> JSONResponse:
    store = store_of(request)
    with store.lock:
        store.agent(request.path_params["agent_id"])  # 404 for unknown ids
        versions = list(store.agents[request.path_params["agent_id"]])
    return list_response(request, versions[::-1], kind="agent_versions", order="desc")


ROUTES = [
    ("POST", "/v1/agents", create),
    ("GET", "/v1/agents", list_agents),
    ("GET", "/v1/agents/{agent_id}", retrieve),
    ("POST", "/v1/agents/{agent_id}", update),
    ("POST", "/v1/agents/{agent_id}/archive", archive),
    ("GET", "/v1/agents/{agent_id}/versions", list_versions),
]
