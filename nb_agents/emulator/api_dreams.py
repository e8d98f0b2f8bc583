"""Dream endpoints: create, retrieve, list, archive, cancel (beta `dreaming-2026-04-21`).

A dream reads one memory store and up to 100 sessions and writes a reorganized memory store.
The emulator's dream is scripted, not a model: it stays `pending` for `dream_step_delay`
seconds, turns `running` (and names its output store in `outputs`), copies the input store's
memories into a new store (`create_new`, the default) or keeps them (`update_existing`), writes
one summary memory, `/dreams/<session id>.md`, per session (its requests and the agent's last
answer), updates `usage` from the text it read and wrote (4 characters a token), and ends
`completed`. An input that disappeared meanwhile ends it `failed`; `cancel` stops it where it is.
"""

from __future__ import annotations

import asyncio
import copy
import math
from typing import Any

from anthropic.types.beta import dream_create_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_common import list_response, ok, q_bool, q_list, read_json, require_beta, store_of, time_filter
from .api_memory import api_actor
from .common import ApiError, new_id, now_iso
from .inbox import message_text
from .memory import MAX_CONTENT_BYTES
from .store import Store

__all__ = ["ROUTES"]

BETA = "dreaming-2026-04-21"
_STATUSES = ("pending", "running", "completed", "failed", "canceled")
_FINAL = ("completed", "failed", "canceled")


class _DreamFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = {"type": code, "message": message}


def _dream(store: Store, dream_id: str) -> dict[str, Any]:
    with store.lock:
        found = store.dreams.get(dream_id)
    if found is None:
        raise ApiError(404, f"Dream {dream_id} not found")
    return found


def _check_inputs(store: Store, inputs: list[dict[str, Any]]) -> tuple[str, list[str]]:
    stores = [i for i in inputs if i["type"] == "memory_store"]
    sessions = [i for i in inputs if i["type"] == "sessions"]
    if len(stores) != 1 or len(sessions) != 1 or len(inputs) != 2:
        raise ApiError(400, "inputs: give exactly one memory_store entry and exactly one sessions entry")
    store_id, session_ids = stores[0]["memory_store_id"], list(sessions[0]["session_ids"])
    memory_store = store.memory.store(store_id)
    if memory_store.get("archived_at"):
        raise ApiError(400, f"inputs: memory store {store_id} is archived")
    if not 1 <= len(session_ids) <= 100 or len(set(session_ids)) != len(session_ids):
        raise ApiError(400, "inputs.session_ids: give 1 to 100 session ids, with no duplicates")
    for sid in session_ids:
        store.session_record(sid)
    return store_id, session_ids


def _model(model: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, str):
        model = {"id": model}
    if not 1 <= len(model["id"]) <= 256:
        raise ApiError(400, "model.id: must be 1 to 256 characters")
    if model.get("speed") not in (None, "standard"):
        raise ApiError(400, "model.speed: dreams accept only 'standard'")
    return {"id": model["id"], "speed": "standard"}


async def create(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    body = await read_json(request, dream_create_params.DreamCreateParams)
    store = store_of(request)
    store_id, session_ids = _check_inputs(store, list(body["inputs"]))
    instructions = body.get("instructions")
    if instructions is not None and not 1 <= len(instructions) <= 4096:
        raise ApiError(400, "instructions: must be 1 to 4096 characters")
    behavior = dict(body.get("output_behavior") or {"type": "create_new"})
    if behavior["type"] == "update_existing":
        if behavior["memory_store_id"] != store_id:
            raise ApiError(400, "output_behavior.memory_store_id: must be the memory store given in inputs")
        with store.lock:
            busy = [d for d in store.dreams.values() if d["status"] not in _FINAL
                    and d["output_behavior"] == behavior]
        if busy:
            raise ApiError(409, f"Dream {busy[0]['id']} is still updating memory store {store_id}",
                           error_type="invalid_request_error")
    dream: dict[str, Any] = {
        "type": "dream", "id": new_id("drm"), "status": "pending", "model": _model(body["model"]),
        "inputs": [{"type": "memory_store", "memory_store_id": store_id},
                   {"type": "sessions", "session_ids": session_ids}],
        "instructions": instructions, "output_behavior": behavior, "outputs": [], "session_id": None,
        "error": None, "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                                 "cache_read_input_tokens": 0},
        "created_at": now_iso(), "ended_at": None, "archived_at": None,
    }
    with store.lock:
        store.dreams[dream["id"]] = dream
    store.bump("dreams_created")
    tasks: dict[str, asyncio.Task[None]] = request.app.state.dream_tasks
    delay = request.app.state.config.dream_step_delay
    tasks[dream["id"]] = asyncio.get_running_loop().create_task(_dream_job(store, dream, delay, api_actor(request)))
    return ok(copy.deepcopy(dream))


async def _dream_job(store: Store, dream: dict[str, Any], delay: float, actor: dict[str, Any]) -> None:
    await asyncio.sleep(delay)
    dream["status"] = "running"
    try:
        await _dream_work(store, dream, delay, actor)
    except _DreamFailed as exc:
        dream.update(status="failed", error=exc.error, ended_at=now_iso())
        return
    dream.update(status="completed", ended_at=now_iso())


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


async def _dream_work(store: Store, dream: dict[str, Any], delay: float, actor: dict[str, Any]) -> None:
    bank = store.memory
    source_id = dream["inputs"][0]["memory_store_id"]
    with bank.lock:
        if source_id not in bank.stores:
            raise _DreamFailed("input_not_found", f"Memory store {source_id} no longer exists")
        bank.sync_store(source_id)
        source = bank.store(source_id)
        memories = [dict(m) for m in bank.by_path(source_id).values()]
        if dream["output_behavior"]["type"] == "update_existing":
            target_id = source_id
        else:
            target_id = bank.create_store(f"{source['name']} (dreamed)", source["description"],
                                          dict(source["metadata"]))["id"]
            for mem in memories:
                bank.create_memory(target_id, mem["path"], mem["content"], actor)
    dream["outputs"] = [{"type": "memory_store", "memory_store_id": target_id}]
    usage = dream["usage"]
    usage["input_tokens"] += sum(_tokens(m["content"]) for m in memories)
    await asyncio.sleep(delay)
    for sid in dream["inputs"][1]["session_ids"]:
        try:
            record = store.session_record(sid)
        except ApiError:
            raise _DreamFailed("input_not_found", f"Session {sid} no longer exists") from None
        note, read = _summary(sid, record, dream.get("instructions"))
        usage["input_tokens"] += _tokens(read)
        usage["output_tokens"] += _tokens(note)
        with bank.lock:
            if target_id not in bank.stores:
                raise _DreamFailed("output_not_found", f"Memory store {target_id} no longer exists")
            path = f"/dreams/{sid}.md"
            current = bank.by_path(target_id).get(path)
            if current is None:
                bank.create_memory(target_id, path, note, actor)
            else:
                bank.update_memory(target_id, current["id"], content=note, path=None, expected_sha=None, actor=actor)
            bank.sync_store(target_id)
        await asyncio.sleep(0)


def _summary(sid: str, record: Any, instructions: str | None) -> tuple[str, str]:
    """(the note a dream writes about one session, the transcript text it read)."""
    asks, answers = [], []
    for event in list(record.runtime.events):
        if event["type"] == "user.message":
            asks.append(message_text(event.get("content") or []))
        elif event["type"] == "agent.message":
            answers.append(message_text(event.get("content") or []))
    title = record.session.get("title") or sid
    lines = [f"# {title}", "", f"Session `{sid}`, agent {record.agent.get('name')!r}.", ""]
    if instructions:
        lines += [f"Kept with the instructions: {instructions}", ""]
    requests = [f"- {a.strip()[:300]}" for a in asks if a.strip()] or ["- (none)"]
    lines += ["## Requests", *requests, ""]
    lines += ["## Last answer", (answers[-1].strip()[:2000] if answers else "(none)"), ""]
    note = "\n".join(lines)
    while len(note.encode()) > MAX_CONTENT_BYTES:
        note = note[: len(note) // 2]
    return note, "\n".join(asks + answers)


async def retrieve(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    return ok(copy.deepcopy(_dream(store_of(request), request.path_params["dream_id"])))


async def list_dreams(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    store = store_of(request)
    statuses = q_list(request, "statuses")
    for s in statuses or ():
        if s not in _STATUSES:
            raise ApiError(400, f"statuses: {s!r} is not one of {', '.join(map(repr, _STATUSES))}")
    include_archived = q_bool(request, "include_archived")
    keep = time_filter(request, ops=("gt", "lt"))
    with store.lock:
        dreams = [copy.deepcopy(d) for d in store.dreams.values()]
    items = [d for d in dreams if (include_archived or not d["archived_at"])
             and (not statuses or d["status"] in statuses) and keep(d["created_at"])]
    return list_response(request, items[::-1], kind="dreams", order="desc")


async def archive(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    dream = _dream(store_of(request), request.path_params["dream_id"])
    if dream["status"] not in _FINAL:
        raise ApiError(400, f"Dream {dream['id']} is {dream['status']}; cancel it before archiving it")
    if dream["archived_at"] is None:
        dream["archived_at"] = now_iso()
    return ok(copy.deepcopy(dream))


async def cancel(request: Request) -> JSONResponse:
    require_beta(request, BETA)
    dream = _dream(store_of(request), request.path_params["dream_id"])
    if dream["status"] in ("completed", "failed"):
        raise ApiError(400, f"Dream {dream['id']} is already {dream['status']}")
    if dream["status"] != "canceled":
        task = request.app.state.dream_tasks.pop(dream["id"], None)
        if task is not None:
            task.cancel()
        dream.update(status="canceled", ended_at=now_iso())
    return ok(copy.deepcopy(dream))


ROUTES = [
    ("POST", "/v1/dreams", create),
    ("GET", "/v1/dreams", list_dreams),
    ("GET", "/v1/dreams/{dream_id}", retrieve),
    ("POST", "/v1/dreams/{dream_id}/archive", archive),
    ("POST", "/v1/dreams/{dream_id}/cancel", cancel),
]
