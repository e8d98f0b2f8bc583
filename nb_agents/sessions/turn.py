"""One turn of a session, on the caller's thread: send, fold, show, interrupt, build the `Run`.

Split from session.py (which owns the session's identity and history). The turn reads the
stream on the thread that called `ask()` — the main thread for a foreground cell — so the
notebook's stop button / Ctrl-C raises `KeyboardInterrupt` inside the loop. It is caught
here: `user.interrupt` is sent, the loop keeps reading until the idle (bounded by
`interrupt_wait`), "interrupted" is shown and everything received is kept. `--timeout` ends the
same way through `DeadlineExceeded`.
"""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Any

from ..api.stream import DeadlineExceeded, EventLoop
from ..config import Options
from ..errors import NbAgentsError
from ..events import event_type
from ..run import Run
from ..transcript import PendingDeltas, empty, is_delta

if TYPE_CHECKING:
    from .session import AgentSession

__all__ = ["Turn", "user_message"]

PULL_ATTEMPTS = 3
PULL_BACKOFF = 0.2  # seconds, doubled per attempt
_TRANSIENT = re.compile(r"API error (408|409|429|5\d\d)\b|unreachable|connection", re.IGNORECASE)


def user_message(text: str) -> dict[str, Any]:
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}


def _describe_pending(event: Any) -> str:
    etype, name = event_type(event), getattr(event, "name", "?")
    if etype == "agent.custom_tool_use":
        return f"custom tool `{name}` (no function in this kernel answers it)"
    return f"approval for `{name}`"


class Turn:
    _t: Any  # the transcript behind the `t` property

    def __init__(
        self, session: AgentSession, opts: Options, text: str | None, *, live: bool, inputs: Any = None, guard: Any = None
    ) -> None:
        """`text=None` follows a turn already running (attach) instead of sending one."""
        from ..transcript import with_inputs

        self.session = session
        self.opts = opts
        self.text = text
        self.live = live
        self._pending = PendingDeltas()  # text deltas not folded yet (see `t`)
        self._fold_lock = threading.Lock()
        self.t = empty(offline=session.offline, session_id=session.session_id, model=opts.model)
        if inputs is not None:
            self.t = with_inputs(self.t, inputs.report)
        self.events: list[Any] = []
        self.view: Any = None
        self.deadline: float | None = None
        self.loop: EventLoop = session.loop()
        self.guard = guard  # budget.BudgetGuard: interrupts once the cap is reached
        self.background = False  # set by background.py: approvals come from buttons, not stdin
        self.started = time.monotonic()
        self.recorder: Any = None
        self.listeners: list[Any] = []
        self.inputs = inputs  # files.Prepared: its digests and report go to the cassette and provenance
        self.record_path: str | None = None  # `--record PATH` for this turn (session_cache.turn_recorder)

    # -- the transcript: deltas fold lazily ----------------------------------------------------
    @property
    def t(self) -> Any:
        """The turn's Transcript, with every delta received so far folded in (any thread)."""
        if len(self._pending):
            with self._fold_lock:
                self._t = self._pending.fold(self._t)
        return self._t

    @t.setter
    def t(self, value: Any) -> None:
        self._t = value

    # -- callbacks of the event loop ---------------------------------------------------------
    def on_event(self, event: Any) -> None:
        if is_delta(event):
            # Only queued: the view's flusher (or the next other event) folds the batch at once.
            self._pending.add(event)
            self.session.record(event)
            if self.view is not None:
                self.view.update(self._read_t)
            return
        from ..transcript import fold

        self.t = fold(self.t, event)
        if getattr(event, "id", None):
            self.events.append(event)
        self.session.record(event)
        if self.view is not None:
            self.view.update(self._read_t)

    def _read_t(self) -> Any:
        return self.t

    def notice(self, text: str, level: str = "info") -> None:
        from ..transcript import with_notice

        self.t = with_notice(self.t, text, level)
        if self.view is not None:
            self.view.update(self.t)

    def requires_action(self, idle: Any) -> bool:
        """Let the tools module answer; whatever stays unanswered is shown as waiting (no hang)."""
        ids = [str(i) for i in (getattr(getattr(idle, "stop_reason", None), "event_ids", None) or [])]
        sent, pending = self._answer(ids)
        if sent or self._all_answered(ids, pending):
            return True
        what = ", ".join(_describe_pending(e) for e in self._waiting(pending)) or f"events {', '.join(ids)}"
        self.notice(f"waiting: the agent needs {what}; the session stays idle until it gets an answer", "warning")
        return False

    def _answer(self, ids: list[str], *, arm: bool = True) -> tuple[bool, list[Any]]:
        """Send the action handler's answers for `ids`; (whether anything was sent, the pending events)."""
        pending = [e for e in self.session.events if str(getattr(e, "id", "")) in ids]
        handler = self.session.action_handler
        if handler is None:
            return False, pending
        from ..tools.handler import ActionContext

        ctx = ActionContext(
            history=tuple(self.session.events), deadline=self.deadline, background=self.background,
            on_notice=self.notice,
        )
        params = list(handler.resolve(pending, ctx) or [])
        if params:
            self.loop.send(params, arm=arm)
        return bool(params), pending

    def _waiting(self, pending: list[Any]) -> list[Any]:
        """The pending calls nobody answered (the ones the notice names)."""
        handler = self.session.action_handler
        return pending if handler is None else handler.unanswered(pending, self.session.events)

    def _all_answered(self, ids: list[str], pending: list[Any]) -> bool:
        """Every call `ids` names is known and already answered (by us or in the history).

        The emulator applies a two-result send one result at a time and re-emits the
        `requires_action` idle in between (backfills replay old idles too): such an idle names
        calls already answered, so it is no reason to stop (docs/architecture.md "tools")."""
        handler = self.session.action_handler
        return (
            handler is not None
            and len(pending) == len(ids)
            and not handler.unanswered(pending, self.session.events)
        )

    def _settle_previous(self) -> None:
        """A session still waiting on the previous turn (requires_action) would never run a new
        message: answer what the kernel can, else interrupt the old turn first (with a note)."""
        history = self.session.history
        if history is None or not getattr(history, "requires_action", False):
            return
        ids = [str(i) for i in history.pending_action_ids]
        # arm=False: the old turn's own idle must not end this one; our message's echo arms.
        sent, pending = self._answer(ids, arm=False)
        handler = self.session.action_handler
        if (sent and not (handler is not None and handler.unowned(pending))) or self._all_answered(ids, pending):
            return
        what = ", ".join(_describe_pending(e) for e in self._waiting(pending)) or "an answer"
        self.notice(f"the previous turn was still waiting for {what}: interrupted it so this message runs", "warning")
        self.loop.send([{"type": "user.interrupt"}], arm=False)

    # -- the turn ----------------------------------------------------------------------------
    def _open_view(self) -> None:
        if not self.live:
            return
        from ..view.widget import LiveView

        self.view = LiveView(self.t, verbose=self.opts.verbose, quiet=self.opts.quiet)
        self.view.display()

    def _recorder(self) -> Any:
        from .recording import turn_recorder

        return turn_recorder(self)

    def run(self) -> Run:
        """The whole turn on this thread: `begin`, read, `complete`, `end`."""
        self.begin()
        run: Run | None = None
        try:
            run = self.complete(self._read())
        finally:
            self.end(run)
        assert run is not None
        return run

    def begin(self, *, display: bool = True) -> None:
        """Wire the loop to this turn, attach the recorder/budget listeners, open the view
        (`display`: show it now; call on the main thread). A background run (background.py)
        calls this on the main thread and the rest on its worker."""
        loop = self.loop
        loop.client, loop.deltas = self.session.client, self.opts.deltas
        loop.on_event, loop.on_notice, loop.on_requires_action = self.on_event, self.notice, self.requires_action
        loop.final = loop.stopped_by = None
        self.started = time.monotonic()
        self.deadline = self.started + self.opts.timeout if self.opts.timeout > 0 else None
        self.recorder = self._recorder()
        self.listeners = [self.recorder.on_event] if self.recorder is not None else []
        if self.guard is not None:
            self.listeners.append(self.guard.listener(self.session.client, str(self.session.session_id), self.notice))
        self.session.listeners.extend(self.listeners)
        if display:
            self._open_view()

    def complete(self, interrupted: bool) -> Run:
        """After the read: pull the outputs and build the `Run`."""
        outputs = self._pull()
        run = self._result(self.started, interrupted)
        run.outputs.update(outputs)
        from .recording import stamp

        return stamp(run, self)

    def end(self, run: Run | None) -> None:
        """Detach the listeners, close the view (static copy only on the main thread) and the recorder."""
        for listener in self.listeners:
            if listener in self.session.listeners:
                self.session.listeners.remove(listener)
        if self.view is not None:
            self.view.close(self.t, metadata=run.provenance if run is not None else None)
        if self.recorder is not None:
            if run is None:
                self.recorder.abort()
            else:
                self.recorder.close(run)

    def _read(self) -> bool:
        """Send (unless following) and read to the end of the turn; True if it was interrupted."""
        try:
            if self.text is None:
                self.loop.run(deadline=self.deadline)
            else:
                self._settle_previous()
                from ..api import turn_events  # a user.message, or a user.define_outcome

                self.loop.run(send=turn_events(self.text, self.opts), deadline=self.deadline)
            return False
        except KeyboardInterrupt:
            self._drain()
        except DeadlineExceeded:
            self.notice(f"timed out after {self.opts.timeout:g} s: stopping the agent…", "warning")
            self._drain()
        return True

    def _pull(self) -> dict[str, Any]:
        """Bring the turn's output files home; images also appear in the transcript."""
        from ..transcript import with_image

        try:
            outputs = self._pull_outputs()
        except NbAgentsError as exc:
            self.notice(f"outputs not downloaded: {exc}", "error")
            return {}
        for name, artifact in outputs.items():
            if getattr(artifact, "is_image", False) and artifact.path.is_file():
                self.t = with_image(self.t, name, artifact.mime, artifact.path.read_bytes())
        if outputs:
            self.notice("outputs: " + ", ".join(sorted(outputs)) + f" (in {self.session.files.sync.outputs_root})")
        for error in getattr(outputs, "errors", ()):  # one line per file; `%agent pull` retries
            self.notice(f"output not downloaded: {error} (`%agent pull` retries)", "warning")
        return outputs

    def _pull_outputs(self) -> Any:
        """`files.pull`, tried again after a transient API error (429/5xx, connection): outputs
        the agent wrote are not lost to one unlucky moment of an error storm."""
        def pull() -> Any:
            return self.session.files.pull(self.session.client, self.opts, str(self.session.session_id), self.events)

        for attempt in range(PULL_ATTEMPTS - 1):
            try:
                return pull()
            except NbAgentsError as exc:
                if not _TRANSIENT.search(str(exc)):
                    raise
                time.sleep(PULL_BACKOFF * 2**attempt)
        return pull()

    def _drain(self) -> None:
        """Send `user.interrupt` and keep reading until the session is idle (bounded)."""
        loop = self.loop
        try:
            loop.send([{"type": "user.interrupt"}], arm=False)
            loop.armed = True  # any idle from now on ends the turn
            loop.run(deadline=time.monotonic() + self.opts.interrupt_wait)
            if not getattr(self.t, "interrupted", False):
                self.notice("Interrupted: the agent was stopped; everything received so far is kept.", "warning")
        except (KeyboardInterrupt, DeadlineExceeded):
            self.notice("interrupted; the session may still be running: `%agent interrupt` stops it", "warning")
        except NbAgentsError as exc:
            self.notice(f"could not interrupt: {exc}", "error")

    def _result(self, started: float, interrupted: bool) -> Run:
        return Run(
            transcript=self.t,
            events=self.events,
            session_id=str(self.session.session_id),
            session_name=self.session.name,
            prompt=self.text or "",
            elapsed=time.monotonic() - started,
            stop_reason="interrupted" if interrupted else _stop_reason(self.loop.final),
            interrupted=interrupted,
            verbose=self.opts.verbose,
            quiet=self.opts.quiet,
        )


def _stop_reason(event: Any) -> str | None:
    if event is None:
        return None
    etype = event_type(event)
    if etype == "session.status_idle":
        reason = getattr(event, "stop_reason", None)
        return getattr(reason, "type", None) or "end_turn"
    return {"session.status_terminated": "terminated", "session.deleted": "deleted"}.get(etype, etype)
