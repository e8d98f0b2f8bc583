"""Fan-out: `nb_agents.map(template, items, ...)` and `%%agent --map VAR` run one new session per item.

Each item gets its own session (its own cloud container) on a shared agent and environment,
created once on the caller's thread. At most `concurrency` items run at once, each on a worker
thread that runs an ordinary turn (session.py / turn.py, no live view). Per item:
- retries with backoff on transient API errors (api/retry.py: 408/409/429/5xx, connection
  errors), but never a second run of the item: once the session holds our `user.message`, a
  retry follows that turn instead of resending;
- failures are isolated: the item's row gets status "failed" and the error;
- a total budget (`max_usd`) stops NEW work: items not started become "skipped: budget";
- Stop (button of a background fan-out, Ctrl-C while waiting, `.stop()`) interrupts every
  running session; items not started become "skipped: stopped";
- sessions are archived when their item ends, unless `keep=True`.
The progress view (view/progress.py) is built and displayed once on the main thread; workers only
update it. The result is
a `MapResult` (result.py): a table with one row per item and `.retry_failed()`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from ..api import api_call, ensure_agent_and_environment, is_retryable, retry_wait, retrying
from ..errors import ConfigError, NbAgentsError
from ..local import HOST, local_environment_base
from ..sessions import SENT_TYPES, AgentSession, StillRunning, user_namespace, want_live
from ..view import Progress, ProgressView
from .items import (
    DONE,
    FAILED,
    INTERRUPTED,
    RUNNING,
    SKIPPED_BUDGET,
    SKIPPED_STOP,
    Item,
    files_for,
    normalize,
)
from .result import MapResult

__all__ = ["FanOut", "map"]


def map(  # noqa: A001 - the public name: nb_agents.map
    template: str,
    items: Any,
    *,
    concurrency: int = 8,
    max_usd: float | None = None,
    retries: int = 3,
    keep: bool = False,
    files: Any = None,
    namespace: Mapping[str, Any] | None = None,
    interpolate: bool = True,
    live: bool | None = None,
    background: bool = False,
    name: str = "map",
    **options: Any,
) -> Any:
    """Run `template` once per item, each in a new session; returns a `MapResult` (a table).

    `{{item}}`, `{{item.field}}`, `{{key}}` and `{{index}}` are filled in per item (other `{{names}}`
    come from `namespace`, default the notebook's). `files`: paths for every item, a dict
    key -> paths, or `files(key, item) -> paths`. `background=True` returns the running `FanOut`
    at once (`.wait()`, `.stop()`, its view has a Stop button). Other keywords are options."""
    fan = FanOut(
        template, normalize(items), concurrency=concurrency, max_usd=max_usd, retries=retries, keep=keep,
        files=files, namespace=namespace, interpolate=interpolate, live=live, name=name, options=options,
    )
    fan.start(stop_button=background)
    return fan if background else fan.wait()


class FanOut:
    """A running fan-out. `.wait()` -> MapResult, `.stop()`, `.done`, `.progress()`."""

    def __init__(
        self, template: str, pairs: list[tuple[Any, Any]], *, concurrency: int = 8, max_usd: float | None = None,
        retries: int = 3, keep: bool = False, files: Any = None, namespace: Mapping[str, Any] | None = None,
        interpolate: bool = True, live: bool | None = None, name: str = "map", options: dict[str, Any] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ConfigError("nb_agents.map: concurrency must be at least 1")
        if retries < 0:
            raise ConfigError("nb_agents.map: retries must be 0 or more")
        self.template, self.retries, self.keep, self.files = template, retries, keep, files
        self.items = [Item(i, key, value) for i, (key, value) in enumerate(pairs)]
        self.concurrency = min(concurrency, max(1, len(self.items)))
        self.max_usd = max_usd
        self.namespace, self.interpolate, self.live, self.name = namespace, interpolate, live, name
        self.options = dict(options or {})
        # approvals (ask=, auto=...) go to every item's ask(); local mode needs one said out loud
        self.tool_kw = {k: self.options.pop(k) for k in ("ask", "ask_all", "auto") if k in self.options}
        self.stopped = threading.Event()
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._queue = list(self.items)
        self._threads: list[threading.Thread] = []
        self.view: Any = None
        self.client: Any = None
        self._probe: Any = None  # the set-up session: its client is every item's
        self._shared: dict[str, Any] = {}
        self.result: Any = None

    # -- set-up (caller's thread) ----------------------------------------------------------
    def start(self, *, stop_button: bool = False) -> FanOut:
        """Create the shared agent/environment, show the view, start the workers (main thread).
        `stop_button`: only for a background fan-out (a busy foreground cell takes no clicks)."""
        if self.namespace is None and self.interpolate:
            self.namespace = user_namespace()
        probe = AgentSession(f"{self.name}-setup", **self.options)
        opts = probe.options()  # a bad option fails here, in one line, before anything is created
        if opts.local and not self.tool_kw:
            raise ConfigError("nb_agents.map(local=True) runs items unattended, so no one can approve a tool call: "
                              "pass auto=True to let the tools run in this kernel (docs/local.md)")
        self.client = probe.connect(opts)
        self._probe = probe
        self._shared = self._agent_and_environment(opts)
        if want_live(self.live):
            self.view = ProgressView(self.progress())
            self.view.display()
            if stop_button:
                self.view.on_stop(self.stop)
        self._threads = [
            threading.Thread(target=self._worker, name=f"nb_agents-map-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def _agent_and_environment(self, opts: Any) -> dict[str, Any]:
        """Created (or found) once and shared by every item's session."""
        # local mode: this kernel's own environment (local/slots.py)
        name = HOST.environment_name(local_environment_base(opts)) if opts.local else None
        agent_id, environment_id = ensure_agent_and_environment(self.client, opts, name)
        return {"agent_id": agent_id, "environment_id": environment_id}

    # -- workers ---------------------------------------------------------------------------
    def _next(self) -> Item | None:
        with self._lock:
            if self.stopped.is_set() or not self._queue:
                return None
            if self.max_usd is not None and self.spent() >= self.max_usd:
                for item in self._queue:
                    item.mark(SKIPPED_BUDGET, f"budget of ${self.max_usd:g} reached before it started")
                self._queue.clear()
                return None
            item = self._queue.pop(0)
            item.status, item.started = RUNNING, time.monotonic()
            return item

    def _worker(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._run_item(item)
            except BaseException as exc:  # noqa: BLE001 - one item never takes the others down
                item.mark(FAILED, f"{type(exc).__name__}: {exc}")
            finally:
                self._archive(item)
                self._changed()

    def _session(self, item: Item) -> Any:
        label = re.sub(r"[^\w.-]+", "_", str(item.key))[:60]
        sess = AgentSession(f"{self.name}-{item.index}-{label}", **{**self.options, **self._shared})
        sess.share_client(self._probe)  # one connection pool for all
        sess.listeners.append(self._stop_listener(sess))
        return sess

    def _stop_listener(self, sess: Any) -> Any:
        """A Stop that came before this item's message reached the server interrupts it on its echo
        (an interrupt sent to a session that is still idle would do nothing)."""
        sent = threading.Event()

        def listener(event: Any) -> None:
            if self.stopped.is_set() and not sent.is_set() and getattr(event, "type", None) in SENT_TYPES:
                sent.set()
                try:
                    sess.send_interrupt()
                except NbAgentsError:
                    pass

        return listener

    def _run_item(self, item: Item) -> None:
        sess = item.session = self._session(item)
        ns = {**(self.namespace or {}), "item": item.value, "key": item.key, "index": item.index}
        for attempt in range(1, self.retries + 2):
            item.attempts = attempt
            try:
                if sess.session_id is not None and self._accepted(sess):
                    run = sess.follow(live=False)  # the message is there: never send it twice
                else:
                    run = sess.ask(self.template, namespace=ns, interpolate=self.interpolate, live=False,
                                   files=files_for(self.files, item.key, item.value), **self.tool_kw)
            except NbAgentsError as exc:
                item.session_id = sess.session_id
                if self.stopped.is_set():
                    return item.mark(INTERRUPTED, str(exc))
                if not is_retryable(exc) or attempt > self.retries:
                    return item.mark(FAILED, str(exc))
                if self.stopped.wait(retry_wait(attempt, exc)):
                    return item.mark(INTERRUPTED, "stopped before a retry")
                continue
            return self._finish(item, run)

    @staticmethod
    def _accepted(sess: Any) -> bool:
        """Whether the session already holds our message (sent by an attempt that then failed)."""
        events = api_call(sess.client.beta.sessions.events.list, sess.session_id, limit=1000)
        return any(getattr(e, "type", None) in SENT_TYPES for e in events)

    def _finish(self, item: Item, run: Any) -> None:
        item.run, item.session_id = run, run.session_id
        item.text, item.outputs, item.cost_usd = run.text, dict(run.outputs), run.cost_usd
        if run.interrupted or (self.stopped.is_set() and getattr(run.transcript, "interrupted", False)):
            return item.mark(INTERRUPTED, "interrupted")
        if run.stop_reason == "end_turn":
            return item.mark(DONE)
        last = run.transcript.last_error
        detail = f": {last.message}" if last is not None and getattr(last, "message", None) else ""
        item.mark(FAILED, f"the session ended with {run.stop_reason}{detail}")

    def _archive(self, item: Item) -> None:
        sess = item.session
        if self.keep or sess is None or sess.session_id is None:
            return
        try:
            retrying(sess.archive, attempts=self.retries + 1)
        except NbAgentsError:
            pass  # it stays listed (`%agent sessions`); the item's result stands

    # -- control ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Start no new item and interrupt every running session (any thread)."""
        with self._lock:
            if self.stopped.is_set():
                return
            self.stopped.set()
            for item in self._queue:
                item.mark(SKIPPED_STOP, "stopped before it started")
            self._queue.clear()
            running = [i for i in self.items if i.status == RUNNING and i.session is not None]
        for item in running:
            try:
                if item.session.session_id is not None:
                    item.session.interrupt()
            except NbAgentsError:
                pass  # the worker reports what happened to the item
        self._changed()

    @property
    def done(self) -> bool:
        return all(not t.is_alive() for t in self._threads)

    def spent(self) -> float:
        return sum(i.live_cost for i in self.items if i.session is not None)

    def progress(self) -> Any:
        return Progress.of(self.items, spent=self.spent(), elapsed=time.monotonic() - self.started,
                           concurrency=self.concurrency, max_usd=self.max_usd)

    def _changed(self) -> None:
        if self.view is not None:
            self.view.update(self.progress())

    def wait(self, timeout: float | None = None) -> Any:
        """Block until every item ended; returns the `MapResult`. Ctrl-C stops the fan-out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            try:
                for thread in self._threads:
                    thread.join(0.25)
                self._changed()  # running costs and the ETA move between item ends too
                if self.view is not None:
                    self.view.tick()
            except KeyboardInterrupt:
                self.stop()
            if deadline is not None and time.monotonic() >= deadline and not self.done:
                raise StillRunning(f"the fan-out is still running ({self.progress().line()})")
        return self._result()

    def _result(self) -> Any:
        if self.result is None:
            if self.view is not None:
                self.view.finish(self.progress())
            self.result = MapResult(self.items, self)
        return self.result

    def __repr__(self) -> str:
        return f"<FanOut {self.progress().line()}>"
