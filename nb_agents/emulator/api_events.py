"""Session events endpoints: send, list (paged, filtered) and the SSE stream.

SSE frames are `event: <type>` + `data: <json>`; heartbeats are `event: ping` frames (the SDK
skips them). The stream never replays: it carries what the runtime emits after it opened.
Injected stream faults (faults.py) end the stream cleanly or drop the connection mid-frame.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, get_args

from anthropic.types.beta.sessions import event_send_params
from anthropic.types.beta.sessions.beta_managed_agents_session_event_type import (
    BetaManagedAgentsSessionEventType,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

from . import sdk_shapes
from .api_common import config_of, list_response, ok, q_list, q_order, read_json, store_of, time_filter
from .common import ApiError
from .faults import Faults

__all__ = ["ROUTES", "sse_frame", "frames", "sse_headers", "DELTA_TYPES", "StreamCutError"]

EVENT_TYPES = frozenset(get_args(BetaManagedAgentsSessionEventType)) | {"session.deleted"}
DELTA_TYPES = ("agent.message", "agent.thinking")


class StreamCutError(Exception):
    """Raised inside a stream to make the server drop the connection (an injected fault)."""


def sse_frame(event: dict[str, Any]) -> bytes:
    """One SSE frame; the event is first completed to the SDK's declared shape (sdk_shapes.py)."""
    node = sdk_shapes.event_shape()
    event = sdk_shapes.complete(node, event)
    for observe in list(sdk_shapes.observers):
        observe("SSE", node, event)
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event.get('type', 'message')}\ndata: {data}\n\n".encode()


_WORK_EVENTS = frozenset({"user.message", "user.define_outcome", "user.tool_confirmation"})


async def send(request: Request) -> JSONResponse:
    body = await read_json(request, event_send_params.EventSendParams)
    store = store_of(request)
    record = store.session_record(request.path_params["session_id"])
    events = list(body["events"])
    if not events:
        raise ApiError(400, "events: at least one event is required")
    if record.environment["config"]["type"] != "self_hosted":
        for i, ev in enumerate(events):
            if ev["type"] == "user.tool_result":
                raise ApiError(400, f"events.{i}: user.tool_result is only valid in self_hosted environments")
    systems = [i for i, ev in enumerate(events) if ev["type"] == "system.message"]
    if len(systems) > 1 or (systems and systems[0] != len(events) - 1):
        raise ApiError(400, "events: at most one system.message is allowed, and it must be the last event")
    echoes = await record.runtime.send(events)
    store.bump("events_sent", len(events))
    if record.environment["config"]["type"] == "self_hosted" and any(e["type"] in _WORK_EVENTS for e in events):
        # New work for a session whose worker has let go (its item stopped after an idle): queue it again.
        request.app.state.work.ensure_item(record.environment["id"], record.session["id"])
    return ok({"data": echoes})


async def list_events(request: Request) -> JSONResponse:
    record = store_of(request).session_record(request.path_params["session_id"])
    order = q_order(request, "asc")
    types = q_list(request, "types")
    for t in types or ():
        if t not in EVENT_TYPES:
            raise ApiError(400, f"types: {t!r} is not a session event type")
    keep = time_filter(request)
    items = [
        ev
        for ev in list(record.runtime.events)
        if (not types or ev.get("type") in types) and keep(ev.get("processed_at"))
    ]
    if order == "desc":
        items.reverse()
    return list_response(
        request, items, kind=f"events:{record.session['id']}", order=order, default_limit=1000, max_limit=1000
    )


async def stream(request: Request) -> StreamingResponse:
    record = store_of(request).session_record(request.path_params["session_id"])
    deltas = q_list(request, "event_deltas") or []
    if len(deltas) > 100:
        raise ApiError(400, "event_deltas: at most 100 values are allowed")
    for d in deltas:
        if d not in DELTA_TYPES:
            raise ApiError(400, f"event_deltas: {d!r} is not one of 'agent.message', 'agent.thinking'")
    queue = record.runtime.subscribe(frozenset(deltas))
    body = frames(request, record.runtime, queue)
    return StreamingResponse(body, media_type="text/event-stream", headers=sse_headers())


def sse_headers() -> dict[str, str]:
    return {"cache-control": "no-cache", "x-accel-buffering": "no"}


def frames(
    request: Request,
    runtime: Any,
    queue: asyncio.Queue[Any],
    *,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> AsyncIterator[bytes]:
    """The SSE body for a runtime subscription; the server ends it on shutdown."""
    streams: set[Any] = request.app.state.streams
    streams.add(queue)

    def forget() -> None:
        streams.discard(queue)
        runtime.unsubscribe(queue)

    return _frames(
        queue,
        faults=request.app.state.faults,
        heartbeat=config_of(request).heartbeat_interval,
        keep=keep,
        cleanup=forget,
    )


async def _frames(
    queue: asyncio.Queue[Any],
    *,
    faults: Faults,
    heartbeat: float,
    keep: Callable[[dict[str, Any]], bool] | None,
    cleanup: Callable[[], None],
) -> AsyncIterator[bytes]:
    sent = 0
    try:
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=heartbeat)
            except asyncio.TimeoutError:
                yield b"event: ping\ndata: {}\n\n"
                continue
            if event is None:
                return
            if keep is not None and not keep(event):
                continue
            frame = sse_frame(event)
            cut = faults.stream_cut(sent, len(frame))
            if cut.keep is not None:
                if cut.keep:
                    yield frame[: cut.keep]
                if cut.abort:
                    raise StreamCutError("stream cut by fault injection")
                return
            yield frame
            sent += 1
    finally:
        cleanup()


ROUTES = [
    ("POST", "/v1/sessions/{session_id}/events", send),
    ("GET", "/v1/sessions/{session_id}/events", list_events),
    ("GET", "/v1/sessions/{session_id}/events/stream", stream),
]
