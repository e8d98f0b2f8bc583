"""The emulator's ASGI app: routes, authentication, request ids, the error shape, faults, counters.

`create_app(config)` returns a Starlette app; the endpoint handlers live in `api_*.py`. Every
response carries a `request-id` header; every error is
`{"type":"error","error":{"type","message","details"?},"request_id"}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import (
    api_agents,
    api_deployments,
    api_dreams,
    api_environments,
    api_events,
    api_files,
    api_memory,
    api_resources,
    api_sessions,
    api_threads,
    api_vaults,
    api_work,
    sdk_shapes,
)
from .api_events import StreamCutError
from .common import ApiError, EmulatorConfig, new_id
from .faults import Faults
from .scheduler import Scheduler
from .store import Store

__all__ = ["create_app", "error_response", "ROUTES"]

log = logging.getLogger("nb_agents.emulator")

ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    *api_agents.ROUTES,
    *api_environments.ROUTES,
    *api_work.ROUTES,
    *api_sessions.ROUTES,
    *api_resources.ROUTES,
    *api_threads.ROUTES,
    *api_events.ROUTES,
    *api_files.ROUTES,
    *api_memory.ROUTES,
    *api_vaults.ROUTES,
    *api_deployments.ROUTES,
    *api_dreams.ROUTES,
]


def error_response(exc: ApiError, request_id: str) -> JSONResponse:
    headers = {"request-id": request_id, **exc.headers}
    return JSONResponse(exc.body(request_id), status_code=exc.status, headers=headers)


def _authenticate(scope: Scope) -> None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    key = headers.get("x-api-key")
    if key is None and headers.get("authorization", "").lower().startswith("bearer "):
        key = headers["authorization"][7:].strip()
    if not key:
        raise ApiError(401, "x-api-key header is required")
    if key == "invalid" or key.startswith("sk-bad"):
        raise ApiError(401, "invalid x-api-key")


def _route_of(app: Starlette, scope: Scope) -> str:
    """`"POST /v1/sessions/{session_id}/events"` for counters (falls back to the raw path)."""
    for route in app.routes:
        match, _ = route.matches(scope)
        if match.name == "FULL" and isinstance(route, Route):
            return f"{scope['method']} {route.path}"
    return f"{scope['method']} {scope['path']}"


class ApiMiddleware:
    """Request id, auth, counters and injected faults around every request."""

    def __init__(self, app: ASGIApp, *, router: Starlette, store: Store, faults: Faults) -> None:
        self.app, self.router, self.store, self.faults = app, router, store, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = new_id("req")
        scope.setdefault("state", {})["request_id"] = request_id
        raw_route = f"{scope['method']} {scope['path']}"
        route = _route_of(self.router, scope)
        self.store.bump("requests")
        self.store.bump(f"requests:{route}")

        async def send_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"request-id"]
                message = {**message, "headers": [*headers, (b"request-id", request_id.encode())]}
            await send(message)

        shape = sdk_shapes.route_shape(route)
        send_with_id: Send = send_id
        if shape is not None and shape[0] in ("json", "page"):
            send_with_id = _in_sdk_shape(send_id, route, shape[1])

        try:
            _authenticate(scope)
            delay = self.faults.latency_for(raw_route)
            if delay:
                await asyncio.sleep(delay)
            injected = self.faults.error_for(raw_route)
            if injected is not None:
                status, headers = injected
                self.store.bump(f"faults:{status}")
                raise ApiError(status, _FAULT_MESSAGES.get(status, "Internal server error"), headers=headers)
        except ApiError as exc:
            return await error_response(exc, request_id)(scope, receive, send)
        try:
            await self.app(scope, receive, send_with_id)
        except StreamCutError:
            # An injected stream cut: return without finishing the body, so the server drops
            # the connection mid-response, as a network failure would.
            self.store.bump("faults:stream_cut")


def _in_sdk_shape(send: Send, route: str, node: Any) -> Send:
    """Wrap `send` so a successful JSON body is completed to the SDK's declared shape (every
    required nullable key present, see sdk_shapes.py) before it goes out."""
    held: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            content_type = dict(message.get("headers", [])).get(b"content-type", b"")
            json_ok = 200 <= message["status"] < 300 and content_type.startswith(b"application/json")
            if not json_ok:
                held["pass"] = True
                return await send(message)
            held["start"] = message
            return None
        if held.get("pass") or message["type"] != "http.response.body":
            return await send(message)
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return None
        body = sdk_shapes.complete(node, json.loads(b"".join(chunks)))
        for observe in list(sdk_shapes.observers):
            observe(route, node, body)
        data = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        start = held["start"]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data, "more_body": False})
        return None

    return sender


_FAULT_MESSAGES = {
    429: "Number of requests has exceeded your rate limit (injected by the emulator)",
    500: "Internal server error (injected by the emulator)",
    529: "Overloaded (injected by the emulator)",
}


def _request_id(request: Request) -> str:
    return getattr(request.state, "request_id", None) or new_id("req")


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, _request_id(request))


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        err = ApiError(404, f"Not found: {request.method} {request.url.path}")
    elif exc.status_code == 405:
        err = ApiError(
            405,
            f"Method {request.method} not allowed on {request.url.path}",
            error_type="invalid_request_error",
        )
    else:
        err = ApiError(exc.status_code, str(exc.detail))
    return error_response(err, _request_id(request))


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.exception("emulator error on %s %s", request.method, request.url.path)
    return error_response(
        ApiError(500, f"Internal server error: {type(exc).__name__}: {exc}"), _request_id(request)
    )


def create_app(
    config: EmulatorConfig | None = None,
    *,
    store: Store | None = None,
    faults: Faults | None = None,
    runtime_factory: Callable[..., Any] | None = None,
) -> Starlette:
    """The ASGI app. `runtime_factory` defaults to `runtime.SessionRuntime` (tests may swap it)."""
    config = config or EmulatorConfig()
    store = store or Store()
    faults = faults or Faults.from_any(config.faults)
    app = Starlette(
        routes=[Route(path, handler, methods=[method]) for method, path, handler in ROUTES],
        exception_handlers={ApiError: _on_api_error, HTTPException: _on_http_error, Exception: _on_crash},
        lifespan=_lifespan,
    )
    app.state.config = config
    app.state.store = store
    app.state.faults = faults
    app.state.runtime_factory = runtime_factory
    app.state.streams = set()  # open SSE queues, ended on shutdown
    app.state.archived_threads = {}  # thread id -> archived_at
    app.state.work = api_work.WorkQueue(ttl=config.work_ttl)  # self-hosted work items

    def session_running(session_id: str) -> bool:
        rec = store.sessions.get(session_id)
        return rec is not None and rec.session.get("status") in ("running", "rescheduling")

    app.state.work.sessions_running = session_running
    app.state.loop = None
    app.state.dream_tasks = {}  # dream id -> its asyncio task

    async def fire(record: dict[str, Any], trigger: dict[str, Any]) -> Any:
        return await api_deployments.fire(app, record, trigger)

    app.state.scheduler = Scheduler(store, fire, interval=config.schedule_interval, clock=config.clock)
    app.add_middleware(ApiMiddleware, router=app, store=store, faults=faults)
    return app


async def shutdown(app: Starlette) -> None:
    """Stop the scheduler, end open streams and close every session runtime (removes the sandboxes)."""
    await app.state.scheduler.stop()
    for task in list(app.state.dream_tasks.values()):
        task.cancel()
    for queue in list(app.state.streams):
        queue.put_nowait(None)
    store: Store = app.state.store
    for record in list(store.sessions.values()):
        try:
            await record.runtime.close("archived")
        except Exception:  # noqa: BLE001 - shutting down: close the others anyway
            log.exception("closing session %s", record.session["id"])


class _lifespan:  # noqa: N801 - a Starlette lifespan context
    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __aenter__(self) -> None:
        self.app.state.loop = asyncio.get_running_loop()
        self.app.state.scheduler.start()

    async def __aexit__(self, *exc: object) -> None:
        await shutdown(self.app)
