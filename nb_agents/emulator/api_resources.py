"""Session resources endpoints: add (file only), list, retrieve, update (a repository's token), delete.

A file resource is a read-only, session-scoped copy of an uploaded file, mounted into the
session's sandbox by the runtime; deleting the resource unmounts it and deletes the copy.
"""

from __future__ import annotations

from typing import Any

from anthropic.types.beta.sessions import resource_add_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_common import list_response, ok, read_json, store_of
from .api_sessions import MAX_FILE_RESOURCES, normalize_mount_path
from .common import ApiError, now_iso
from .store import SessionRecord

__all__ = ["ROUTES"]


async def add_resource(request: Request) -> JSONResponse:
    body = await read_json(request, resource_add_params.ResourceAddParams)
    store = store_of(request)
    record = store.session_record(request.path_params["session_id"])
    session = record.session
    if session["status"] == "terminated" or session.get("archived_at"):
        raise ApiError(400, f"Session {session['id']} is terminated; resources cannot be added")
    if len(session["resources"]) >= MAX_FILE_RESOURCES:
        raise ApiError(400, f"resources: at most {MAX_FILE_RESOURCES} file resources are allowed")
    meta = store.get_file(body["file_id"])
    if meta is None:
        raise ApiError(404, f"File {body['file_id']} not found")
    path = normalize_mount_path(body.get("mount_path"))
    if path is not None and any(r.get("mount_path") == path for r in session["resources"]):
        raise ApiError(400, f"mount_path: {path} is already used by another resource")
    resource = await record.runtime.mount_file(meta, path)
    session["resources"].append(resource)
    session["updated_at"] = now_iso()
    return ok(resource)


def _find_resource(request: Request) -> tuple[SessionRecord, dict[str, Any]]:
    record = store_of(request).session_record(request.path_params["session_id"])
    rid = request.path_params["resource_id"]
    for res in record.session["resources"]:
        if res["id"] == rid:
            return record, res
    raise ApiError(404, f"Resource {rid} not found in session {record.session['id']}")


async def list_resources(request: Request) -> JSONResponse:
    record = store_of(request).session_record(request.path_params["session_id"])
    items = list(record.session["resources"])
    return list_response(request, items, kind="resources", default_limit=max(len(items), 1), max_limit=1000)


async def retrieve_resource(request: Request) -> JSONResponse:
    return ok(_find_resource(request)[1])


async def update_resource(request: Request) -> JSONResponse:
    """A repository's `authorization_token` can be rotated (accepted, never stored or echoed:
    nothing is cloned again offline); other resources cannot be updated."""
    record, res = _find_resource(request)
    body = await read_json(request)
    if res["type"] != "github_repository":
        raise ApiError(
            400, f"Only github_repository resources can be updated; {res['id']} is a {res['type']} resource"
        )
    for key in body:
        if key != "authorization_token":
            raise ApiError(400, f"{key}: Extra inputs are not permitted")
    if not isinstance(body.get("authorization_token"), str) or not body["authorization_token"]:
        raise ApiError(400, "authorization_token: a non-empty string is required")
    res["updated_at"] = record.session["updated_at"] = now_iso()
    return ok(res)


async def delete_resource(request: Request) -> JSONResponse:
    record, res = _find_resource(request)
    await record.runtime.unmount(res["id"])
    record.session["resources"] = [r for r in record.session["resources"] if r["id"] != res["id"]]
    if res.get("file_id"):
        store_of(request).delete_file(res["file_id"])
    record.session["updated_at"] = now_iso()
    return ok({"id": res["id"], "type": "session_resource_deleted"})


ROUTES = [
    ("POST", "/v1/sessions/{session_id}/resources", add_resource),
    ("GET", "/v1/sessions/{session_id}/resources", list_resources),
    ("GET", "/v1/sessions/{session_id}/resources/{resource_id}", retrieve_resource),
    ("POST", "/v1/sessions/{session_id}/resources/{resource_id}", update_resource),
    ("DELETE", "/v1/sessions/{session_id}/resources/{resource_id}", delete_resource),
]
