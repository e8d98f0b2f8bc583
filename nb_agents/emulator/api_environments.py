"""Environments endpoints: create (unique names), retrieve, update, list, delete, archive."""

from __future__ import annotations

from typing import Any

from anthropic.types.beta import environment_create_params, environment_update_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_common import apply_update, list_archivable, ok, read_json, store_of
from .common import ApiError, new_id, now_iso
from .resolve import check_metadata, resolve_env_config
from .store import Store

__all__ = ["ROUTES"]


def _check_scope(scope: str | None) -> str:
    # The emulator behaves like an API organization: only 'organization' is allowed.
    if scope == "account":
        raise ApiError(400, "scope: 'account' is not supported for API organizations; use 'organization'")
    return "organization"


def _check_name(store: Store, name: str, own_id: str | None = None) -> None:
    if not name.strip():
        raise ApiError(400, "name: must not be empty")
    for env in store.environments.values():
        if env["name"] == name and env["id"] != own_id and not env.get("archived_at"):
            raise ApiError(
                409,
                f"An environment named {name!r} already exists ({env['id']})",
                error_type="invalid_request_error",
            )


async def create(request: Request) -> JSONResponse:
    body = await read_json(request, environment_create_params.EnvironmentCreateParams)
    store = store_of(request)
    check_metadata(body.get("metadata") or {})
    stamp = now_iso()
    env: dict[str, Any] = {
        "type": "environment",
        "id": new_id("env"),
        "name": body["name"],
        "description": body.get("description") or None,
        "config": resolve_env_config(body.get("config")),
        "metadata": dict(body.get("metadata") or {}),
        "scope": _check_scope(body.get("scope")),
        "created_at": stamp,
        "updated_at": stamp,
        "archived_at": None,
    }
    with store.lock:
        _check_name(store, env["name"])
        store.environments[env["id"]] = env
    store.bump("environments_created")
    return ok(env)


async def retrieve(request: Request) -> JSONResponse:
    return ok(store_of(request).environment(request.path_params["environment_id"]))


async def update(request: Request) -> JSONResponse:
    body = await read_json(request, environment_update_params.EnvironmentUpdateParams)
    store = store_of(request)
    with store.lock:
        env = store.environment(request.path_params["environment_id"])
        if env.get("archived_at"):
            raise ApiError(400, f"Environment {env['id']} is archived", error_code="environment_archived")
        changed = dict(env)
        if body.get("name") is not None:
            _check_name(store, body["name"], env["id"])
            changed["name"] = body["name"]
        if "description" in body:
            changed["description"] = body["description"] or None
        if body.get("config") is not None:
            new_type = body["config"]["type"]
            if new_type != env["config"]["type"]:
                raise ApiError(
                    400,
                    f"config.type: cannot change an environment from {env['config']['type']!r} to {new_type!r}",
                    error_code="invalid_config_type_change",
                )
            changed["config"] = resolve_env_config(body["config"])
        if "scope" in body:
            changed["scope"] = _check_scope(body["scope"])
        apply_update(env, changed, body.get("metadata"))
    return ok(env)


async def list_environments(request: Request) -> JSONResponse:
    store = store_of(request)
    return list_archivable(request, store.lock, store.environments.values(), kind="environments", dated=False)


async def delete(request: Request) -> JSONResponse:
    store = store_of(request)
    with store.lock:
        env = store.environment(request.path_params["environment_id"])
        del store.environments[env["id"]]
    return ok({"id": env["id"], "type": "environment_deleted"})


async def archive(request: Request) -> JSONResponse:
    store = store_of(request)
    with store.lock:
        env = store.environment(request.path_params["environment_id"])
        if not env.get("archived_at"):
            env["archived_at"] = env["updated_at"] = now_iso()
    return ok(env)


ROUTES = [
    ("POST", "/v1/environments", create),
    ("GET", "/v1/environments", list_environments),
    ("GET", "/v1/environments/{environment_id}", retrieve),
    ("POST", "/v1/environments/{environment_id}", update),
    ("DELETE", "/v1/environments/{environment_id}", delete),
    ("POST", "/v1/environments/{environment_id}/archive", archive),
]
