"""Memory store endpoints: stores (create, retrieve, update, list, delete, archive), their
memories (create, retrieve, update, list, delete) and memory versions (retrieve, list, redact).

Every route needs the `agent-memory-2026-07-22` or `managed-agents-2026-04-01` beta. The data and
the sessions' mounted directories live in `memory.MemoryBank`; each handler syncs the store's
mounts first, so what agents wrote is visible, and again after a change, so agents see it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anthropic.types.beta import memory_store_create_params, memory_store_update_params
from anthropic.types.beta.memory_stores import memory_create_params, memory_update_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_common import (
    api_key_id,
    apply_update,
    list_archivable,
    list_response,
    ok,
    q_int,
    read_json,
    require_beta,
    store_of,
    time_filter,
)
from .common import ApiError, now_iso
from .memory import MemoryBank, check_store_fields

__all__ = ["ROUTES", "BETAS", "api_actor"]

BETAS = ("agent-memory-2026-07-22", "managed-agents-2026-04-01")
_OPERATIONS = ("created", "modified", "deleted")


def api_actor(request: Request) -> dict[str, Any]:
    return {"type": "api_actor", "api_key_id": api_key_id(request)}


def _bank(request: Request) -> MemoryBank:
    require_beta(request, *BETAS)
    return store_of(request).memory


def _view(request: Request, default: str) -> str:
    view = request.query_params.get("view", default)
    if view not in ("basic", "full"):
        raise ApiError(400, f"view: {view!r} is not one of 'basic', 'full'")
    return view


def _shown(obj: dict[str, Any], view: str) -> dict[str, Any]:
    return obj if view == "full" else {**obj, "content": None}


def _store_id(request: Request, bank: MemoryBank) -> str:
    store_id = request.path_params["memory_store_id"]
    bank.store(store_id)  # 404 first
    bank.sync_store(store_id)
    return store_id


# -- stores -----------------------------------------------------------------------------------
async def create_store(request: Request) -> JSONResponse:
    bank = _bank(request)
    body = await read_json(request, memory_store_create_params.MemoryStoreCreateParams)
    store = bank.create_store(body["name"], body.get("description") or "", body.get("metadata"))
    store_of(request).bump("memory_stores_created")
    return ok(store)


async def retrieve_store(request: Request) -> JSONResponse:
    return ok(_bank(request).store(request.path_params["memory_store_id"]))


async def update_store(request: Request) -> JSONResponse:
    bank = _bank(request)
    body = await read_json(request, memory_store_update_params.MemoryStoreUpdateParams)
    with bank.lock:
        store = bank.store(request.path_params["memory_store_id"])
        if store.get("archived_at"):
            raise ApiError(400, f"Memory store {store['id']} is archived and cannot be updated")
        check_store_fields(body)
        changed = dict(store)
        if body.get("name") is not None:
            changed["name"] = body["name"]
        if "description" in body:
            changed["description"] = body["description"] or ""
        apply_update(store, changed, body.get("metadata"))
    return ok(store)


async def list_stores(request: Request) -> JSONResponse:
    bank = _bank(request)
    return list_archivable(request, bank.lock, bank.stores.values(), kind="memory_stores")


async def delete_store(request: Request) -> JSONResponse:
    bank = _bank(request)
    store_id = request.path_params["memory_store_id"]
    bank.delete_store(store_id)
    return ok({"id": store_id, "type": "memory_store_deleted"})


async def archive_store(request: Request) -> JSONResponse:
    bank = _bank(request)
    with bank.lock:
        store = bank.store(request.path_params["memory_store_id"])
        if not store.get("archived_at"):
            bank.sync_store(store["id"])  # keep what attached agents wrote up to now
            store["archived_at"] = store["updated_at"] = now_iso()
    return ok(store)


# -- memories ---------------------------------------------------------------------------------
async def create_memory(request: Request) -> JSONResponse:
    bank = _bank(request)
    view = _view(request, "basic")
    body = await read_json(request, memory_create_params.MemoryCreateParams, path_keys=("view",))
    store_id = _store_id(request, bank)
    mem = bank.create_memory(store_id, body["path"], body["content"] or "", api_actor(request))
    bank.sync_store(store_id)
    return ok(_shown(mem, view))


def _retrieve(
    request: Request, lookup: Callable[[MemoryBank, str, str], dict[str, Any]], id_key: str
) -> JSONResponse:
    """A memory or a memory version (`lookup` by the store's id and the path param `id_key`), in the
    `view` asked for, full by default."""
    bank = _bank(request)
    view = _view(request, "full")
    store_id = _store_id(request, bank)
    return ok(_shown(lookup(bank, store_id, request.path_params[id_key]), view))


async def retrieve_memory(request: Request) -> JSONResponse:
    return _retrieve(request, MemoryBank.memory, "memory_id")


async def update_memory(request: Request) -> JSONResponse:
    bank = _bank(request)
    view = _view(request, "basic")
    body = await read_json(
        request, memory_update_params.MemoryUpdateParams, path_keys=("memory_store_id", "view")
    )
    store_id = _store_id(request, bank)
    precondition = body.get("precondition")
    if precondition is not None and "content_sha256" not in precondition:
        raise ApiError(400, "precondition.content_sha256: Field required")
    mem = bank.update_memory(
        store_id,
        request.path_params["memory_id"],
        content=body.get("content"),
        path=body.get("path"),
        expected_sha=(precondition or {}).get("content_sha256"),
        actor=api_actor(request),
    )
    bank.sync_store(store_id)
    return ok(_shown(mem, view))


async def list_memories(request: Request) -> JSONResponse:
    bank = _bank(request)
    view = _view(request, "basic")
    depth = q_int(request, "depth", 0, 0, 20)
    prefix = request.query_params.get("path_prefix")
    if prefix is not None and not (prefix.startswith("/") and prefix.endswith("/")):
        raise ApiError(400, "path_prefix: must start and end with '/'")
    store_id = _store_id(request, bank)
    items = [_shown(m, view) if m["type"] == "memory" else m
             for m in bank.list_memories(store_id, prefix, depth or 0)]
    return list_response(request, items, kind="memories", cap=20 if view == "full" else None)


async def delete_memory(request: Request) -> JSONResponse:
    bank = _bank(request)
    expected = request.query_params.get("expected_content_sha256")
    store_id = _store_id(request, bank)
    memory_id = request.path_params["memory_id"]
    bank.delete_memory(store_id, memory_id, expected_sha=expected, actor=api_actor(request))
    bank.sync_store(store_id)
    return ok({"id": memory_id, "type": "memory_deleted"})


# -- versions ---------------------------------------------------------------------------------
async def retrieve_version(request: Request) -> JSONResponse:
    return _retrieve(request, MemoryBank.version, "memory_version_id")


async def list_versions(request: Request) -> JSONResponse:
    bank = _bank(request)
    view = _view(request, "basic")
    operation = request.query_params.get("operation")
    if operation is not None and operation not in _OPERATIONS:
        raise ApiError(400, f"operation: {operation!r} is not one of {', '.join(map(repr, _OPERATIONS))}")
    keep = time_filter(request, ops=("gte", "lte"))
    q = request.query_params
    actor_filters = {
        "session_id": ("session_actor", "session_id"),
        "api_key_id": ("api_actor", "api_key_id"),
        "service_account_id": ("service_account_actor", "service_account_id"),
    }
    store_id = _store_id(request, bank)

    def wanted(v: dict[str, Any]) -> bool:
        if q.get("memory_id") and v["memory_id"] != q["memory_id"]:
            return False
        if operation and v["operation"] != operation:
            return False
        for param, (actor_type, key) in actor_filters.items():
            if q.get(param) and not (
                (v.get("created_by") or {}).get("type") == actor_type and v["created_by"][key] == q[param]
            ):
                return False
        return bool(keep(v["created_at"]))

    with bank.lock:
        items = [_shown(v, view) for v in bank.versions[store_id] if wanted(v)]
    return list_response(
        request, items[::-1], kind="memory_versions", order="desc", cap=20 if view == "full" else None
    )


async def redact_version(request: Request) -> JSONResponse:
    bank = _bank(request)
    await read_json(request)  # no body params
    store_id = _store_id(request, bank)
    return ok(bank.redact(store_id, request.path_params["memory_version_id"], api_actor(request)))


ROUTES = [
    ("POST", "/v1/memory_stores", create_store),
    ("GET", "/v1/memory_stores", list_stores),
    ("GET", "/v1/memory_stores/{memory_store_id}", retrieve_store),
    ("POST", "/v1/memory_stores/{memory_store_id}", update_store),
    ("DELETE", "/v1/memory_stores/{memory_store_id}", delete_store),
    ("POST", "/v1/memory_stores/{memory_store_id}/archive", archive_store),
    ("POST", "/v1/memory_stores/{memory_store_id}/memories", create_memory),
    ("GET", "/v1/memory_stores/{memory_store_id}/memories", list_memories),
    ("GET", "/v1/memory_stores/{memory_store_id}/memories/{memory_id}", retrieve_memory),
    ("POST", "/v1/memory_stores/{memory_store_id}/memories/{memory_id}", update_memory),
    ("DELETE", "/v1/memory_stores/{memory_store_id}/memories/{memory_id}", delete_memory),
    ("GET", "/v1/memory_stores/{memory_store_id}/memory_versions", list_versions),
    ("GET", "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}", retrieve_version),
    ("POST", "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}/redact", redact_version),
]
