"""One session's event engine: the event log, SSE fan-out, the user-event queue and state.

`SessionRuntime` is what the server talks to (see docs/architecture.md, "Emulator
internals"). It persists wire event dicts in append order (`events`), fans them out to
stream subscribers (deltas only to those that asked), validates and applies user events
(`send`), and runs turns as asyncio tasks (`turn.Turn`) with the service's order, timing and
state rules; the turn mechanics live in `turn.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import posixpath
import time
from typing import Any

from .calls import Call
from .common import ApiError, new_id, now_iso
from .inbox import SETTLE_EVENTS, apply_user_events
from .pricing import Meter, prices_for
from .sandbox import UPLOADS, Sandbox
from .turn import drive

__all__ = ["SessionRuntime", "SETTLE_EVENTS"]

TICK_SECONDS = 0.25


class SessionRuntime:
    def __init__(self, *, store: Any, session: dict[str, Any], agent: dict[str, Any],
                 environment: dict[str, Any], config: Any) -> None:
        self.store, self.session, self.agent, self.environment, self.config = (
            store, session, agent, environment, config)
        self.sid: str = session["id"]
        self.events: list[dict[str, Any]] = []
        self.sandbox = Sandbox(getattr(config, "sandbox_root", None), session_id=self.sid)
        self.meter = Meter(prices_for(agent.get("model")))
        self.thread_id = new_id("sthr")
        self.inbox: list[dict[str, Any]] = []  # queued user.message / user.define_outcome echoes
        self.calls: dict[str, Call] = {}
        self.pause: str | None = None  # "requires_action" | "budget_reached" while idle mid-turn
        self.interrupt: dict[str, Any] | None = None  # the pending user.interrupt echo
        self.outcome: dict[str, Any] | None = None  # the active outcome evaluation record
        self.brain_state: dict[str, Any] = {}  # per-brain memory across turns (scenario turn index)
        self.wake = asyncio.Event()
        self._subs: dict[asyncio.Queue[Any], frozenset[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._mounts: dict[str, dict[str, Any]] = {}
        self._outputs: dict[str, tuple[str, int, int]] = {}  # container path -> (file_id, size, mtime)
        self._active_since: float | None = None
        self._created = time.monotonic()
        self.closed = False
        session.setdefault("outcome_evaluations", [])
        session["usage"] = self.meter.snapshot()
        session["stats"] = {"active_seconds": 0.0, "duration_seconds": 0.0}

    # -- properties the turn engine and brains use ---------------------------------------
    @property
    def agent_name(self) -> str:
        return str(self.agent.get("name") or "agent")

    @property
    def agent_metadata(self) -> dict[str, Any]:
        """The agent's metadata (the session snapshot drops it: look the version up in the store)."""
        if "metadata" in self.agent:
            return dict(self.agent.get("metadata") or {})
        try:
            return dict(self.store.agent(self.agent["id"], self.agent.get("version")).get("metadata") or {})
        except Exception:  # an agent the store does not know (tests with a bare snapshot)
            return {}

    @property
    def self_hosted(self) -> bool:
        return (self.environment.get("config") or {}).get("type") == "self_hosted"

    @property
    def mounts(self) -> list[dict[str, Any]]:
        return list(self._mounts.values())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def count(self, name: str, n: int = 1) -> None:
        bump = getattr(self.store, "bump", None)
        if bump is not None:
            bump(name, n)

    # -- emission ------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> dict[str, Any]:
        """Persist one event (id and processed_at filled in) and fan it out."""
        event = {"id": event.get("id") or new_id("sevt"), **event, "processed_at": now_iso()}
        self.events.append(event)
        self.broadcast(event)
        return event

    def broadcast(self, event: dict[str, Any], delta_kind: str | None = None) -> None:
        """Send to subscribers; a delta (`delta_kind` set) only to those that opted in."""
        for queue, deltas in list(self._subs.items()):
            if delta_kind is None or delta_kind in deltas:
                queue.put_nowait(event)

    def subscribe(self, deltas: frozenset[str] = frozenset()) -> asyncio.Queue[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        if self.closed:
            queue.put_nowait(None)
        self._subs[queue] = frozenset(deltas)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Any]) -> None:
        self._subs.pop(queue, None)

    def set_status(self, status: str) -> None:
        """Move the session status, keeping active_seconds (running time) up to date."""
        clock = time.monotonic()
        if status == "running" and self._active_since is None:
            self._active_since = clock
        elif status in ("idle", "terminated") and self._active_since is not None:
            self.meter.active_seconds += clock - self._active_since
            self._active_since = None
        self.session["status"] = status
        self.session["updated_at"] = now_iso()
        self.refresh()
        if status == "running" and (self._ticker is None or self._ticker.done()):
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        """While running, keep `active_seconds` growing live in the session object."""
        while self.session.get("status") in ("running", "rescheduling") and not self.closed:
            await asyncio.sleep(TICK_SECONDS)
            self.refresh()

    def refresh(self) -> None:
        """Bring `session.usage` and `session.stats` up to date (active_seconds grows live)."""
        live = time.monotonic() - self._active_since if self._active_since is not None else 0.0
        self.meter.active_seconds += live
        self.session["usage"] = self.meter.snapshot()
        self.meter.active_seconds -= live
        self.session["stats"] = {
            "active_seconds": self.session["usage"]["active_seconds"],
            "duration_seconds": round(time.monotonic() - self._created, 3),
        }

    def cost_usd(self) -> float:
        live = time.monotonic() - self._active_since if self._active_since is not None else 0.0
        self.meter.active_seconds += live
        try:
            return self.meter.cost_usd()
        finally:
            self.meter.active_seconds -= live

    def over_budget(self) -> bool:
        budget = self.session.get("budget")
        if not budget:
            return False
        cap = int(budget["max_list_cost"]["amount"]) / 100
        return self.cost_usd() >= cap

    def idle(self, stop_reason: dict[str, Any], stop_details: dict[str, Any] | None = None) -> None:
        """thread_status_idle, session.usage, session.status_idle (the end of every stretch of work)."""
        self.index_outputs()
        extra = {"stop_details": stop_details} if stop_details else {}
        self.emit({"type": "session.thread_status_idle", "session_thread_id": self.thread_id,
                   "agent_name": self.agent_name, "stop_reason": stop_reason, **extra})
        # The clock stops first, so the usage event and the idle session agree on active_seconds.
        self.set_status("idle")
        self.usage_event()
        self.emit({"type": "session.status_idle", "stop_reason": stop_reason, **extra})

    def usage_event(self) -> None:
        self.refresh()
        self.emit({"type": "session.usage", "usage": self.session["usage"],
                   "budget": self.session.get("budget")})

    def resume(self) -> None:
        """A fresh status_running + primary thread_status_running (start or resume of work)."""
        self.set_status("running")
        self.emit({"type": "session.status_running"})
        self.emit({"type": "session.thread_status_running", "session_thread_id": self.thread_id,
                   "agent_name": self.agent_name})

    # -- outputs ---------------------------------------------------------------------------
    def index_outputs(self) -> list[dict[str, Any]]:
        """New or changed files under /mnt/session/outputs become session-scoped Files."""
        added = []
        for cpath, (host, size, mtime) in sorted(self.sandbox.scan_outputs().items()):
            known = self._outputs.get(cpath)
            if known and known[1:] == (size, mtime):
                continue
            try:
                data = host.read_bytes()
            except OSError:
                continue
            if known:  # changed: the new version replaces the old listing
                self.store.delete_file(known[0])
            name = posixpath.basename(cpath)  # hosted flattens nested output paths
            meta = self.store.add_file(name, data, mimetypes.guess_type(name)[0],
                                       scope_session_id=self.sid, downloadable=True)
            self._outputs[cpath] = (meta["id"], size, mtime)
            added.append(meta)
        return added

    # -- server interface --------------------------------------------------------------------
    async def start(self, initial_events: list[dict[str, Any]] | None = None) -> None:
        if initial_events:
            await self.send(initial_events)

    async def send(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.closed or self.session.get("status") == "terminated":
            raise ApiError(400, f"Session {self.sid} is terminated and cannot accept new events.")
        echoes = apply_user_events(self, events)
        self.wake.set()
        self.ensure_driver()
        return echoes

    def ensure_driver(self) -> None:
        """Start the turn driver when there is queued work and none is running."""
        if self.inbox and not self.running and not self.closed:
            self._task = asyncio.get_running_loop().create_task(drive(self))

    async def on_session_updated(self, changes: dict[str, Any]) -> None:
        """After the server applied a session update: emit session.updated, maybe leave a budget pause."""
        if self.closed:
            return
        self.emit({"type": "session.updated", **changes})
        if "agent" in changes:  # tools changed: later tool calls use the new permission policies
            self.agent = self.session.get("agent") or self.agent
        if "budget" in changes:
            self.refresh()
            self.wake.set()

    budget_changed = on_session_updated

    async def mount_file(self, file_meta: dict[str, Any], mount_path: str | None) -> dict[str, Any]:
        data = self.store.file_bytes(file_meta["id"])
        path = mount_path or f"{UPLOADS}/{file_meta['id']}"
        copy = self.store.add_file(file_meta["filename"], data, file_meta.get("mime_type"),
                                   scope_session_id=self.sid, downloadable=False)
        self.sandbox.mount(path, data)
        stamp = now_iso()
        resource = {"type": "file", "id": new_id("sesrsc"), "file_id": copy["id"], "mount_path": path,
                    "created_at": stamp, "updated_at": stamp}
        self._mounts[resource["id"]] = {"resource_id": resource["id"], "file_id": copy["id"],
                                        "mount_path": path, "filename": file_meta["filename"],
                                        "mime_type": copy.get("mime_type")}
        return resource

    async def unmount(self, resource_id: str) -> None:
        mount = self._mounts.pop(resource_id, None)
        if mount:
            self.sandbox.unmount(mount["mount_path"])

    async def close(self, reason: str) -> None:
        """`deleted`: session.deleted ends every stream; `archived`: status terminated."""
        if self.closed:
            return
        for task in (self._task, self._ticker):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._ticker = None
        if reason == "deleted":
            self.emit({"type": "session.deleted"})
            for file_id, _size, _mtime in self._outputs.values():
                self.store.delete_file(file_id)
            for queue in list(self._subs):
                queue.put_nowait(None)
            self._subs.clear()
        else:
            self.set_status("terminated")
        self.closed = True
        await self.sandbox.close()

    # helper for tests and the server: is the session parked at a budget pause?
    @property
    def budget_paused(self) -> bool:
        return self.pause == "budget_reached"
