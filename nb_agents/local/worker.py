"""The kernel's self-hosted environment worker: one per kernel, on its own thread and event loop.

`WorkerHost` runs the SDK's own `EnvironmentWorker.run()` (poll → ack → heartbeat the lease →
`SessionToolRunner` → stop; `anthropic.lib.environments`) — `max_concurrent_calls` copies of it on
one asyncio loop, so that many sessions have a tool call running at once. There is no poll loop
of ours. It starts on first use (`serve`), and stops on `stop()`: `%agent local stop`, the
kernel's shutdown (`atexit`: IPython has no shutdown hook any more), or when the last local session is
`release`d. It serves this kernel's own environment (`environment_name`: the slot of slots.py,
held from first use until `stop()`) and, beside it, the environment of each session attached
from another kernel (`concurrency` workers per environment). A worker task that dies is noticed by the next `serve`, which starts a new one.

Each claimed session gets the SDK's agent toolset (`beta_agent_toolset_20260401`) bound to its
own working folder (toolset.py); which folder is found through the `LocalSpec` registered under
the token the session carries in its metadata. Everything the worker logs about a lost lease is
turned into a notice the session's view shows (`take_notices`); nothing is printed from the thread.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import inspect
import logging
import os
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import backend, make_async_client
from ..egress import NO_METER, EgressMeter
from ..errors import ConfigError
from .slots import Slot, take_slot
from .toolset import Ledger, session_tools

__all__ = ["LOCAL_KEY", "LocalSpec", "WorkerHost", "HOST", "environment_key"]

LOCAL_KEY = "nb_agents_local"  # session metadata: the token of the LocalSpec that serves it
OFFLINE_KEY = "nb-agents-emulator"  # the emulator takes any bearer
_LOGGERS = ("anthropic.lib.environments", "anthropic.lib.tools._beta_session_runner")
STOP_TIMEOUT = 10.0
RESTARTS = 3  # a worker that dies is started again this many times in a row, then given up
RESTART_DELAY = 0.5  # seconds before the first restart (then 1 s, 1.5 s)

log = logging.getLogger(__name__)
# What the SDK worker loop running in this task serves now: {"work": id, "session": id}. Set per
# loop task; every task the SDK starts under it inherits the same dict, so a log record about a
# lease (which names the work item only, in newer SDKs) is traced to its session.
_SERVING: contextvars.ContextVar[dict[str, str | None]] = contextvars.ContextVar("nb_agents_local_serving")


@dataclass
class LocalSpec:
    """What the kernel knows about one local session: its folder and what its file tools may reach."""

    token: str
    session_name: str
    workdir: Path
    allow_paths: tuple[Path, ...] = ()
    session_id: str | None = None
    running: set[Any] = field(default_factory=set)  # anyio CancelScopes of the tool calls running now
    ctx: Any = None  # the AgentToolContext its tools use now (toolset.py)
    meter: EgressMeter = NO_METER  # the session's egress: each tool result the worker sends counts there

    def update(self, other: LocalSpec) -> None:
        """A later cell's folder and allowed paths apply to the tools already built (the SDK runner
        keeps its tools while the session stays claimed): the context is read on every call."""
        self.workdir, self.allow_paths, self.session_name = other.workdir, other.allow_paths, other.session_name
        self.session_id = other.session_id or self.session_id
        if self.ctx is not None:
            self.ctx.workdir = other.workdir
            self.ctx.allowed_roots[:] = list(other.allow_paths)


@dataclass(frozen=True)
class _Config:
    backend: Any
    environment_ids: tuple[str, ...]
    concurrency: int
    idle: float
    base: Path


def environment_key(offline: bool) -> str:
    """The worker's credential: any string for the emulator, else `ANTHROPIC_ENVIRONMENT_KEY`."""
    if offline:
        return OFFLINE_KEY
    key = os.environ.get("ANTHROPIC_ENVIRONMENT_KEY")
    if not key:
        raise ConfigError("--local needs the self-hosted environment's key: set ANTHROPIC_ENVIRONMENT_KEY "
                          "(Console → Environments → the nb-agents-local environment → key)")
    return key


class _Notices(logging.Handler):
    """Catches the SDK worker's log records (so the thread prints nothing) and turns a lost lease
    into a notice for the session it was serving."""

    def __init__(self, host: WorkerHost) -> None:
        super().__init__(logging.INFO)
        self.host = host
        self.recent: deque[str] = deque(maxlen=50)
        self.reported: set[tuple[str, str | None]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad record must not break the worker
            return
        if record.levelno >= logging.WARNING:
            self.recent.append(text)
        serving = _SERVING.get(None)
        if serving is None:
            return
        if text.startswith("claimed work work_id="):
            serving["work"], serving["session"] = text.split("work_id=")[1].split()[0], None
        elif text.startswith(("lease lost", "lease assumed lost")) and serving.get("session"):
            sid, work = str(serving["session"]), serving.get("work")
            if (sid, work) in self.reported:
                return
            self.reported.add((sid, work))
            self.host.add_notice(sid, "the local worker lost this session's lease (another worker or the "
                                      "queue holds it now); its tool calls wait until it is claimed again")


class WorkerHost:
    """The one worker of this kernel (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # the specs and notices (the worker thread takes it briefly)
        self._life = threading.Lock()  # start / stop, never held by the worker thread
        self.specs: dict[str, LocalSpec] = {}
        self.ledger = Ledger()
        self.notices: dict[str, list[str]] = {}
        self.error: str | None = None  # why the last worker died
        self.claims = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._config: _Config | None = None
        self.client: Any = None  # the worker loop's AsyncAnthropic (toolset.py reads history with it)
        self._handler = _Notices(self)
        self._atexit = False
        self._given_up = False  # the thread gave up after restarts: the next serve starts a new one
        self.slot: Slot | None = None  # which `nb-agents-local-<host>-<n>` this kernel serves (slots.py)
        self._last_slot: tuple[str, int] | None = None  # (backend, n) of the slot let go by `stop()`
        self.environments: list[str] = []  # the environments served: this kernel's, and attached sessions'
        self.foreign: list[str] = []  # sessions claimed here that another kernel made (their turns wait)

    # -- kernel side -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def environment_name(self, base: str) -> str:
        """The name of the environment this kernel serves (`<base>-<host>-<n>`): slot n is taken
        on first use for the current backend and held until `stop()` (slots.py)."""
        key = _slot_key()
        with self._life:
            if self.slot is None or self.slot.key != key:
                if self.slot is not None:
                    self.slot.release()
                self.slot = take_slot(key)
                if self.slot.note:
                    log.warning(self.slot.note)
            return self.slot.name(base)

    def take_slot_note(self) -> str | None:
        """Once: why this kernel has no slot of its own (the view shows it as a notice)."""
        slot = self.slot
        if slot is None:
            return None
        note, slot.note = slot.note, None
        return note

    def serve(self, spec: LocalSpec, *, environment_id: str, concurrency: int, idle: float) -> None:
        """Register `spec` and make sure a worker for `environment_id` runs beside the environments
        already served (started, or restarted when it died or its settings changed)."""
        where = backend()
        key = environment_key(where.offline)
        with self._life:
            with self.lock:
                known = self.specs.get(spec.token)
                if known is not None and known is not spec:
                    known.update(spec)
                else:
                    self.specs[spec.token] = spec
                if self._config is not None and self._config.backend != where.key:
                    self.environments.clear()  # another backend's environments are not there
                if environment_id not in self.environments:
                    self.environments.append(environment_id)
            self._hold_again()
            config = _Config(where.key, tuple(self.environments), max(1, int(concurrency)), float(idle),
                             Path.cwd() / "agent_workspace")
            if self.running and self._config == config and not self._given_up:
                return
            self._shutdown()
            self._start(config, key)

    def spec_for(self, token: str | None) -> LocalSpec | None:
        with self.lock:
            return self.specs.get(token or "")

    def release(self, token: str) -> None:
        """The session is no longer local here (new conversation, archived, forgotten); the worker
        stops with the last one."""
        with self._life:
            with self.lock:
                spec = self.specs.pop(token, None)
                if spec is not None and spec.session_id:
                    self.notices.pop(spec.session_id, None)
                last = not self.specs
            if last:
                self._shutdown()
                self._let_go()

    def stop(self) -> bool:
        """Stop the worker (`%agent local stop`, kernel shutdown); True if one was running."""
        with self._life:
            was = self.running
            self._shutdown()
            self._let_go()
            return was

    def _let_go(self) -> None:
        """Nothing is served any more: the slot is free for another kernel (or this one, next time)."""
        with self.lock:
            self.environments.clear()
        if self.slot is not None:
            if self.slot.number is not None:
                self._last_slot = (self.slot.key, self.slot.number)
            self.slot.release()
            self.slot = None

    def _hold_again(self) -> None:
        """A session of this kernel's environment is served again after `stop()`: its slot is
        taken again (another kernel that took it meanwhile serves the same environment: said once)."""
        last, self._last_slot = self._last_slot, None
        if self.slot is not None or last is None or last[0] != _slot_key():
            return
        slot = take_slot(*last)
        if slot.number is None:  # a new session takes the lowest free slot then
            log.warning(slot.note)
            with self.lock:
                self._handler.recent.append(str(slot.note))
            return
        self.slot = slot

    def interrupt(self, session_id: str) -> int:
        """Stop the tool calls of `session_id` running now (its bash command is killed); how many."""
        with self.lock:
            loop = self._loop
            scopes = [s for spec in self.specs.values() if spec.session_id == session_id for s in spec.running]
        if loop is None or not scopes:
            return 0
        for scope in scopes:
            try:
                loop.call_soon_threadsafe(scope.cancel)
            except RuntimeError:  # the loop closed meanwhile
                return 0
        return len(scopes)

    def add_notice(self, session_id: str, text: str) -> None:
        with self.lock:
            self.notices.setdefault(session_id, []).append(text)

    def take_notices(self, session_id: str | None) -> list[str]:
        with self.lock:
            return self.notices.pop(session_id or "", [])

    def status(self) -> dict[str, Any]:
        with self.lock:
            config = self._config
            return {
                "running": self.running,
                "environment_id": config.environment_ids[0] if config else None,
                "environment_ids": list(config.environment_ids) if config else [],
                "foreign_sessions": list(self.foreign),
                "max_concurrent_calls": config.concurrency if config else None,
                "sessions": sorted(s.session_name for s in self.specs.values()),
                "claims": self.claims,
                "last_error": self.error,
                "recent_log": list(self._handler.recent)[-5:],
            }

    # -- the thread ----------------------------------------------------------------------------------
    def _start(self, config: _Config, key: str) -> None:
        if not self._atexit:
            atexit.register(self.stop)  # a plain Python process (no IPython shutdown_hook) too
            self._atexit = True
        ready = threading.Event()
        self._config, self.error, self._given_up = config, None, False
        for name in _LOGGERS:
            logger = logging.getLogger(name)
            if self._handler not in logger.handlers:
                logger.addHandler(self._handler)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.INFO)
        thread = threading.Thread(target=self._main, args=(config, key, ready), name="nb-agents-local-worker",
                                  daemon=True)
        self._thread = thread
        thread.start()
        ready.wait(STOP_TIMEOUT)

    def _shutdown(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
        if thread is not threading.current_thread():
            thread.join(STOP_TIMEOUT)
        self._thread = self._loop = self._stop = None
        self._config = None
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(self._handler)

    def _main(self, config: _Config, key: str, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(loop, config, key, ready))
        except BaseException as exc:  # noqa: BLE001 - the thread reports, the next serve() restarts
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            ready.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _serve(self, loop: asyncio.AbstractEventLoop, config: _Config, key: str,
                     ready: threading.Event) -> None:
        """Run the SDK workers until `stop`; when one dies (a fatal API error ends its poll loop),
        say so to the sessions served and start them again, at most `RESTARTS` times in a row."""
        stop = asyncio.Event()
        self._loop, self._stop = loop, stop
        client = self.client = make_async_client()
        ready.set()
        try:
            for attempt in range(RESTARTS + 1):
                died = await self._run_workers(client, config, key, stop)
                if died is None:
                    return
                self.error = died
                if attempt == RESTARTS:
                    break
                self._tell_all(f"the local worker stopped ({died}); restarting it")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), RESTART_DELAY * (attempt + 1))
                if stop.is_set():
                    return
            self._given_up = True
            self._tell_all(f"the local worker stopped ({self.error}) and was not restarted: this session's "
                           "tools cannot run; the run is interrupted (`%agent local` shows the error)")
            await self._interrupt_all(client)
        finally:
            await client.close()

    async def _run_workers(self, client: Any, config: _Config, key: str, stop: asyncio.Event) -> str | None:
        """One generation of `concurrency` SDK workers; the reason one died, or None once stopped."""
        from anthropic.lib.environments import EnvironmentWorker

        host = socket.gethostname().split(".")[0][:32] or "kernel"
        # Each SDK worker serves one session at a time: `concurrency` of them serve that many
        # sessions at once; an SDK that has `max_concurrent_calls` (2.17+) also runs that many calls
        # of one session at once (the calls of one thread always run one after the other).
        extra: dict[str, Any] = {"max_concurrent_calls": config.concurrency} if _HAS_MAX_CALLS(EnvironmentWorker) else {}
        workers = [
            EnvironmentWorker(
                client,
                environment_id=environment_id,
                environment_key=key,
                tools=self._tools_for,
                workdir=config.base,
                max_idle=config.idle,
                memory_sync_interval=None,
                worker_id=f"nb-agents-{host}-{os.getpid()}-{e}-{i}",
                **extra,
            )
            for e, environment_id in enumerate(config.environment_ids)  # the work API routes by environment
            for i in range(config.concurrency)
        ]
        tasks = [asyncio.create_task(_serving(w), name=f"nb-agents-local-{i}") for i, w in enumerate(workers)]
        stopper = asyncio.create_task(stop.wait())
        died: str | None = None
        try:
            done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper:
                    exc = None if task.cancelled() else task.exception()
                    died = f"{type(exc).__name__}: {exc}" if exc is not None else "its poll loop ended"
        finally:
            self._cancel_running()  # a running command is killed, so the shielded tool call ends now
            for task in [*tasks, stopper]:
                task.cancel()
            await asyncio.gather(*tasks, stopper, return_exceptions=True)
        return None if stop.is_set() else died

    def _cancel_running(self) -> None:
        with self.lock:
            scopes = [scope for spec in self.specs.values() for scope in spec.running]
        for scope in scopes:
            scope.cancel()

    def _tell_all(self, text: str) -> None:
        with self.lock:
            sids = [spec.session_id for spec in self.specs.values() if spec.session_id]
        for sid in sids:
            self.add_notice(sid, text)

    async def _interrupt_all(self, client: Any) -> None:
        """The worker is gone for good: end the turns waiting for it (the view says why)."""
        with self.lock:
            sids = [spec.session_id for spec in self.specs.values() if spec.session_id]
        for sid in sids:
            with contextlib.suppress(Exception):
                await client.beta.sessions.events.send(sid, events=[{"type": "user.interrupt"}])

    def _tools_for(self, env: Any) -> list[Any]:
        """The SDK worker's tools factory: the toolset of the claimed session, in its own folder.
        A session this kernel does not know (no spec) gets no tools: its calls stay for their owner.
        With one environment per kernel (slots.py) that is rare (a slot taken over after a crash);
        it is logged and `%agent local` lists it. The SDK cannot hand a claimed item back (the
        only call, `work.stop`, ends it): the owner's calls wait until this lease lapses."""
        session = env.session
        spec = self.spec_for((getattr(session, "metadata", None) or {}).get(LOCAL_KEY))
        if spec is None:
            text = (f"claimed session {session.id}, which another kernel made: it gets no tools here and its "
                    f"turn waits until this worker lets it go (local_idle)")
            log.warning(text)
            with self.lock:
                self.foreign.append(str(session.id))
                self._handler.recent.append(text)
            return []
        with self.lock:
            spec.session_id = session.id
            self.claims += 1
        serving = _SERVING.get(None)
        if serving is not None:
            serving["session"] = session.id
        return session_tools(spec, self)


def _slot_key() -> str:
    """Slots are per backend kind + URL (slots.py)."""
    where = backend()
    return f"{where.kind}:{where.base_url}"


async def _serving(worker: Any) -> None:
    """One SDK worker loop, with its own `_SERVING` record."""
    _SERVING.set({"work": None, "session": None})
    await worker.run()


def _HAS_MAX_CALLS(cls: Any) -> bool:  # noqa: N802 - reads as the constant it is per SDK version
    return "max_concurrent_calls" in inspect.signature(cls.__init__).parameters


HOST = WorkerHost()
