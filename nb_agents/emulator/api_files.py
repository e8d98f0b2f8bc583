"""Files endpoints: multipart upload, list (`scope_id`, `ids[]`, newest first), metadata, download, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .api_common import config_of, list_response, ok, q_list, store_of
from .common import ApiError

__all__ = ["ROUTES"]

MIN_EXPIRES, MAX_EXPIRES = 3600, 7_776_000


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"File exceeds the maximum allowed size of {limit} bytes")


async def upload(request: Request) -> JSONResponse:
    limit = config_of(request).max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise ApiError(400, "Content-Type must be multipart/form-data with a `file` part")
    form = await request.form(max_files=1, max_fields=4)
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise ApiError(400, "file: a multipart part named `file` is required")
        unknown = set(form.keys()) - {"file", "expires_in_seconds"}
        if unknown:
            raise ApiError(400, f"{sorted(unknown)[0]}: Extra inputs are not permitted")
        expires = _expires(form.get("expires_in_seconds"))
        data = await part.read()
        if len(data) > limit:
            raise _too_large(limit)
        # Hosted, files you upload cannot be downloaded again (only files the agent or a
        # tool created can): the metadata says `downloadable: false`.
        meta = store_of(request).add_file(
            part.filename or "unnamed",
            data,
            part.content_type,
            downloadable=False,
            expires_in_seconds=expires,
        )
    finally:
        await form.close()
    store_of(request).bump("uploads")
    return ok(meta)


def _expires(raw: Any) -> int | None:
    if raw is None:
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise ApiError(400, f"expires_in_seconds: expected an integer, got {raw!r}") from None
    if not MIN_EXPIRES <= value <= MAX_EXPIRES:
        raise ApiError(
            400, f"expires_in_seconds: must be between {MIN_EXPIRES} and {MAX_EXPIRES}, got {value}"
        )
    return value


async def list_files(request: Request) -> JSONResponse:
    store = store_of(request)
    ids = q_list(request, "ids")
    scope_id = request.query_params.get("scope_id")
    files = store.all_files()
    if scope_id is not None:
        files = [f for f in files if (f.get("scope") or {}).get("id") == scope_id]
    if ids is not None:
        if "page" in request.query_params or "limit" in request.query_params:
            raise ApiError(400, "ids: cannot be combined with page or limit")
        if len(ids) > 100:
            raise ApiError(400, "ids: at most 100 ids are allowed")
        wanted = set(ids)
        return ok({"data": [f for f in files if f["id"] in wanted], "next_page": None})
    return list_response(request, files, kind=f"files:{scope_id or ''}", order="desc", max_limit=1000)


def _meta(request: Request) -> dict[str, Any]:
    file_id = request.path_params["file_id"]
    meta = store_of(request).get_file(file_id)
    if meta is None:
        raise ApiError(404, f"File {file_id} not found")
    return meta


async def retrieve(request: Request) -> JSONResponse:
    return ok(_meta(request))


async def download(request: Request) -> Response:
    meta = _meta(request)
    if not meta.get("downloadable", True):
        raise ApiError(400, f"File {meta['id']} is not downloadable", error_code="file_not_downloadable")
    store = store_of(request)
    data = store.file_bytes(meta["id"])
    store.bump("downloads")
    return Response(
        data, media_type=meta["mime_type"], headers={"content-disposition": _disposition(meta["filename"])}
    )


def _disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name, safe for any file name
    (control characters, quotes and non-latin-1 text cannot break the header)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def delete(request: Request) -> JSONResponse:
    meta = _meta(request)
    store_of(request).delete_file(meta["id"])
    return ok({"id": meta["id"], "type": "file_deleted"})


ROUTES = [
    ("POST", "/v1/files", upload),
    ("GET", "/v1/files", list_files),
    ("GET", "/v1/files/{file_id}", retrieve),
    ("GET", "/v1/files/{file_id}/content", download),
    ("DELETE", "/v1/files/{file_id}", delete),
]
