"""Background runs: `%%agent --bg` and `session.ask(..., background=True)` -> `BackgroundRun`.

The turn is prepared on the caller's thread (interpolation, uploads, session creation, and the
live view, which is built and displayed there, once, on the main thread), then read on a worker thread.
Threading rules:
- the worker only calls `LiveView.update` (its flusher is the one writer of widget traits) and
  `LiveView.finish`, which on a worker flushes and hides the Stop button but displays nothing;
- the static copy (`text/plain` + `text/html`, what a notebook saved without widget state shows)
  is displayed when the main thread collects the run: `run.wait()`, `%agent wait`, or the next
  `%%agent` cell on the same session;
- a run that failed raises its error once, to whoever collects it first; the session then
  forgets the run (`AgentSession.collect`) and takes new cells as if it had never run;
- Stop (the view's button, `run.interrupt()`, `%agent interrupt NAME`) may come from any
  thread: it sends `user.interrupt` once our message is on the server (if it is not yet, the
  worker sends it as soon as it sees the message's echo), and the run ends "interrupted".
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import SessionError
from ..events import event_type
from ..view import on_main_thread, static_bundle

__all__ = ["BackgroundRun", "StillRunning", "start_background", "wait_all"]

# Attributes of the finished `Run` that the handle forwards (a still-running handle refuses them).
RUN_ATTRS = frozenset(
    "text outputs usage cost_usd stop_reason events messages tool_calls interrupted elapsed prompt waiting".split()
)


# What a turn sends (turn_events): once its echo is seen, an interrupt reaches this turn.
SENT_TYPES = ("user.message", "user.define_outcome")


class StillRunning(SessionError):
    """A result was asked of a background run that has not finished."""


def start_background(turn: Any) -> BackgroundRun:
    """Start `turn` (from `AgentSession.prepare_turn`) on a worker; the session's `.active` is it."""
    run = BackgroundRun(turn)
    turn.session.active = run
    run.start()
    return run


class BackgroundRun:
    """Handle of a turn running on a worker thread: `.done`, `.wait()`, `await run`, `.interrupt()`;
    once done, `.text`, `.outputs`, `.stop_reason`... of its `Run` (also `.result`)."""

    def __init__(self, turn: Any) -> None:
        self.turn = turn
        self.session = turn.session
        self.session_name: str = turn.session.name
        self.session_id: str = str(turn.session.session_id)
        self.result: Any = None
        self.error: BaseException | None = None
        self.interrupt_error: BaseException | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._stop_requested = self._sent = self._interrupt_sent = False
        self._shown = False
        self._reported = False  # the error was raised to a caller once (`_collect`)
        self._waiters: list[tuple[Any, Any]] = []  # (asyncio loop, future) of `await run`
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        turn = self.turn
        turn.begin(display=on_main_thread())
        view = turn.view
        if view is not None:
            prompter = getattr(self.session.action_handler, "prompter", None)
            box = getattr(prompter, "widget", None)
            if box is not None and view.widget is not None and box not in view.widget.children:
                view.widget.children = (*view.widget.children, box)  # approval buttons
            view.on_stop(self.interrupt)
        turn.loop.on_event = self._on_event
        self._thread = threading.Thread(target=self._work, name=f"nb_agents-bg-{self.session_name}", daemon=True)
        self._thread.start()

    def _on_event(self, event: Any) -> None:
        self.turn.on_event(event)
        if event_type(event) not in SENT_TYPES or self._sent:
            return
        with self._lock:
            self._sent = True
            send = self._stop_requested and not self._interrupt_sent
            self._interrupt_sent = self._interrupt_sent or send
        if send:  # Stop came before our message reached the server
            self._send_interrupt()

    def _work(self) -> None:
        turn, run = self.turn, None
        try:
            interrupted = turn._read() or self._stop_requested
            if self._stop_requested:
                turn.note_interrupted()
            run = turn.complete(interrupted)
        except BaseException as exc:  # kept for the caller: wait() raises it on its thread
            self.error = exc
            turn.notice(f"the background run failed: {exc}", "error")
        finally:
            try:
                turn.end(run)
            finally:
                self.result = run
                if run is not None:
                    self.session.runs.append(run)
                self._done.set()
                self._wake_waiters()

    def _wake_waiters(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(lambda f=future: f.done() or f.set_result(None))

    # -- control -------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def status(self) -> str:
        if not self.done:
            return "running"
        return "failed" if self.error is not None else str(self.result.status)

    @property
    def transcript(self) -> Any:
        """The transcript so far (live while running)."""
        return self.turn.t if self.result is None else self.result.transcript

    def interrupt(self) -> None:
        """Stop the agent (any thread); the run ends with stop_reason "interrupted"."""
        with self._lock:
            if self.done or self._stop_requested:
                return
            self._stop_requested = True
            send = self._sent and not self._interrupt_sent
            self._interrupt_sent = self._interrupt_sent or send
        if send:
            self._send_interrupt()

    def _send_interrupt(self) -> None:
        try:
            self.session.send_interrupt()
        except Exception as exc:  # noqa: BLE001 - a button callback must not raise; wait() reports it
            self.interrupt_error = exc

    def wait(self, timeout: float | None = None, *, show: bool = True) -> Any:
        """Block until the run ends and return its `Run`. On the main thread this also displays the
        static transcript once (`show`). Ctrl-C while waiting stops the agent, then waits for it."""
        try:
            finished = self._done.wait(timeout)
        except KeyboardInterrupt:
            self.interrupt()
            finished = self._done.wait(self.turn.opts.interrupt_wait + 5)
        if not finished:
            raise StillRunning(f"the background run on session {self.session_name!r} is still running")
        return self._collect(show)

    def _collect(self, show: bool) -> Any:
        if show and not self._shown and on_main_thread():
            self._shown = True
            if self.turn.view is not None:
                meta = self.result.provenance if self.result is not None else None
                self.turn.view.show_static(self.transcript, metadata=meta)
        if self.error is not None and not self._reported:
            self._reported = True  # reported once: afterwards the run is just a failed one
            raise self.error
        return self.result

    def __await__(self) -> Any:
        return self._wait_async().__await__()

    async def _wait_async(self) -> Any:
        import asyncio

        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            if not self.done:
                self._waiters.append((loop, future))
            else:
                future.set_result(None)
        await future
        return self._collect(show=True)

    # -- display -------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name in RUN_ATTRS:
            if not self.done:
                raise StillRunning(
                    f"the background run on session {self.session_name!r} is still running: "
                    "`run.wait()` or `await run` first"
                )
            return getattr(self._collect(show=False), name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        state = self.status if self.done else f"running, {len(self.turn.events)} events so far"
        return f"<BackgroundRun session={self.session_name!r} ({self.session_id}) {state}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        t = self.transcript
        opts = self.turn.opts
        return static_bundle(t, verbose=opts.verbose, quiet=opts.quiet)


def wait_all(sessions: Any, timeout: float | None = None) -> list[Any]:
    """Wait for the background runs of `sessions` (those that have one); their Runs, in order.
    Every run is waited for; then the first failure is raised (each failure once)."""
    runs, errors = [], []
    for sess in sessions:
        if sess.active is not None:
            try:
                runs.append(sess.collect(timeout))
            except StillRunning:
                raise
            except Exception as exc:  # noqa: BLE001 - the other runs are still waited for
                errors.append(exc)
    if errors:
        raise errors[0]
    return runs
