"""The self-hosted work queue: `/v1/environments/{env}/work/...` (poll, ack, heartbeat, stop,
stats, list, retrieve, update), so the SDK's `EnvironmentWorker` and `work.poller` run against
the emulator.

Every session created in a `self_hosted` environment enqueues one work item, and so does new work
(a message, an outcome, a confirmation) for a session with no live item, or a worker's stop while
its session is still running (a worker let go after an idle). A polled item stays queued (and can
be re-polled after `reclaim_older_than_ms`) until it is acked; heartbeats keep its lease
(`expected_last_heartbeat` must match, else 412); a lease not renewed within its TTL expires and
the item is queued again for another worker (`WorkQueue.ttl` sets the default TTL, 90 s);
deleting or archiving the session asks the worker to stop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from anthropic.types.beta.environments import work_stop_params, work_update_params
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api_common import list_response, ok, q_int, read_json, store_of
from .common import ApiError, new_id, now_iso
from .resolve import patch_metadata
from .validation import validate_body

__all__ = ["ROUTES", "WorkQueue"]

NO_HEARTBEAT = "NO_HEARTBEAT"
DEFAULT_TTL = 90
DEFAULT_RECLAIM_MS = 5000


@dataclass
class _Lease:
    polled_at: float | None = None
    last_heartbeat: str | None = None
    ttl: float = DEFAULT_TTL
    renewed_at: float | None = None  # monotonic time of the ack or the last heartbeat


@dataclass
class WorkQueue:
    """Work items per environment (wire dicts) and their leases."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    leases: dict[str, _Lease] = field(default_factory=dict)
    workers: dict[str, dict[str, float]] = field(default_factory=dict)  # env -> worker id -> last poll
    ttl: float = DEFAULT_TTL  # the lease TTL of new items (tests shorten it)
    sessions_running: Any = None  # session id -> bool: is it still running (set by the server)
    _arrivals: dict[str, asyncio.Event] = field(default_factory=dict)

    def enqueue(self, environment_id: str, session_id: str) -> dict[str, Any]:
        work_id = new_id("work")
        item: dict[str, Any] = {
            "type": "work",
            "id": work_id,
            "environment_id": environment_id,
            "state": "queued",
            "data": {"type": "session", "id": session_id},
            "metadata": {},
            "created_at": now_iso(),
            "acknowledged_at": None,
            "started_at": None,
            "latest_heartbeat_at": None,
            "stop_requested_at": None,
            "stopped_at": None,
        }
        self.items[work_id] = item
        self.leases[work_id] = _Lease(ttl=self.ttl)
        self._arrival(environment_id).set()
        return item

    def request_stop(self, session_id: str) -> None:
        """The session went away: queued items stop at once, running ones are asked to."""
        for item in self.items.values():
            if item["data"]["id"] == session_id and item["state"] != "stopped":
                stamp = now_iso()
                item["stop_requested_at"] = item["stop_requested_at"] or stamp
                if item["state"] in ("queued", "starting"):
                    item["state"], item["stopped_at"] = "stopped", stamp
                else:
                    item["state"] = "stopping"

    def ensure_item(self, environment_id: str, session_id: str) -> None:
        """Queue an item for the session unless one is live (queued, starting, active, stopping)."""
        if not any(i["data"]["id"] == session_id and i["state"] != "stopped" for i in self.items.values()):
            self.enqueue(environment_id, session_id)

    def _expire(self, now: float) -> None:
        """Leases not renewed within their TTL end: the item is queued again for any worker."""
        for item in self.items.values():
            lease = self.leases[item["id"]]
            if item["state"] in ("starting", "active") and lease.renewed_at is not None \
                    and now - lease.renewed_at > lease.ttl:
                item["state"], lease.polled_at, lease.renewed_at, lease.last_heartbeat = "queued", None, None, None
                self._arrival(item["environment_id"]).set()

    def _arrival(self, environment_id: str) -> asyncio.Event:
        return self._arrivals.setdefault(environment_id, asyncio.Event())

    def claimable(self, environment_id: str, reclaim_ms: int) -> dict[str, Any] | None:
        now = time.monotonic()
        self._expire(now)
        for item in self.items.values():
            if item["environment_id"] != environment_id or item["state"] != "queued":
                continue
            lease = self.leases[item["id"]]
            if lease.polled_at is None or (now - lease.polled_at) * 1000 >= reclaim_ms:
                lease.polled_at = now
                return item
        return None


def _queue(request: Request) -> WorkQueue:
    return request.app.state.work  # type: ignore[no-any-return]


def _env_id(request: Request) -> str:
    return str(store_of(request).environment(request.path_params["environment_id"])["id"])


def _item(request: Request) -> dict[str, Any]:
    env_id = _env_id(request)
    item = _queue(request).items.get(request.path_params["work_id"])
    if item is None or item["environment_id"] != env_id:
        raise ApiError(404, f"Work item {request.path_params['work_id']} not found")
    return item


async def _params(request: Request, params_type: Any) -> dict[str, Any]:
    """The body, validated; the params' `environment_id` is the path parameter, not a body key."""
    body = await read_json(request)
    if "environment_id" in body:
        raise ApiError(400, "environment_id: Extra inputs are not permitted")
    validate_body(params_type, {**body, "environment_id": request.path_params["environment_id"]})
    return body


def _secret(item: dict[str, Any]) -> str:
    # URL-safe base64 JSON without padding, as the SDK worker decodes it
    payload = json.dumps({"sessions_token": f"sk-ant-sess-{item['id']}", "session_id": item["data"]["id"]})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


async def poll(request: Request) -> JSONResponse:
    env_id = _env_id(request)
    queue = _queue(request)
    block_ms = q_int(request, "block_ms", 0, 1, 999) or 0
    reclaim_ms = q_int(request, "reclaim_older_than_ms", DEFAULT_RECLAIM_MS, 0, 86_400_000) or 0
    worker = request.headers.get("anthropic-worker-id") or "anonymous"
    queue.workers.setdefault(env_id, {})[worker] = time.monotonic()
    arrival = queue._arrival(env_id)
    arrival.clear()
    item = queue.claimable(env_id, reclaim_ms)
    if item is None and block_ms:
        try:
            await asyncio.wait_for(arrival.wait(), timeout=block_ms / 1000)
        except asyncio.TimeoutError:
            pass
        item = queue.claimable(env_id, reclaim_ms)
    return ok(None if item is None else {**item, "secret": _secret(item)})


async def ack(request: Request) -> JSONResponse:
    item = _item(request)
    if item["state"] != "queued":
        raise ApiError(
            409, f"Work item {item['id']} is {item['state']}, not queued", error_type="invalid_request_error"
        )
    item["state"], item["acknowledged_at"] = "starting", now_iso()
    _queue(request).leases[item["id"]].renewed_at = time.monotonic()
    return ok(item)


async def heartbeat(request: Request) -> JSONResponse:
    # the SDK sends both settings as query parameters
    ttl = q_int(request, "desired_ttl_seconds", None, 1, 86_400)
    expected = request.query_params.get("expected_last_heartbeat")
    item = _item(request)
    queue = _queue(request)
    queue._expire(time.monotonic())
    lease = queue.leases[item["id"]]
    current = lease.last_heartbeat or NO_HEARTBEAT
    if expected is not None and expected != current:
        state = {
            "last_heartbeat": lease.last_heartbeat,
            "lease_extended": False,
            "state": item["state"],
            "ttl_seconds": int(lease.ttl),
        }
        raise ApiError(
            412,
            f"expected_last_heartbeat {expected!r} does not match the lease ({current!r})",
            error_type="invalid_request_error",
            error_code="heartbeat_precondition_failed",
            details={"current_state": state},
        )
    extend = item["state"] in ("starting", "active")
    if extend:
        if item["state"] == "starting":
            item["state"], item["started_at"] = "active", now_iso()
        lease.ttl = max(min(lease.ttl, 10), min(ttl or lease.ttl, 600))
        lease.last_heartbeat = item["latest_heartbeat_at"] = now_iso()
        lease.renewed_at = time.monotonic()
    return ok(
        {
            "type": "work_heartbeat",
            "last_heartbeat": lease.last_heartbeat or NO_HEARTBEAT,
            "lease_extended": extend,
            "state": item["state"],
            "ttl_seconds": int(lease.ttl),
        }
    )


async def stop(request: Request) -> JSONResponse:
    body = await _params(request, work_stop_params.WorkStopParams)
    item = _item(request)
    if item["state"] == "stopped":
        raise ApiError(409, f"Work item {item['id']} is already stopped", error_type="invalid_request_error")
    stamp = now_iso()
    item["stop_requested_at"] = item["stop_requested_at"] or stamp
    if body.get("force") or item["state"] in ("queued", "starting", "stopping"):
        item["state"], item["stopped_at"] = "stopped", stamp
    else:
        item["state"] = "stopping"
    running = _queue(request).sessions_running
    if item["state"] == "stopped" and running is not None and running(item["data"]["id"]):
        _queue(request).ensure_item(item["environment_id"], item["data"]["id"])  # its tools still need a worker
    return ok(item)


async def stats(request: Request) -> JSONResponse:
    env_id = _env_id(request)
    queue = _queue(request)
    items = [i for i in queue.items.values() if i["environment_id"] == env_id]
    queued = [i for i in items if i["state"] == "queued"]
    recent = time.monotonic() - 30
    polling = sum(1 for t in queue.workers.get(env_id, {}).values() if t >= recent)
    return ok(
        {
            "type": "work_queue_stats",
            "depth": len(queued),
            "pending": sum(1 for i in items if i["state"] in ("starting", "active", "stopping")),
            "oldest_queued_at": min((i["created_at"] for i in queued), default=None),
            "workers_polling": polling,
        }
    )


async def list_work(request: Request) -> JSONResponse:
    env_id = _env_id(request)
    items = [i for i in _queue(request).items.values() if i["environment_id"] == env_id]
    return list_response(request, items, kind=f"work:{env_id}")


async def retrieve(request: Request) -> JSONResponse:
    return ok(_item(request))


async def update(request: Request) -> JSONResponse:
    body = await _params(request, work_update_params.WorkUpdateParams)
    item = _item(request)
    item["metadata"] = patch_metadata(item["metadata"], body["metadata"])
    return ok(item)


ROUTES = [
    ("GET", "/v1/environments/{environment_id}/work/poll", poll),
    ("GET", "/v1/environments/{environment_id}/work/stats", stats),
    ("GET", "/v1/environments/{environment_id}/work", list_work),
    ("GET", "/v1/environments/{environment_id}/work/{work_id}", retrieve),
    ("POST", "/v1/environments/{environment_id}/work/{work_id}", update),
    ("POST", "/v1/environments/{environment_id}/work/{work_id}/ack", ack),
    ("POST", "/v1/environments/{environment_id}/work/{work_id}/heartbeat", heartbeat),
    ("POST", "/v1/environments/{environment_id}/work/{work_id}/stop", stop),
]
