"""Helpers shared by the `api_*` endpoint modules: body and query parsing, list responses (also of
archivable objects), applying an update."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .common import ApiError, EmulatorConfig, now_iso, parse_iso
from .resolve import patch_metadata
from .store import Page, Store, paginate
from .validation import validate_body

__all__ = [
    "store_of",
    "config_of",
    "read_json",
    "q_int",
    "q_bool",
    "q_list",
    "q_order",
    "time_filter",
    "list_response",
    "list_archivable",
    "apply_update",
    "ok",
    "require_beta",
    "api_key_id",
]


def store_of(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def config_of(request: Request) -> EmulatorConfig:
    return request.app.state.config  # type: ignore[no-any-return]


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


async def read_json(
    request: Request, params_type: Any | None = None, *, path_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The JSON body (an object), validated against a params TypedDict when given (`path_keys`:
    its params that travel in the URL)."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    if params_type is not None:
        return validate_body(params_type, body, path_keys=path_keys)
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def q_int(request: Request, name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name}: expected an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ApiError(400, f"{name}: must be between {lo} and {hi}, got {value}")
    return value


def q_bool(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"{name}: expected true or false, got {raw!r}")


def q_list(request: Request, name: str) -> list[str] | None:
    """`name[]=a&name[]=b` (the SDK's bracket format) or repeated `name=`; None when absent."""
    values = request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)
    return values if values else None


def q_order(request: Request, default: str) -> str:
    order = request.query_params.get("order", default)
    if order not in ("asc", "desc"):
        raise ApiError(400, f"order: {order!r} is not one of 'asc', 'desc'")
    return order


_OPS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def time_filter(
    request: Request, name: str = "created_at", ops: tuple[str, ...] = ("gt", "gte", "lt", "lte")
) -> Any:
    """A predicate on a timestamp string from `name[gte]=...` style query parameters."""
    bounds: list[tuple[str, datetime]] = []
    for op in ops:
        raw = request.query_params.get(f"{name}[{op}]")
        if raw is None:
            continue
        try:
            bounds.append((op, parse_iso(raw)))
        except ValueError:
            raise ApiError(400, f"{name}[{op}]: expected an RFC 3339 timestamp, got {raw!r}") from None

    def keep(stamp: str | None) -> bool:
        if not bounds:
            return True
        if stamp is None:
            return False
        value = parse_iso(stamp)
        return all(_OPS[op](value, bound) for op, bound in bounds)

    return keep


def list_response(
    request: Request,
    items: list[Any],
    *,
    kind: str,
    order: str = "asc",
    default_limit: int = 20,
    max_limit: int = 100,
    prev: bool = False,
    cap: int | None = None,
) -> JSONResponse:
    limit = q_int(request, "limit", default_limit, 1, max_limit)
    assert limit is not None
    if cap is not None:
        limit = min(limit, cap)
    page: Page = paginate(
        items, limit=limit, page=request.query_params.get("page") or None, kind=kind, order=order
    )
    body: dict[str, Any] = {"data": page.data, "next_page": page.next_page}
    if prev:
        body["prev_page"] = page.prev_page
    return ok(body)


def list_archivable(
    request: Request,
    lock: AbstractContextManager[Any],
    stored: Iterable[dict[str, Any]],
    *,
    kind: str,
    dated: bool = True,
) -> JSONResponse:
    """List wire objects newest first (`stored`, oldest first, is read under `lock`): archived ones
    only with `include_archived=true` and, when `dated`, only those created within
    `created_at[gte]` and `created_at[lte]`."""
    include_archived = q_bool(request, "include_archived")
    keep = time_filter(request, ops=("gte", "lte") if dated else ())
    with lock:
        stored = list(stored)
    items = [o for o in stored if (include_archived or not o.get("archived_at")) and keep(o["created_at"])]
    return list_response(request, items[::-1], kind=kind, order="desc")


def apply_update(
    current: dict[str, Any],
    changed: dict[str, Any],
    metadata: dict[str, str | None] | None,
    *,
    also_changed: bool = False,
) -> bool:
    """End an update: `changed`, an edited copy of `current`, gets `current`'s metadata patched with
    the body's `metadata`; if it then differs from `current` (or `also_changed`, for state kept
    beside the wire object), it is stamped `updated_at` and copied into `current`. Returns whether
    it was."""
    changed["metadata"] = patch_metadata(current["metadata"], metadata)
    if changed == current and not also_changed:
        return False
    changed["updated_at"] = now_iso()
    current.update(changed)
    return True


def require_beta(request: Request, *accepted: str) -> None:
    """The families served beside sessions check their beta header as the service does: one of
    `accepted` must be among the comma-separated `anthropic-beta` values (other values may ride along)."""
    sent = {b.strip() for b in request.headers.get("anthropic-beta", "").split(",") if b.strip()}
    if not sent & set(accepted):
        names = " or ".join(repr(b) for b in accepted)
        raise ApiError(400, f"This endpoint is in beta: the anthropic-beta header must include {names}")


def api_key_id(request: Request) -> str:
    """A stable `apikey_...` id for the request's API key (an id, never the key)."""
    key = request.headers.get("x-api-key") or request.headers.get("authorization", "")[7:].strip()
    return "apikey_01" + hashlib.sha256(key.encode()).hexdigest()[:22]
