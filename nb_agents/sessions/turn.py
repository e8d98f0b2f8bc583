"""One turn of a session, on the caller's thread: send, fold, show, interrupt, build the `Run`.

Split from session.py (which owns the session's identity and history). The turn reads the
stream on the thread that called `ask()` — the main thread for a foreground cell — so the
notebook's stop button / Ctrl-C raises `KeyboardInterrupt` inside the loop. It is caught
here: `user.interrupt` is sent, the loop keeps reading until the idle (bounded by
`interrupt_wait`), "interrupted" is shown and everything received is kept. `--timeout` ends the
same way through `DeadlineExceeded`. The async turn (asynchronous.py) awaits the same steps:
what is sent, what ends a read early and how a drain's outcome is reported are decided here,
once (`_outgoing`, `STOPS`, `_stopping`, `_draining`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..api import INTERRUPT, DeadlineExceeded, EventLoop, backoff, is_retryable, retrying, turn_events
from ..config import Options
from ..errors import AgentAPIError, NbAgentsError
from ..events import event_type
from ..run import Run
from ..tools import ActionContext
from ..transcript import (
    PendingDeltas,
    empty,
    fold,
    is_delta,
    with_image,
    with_inputs,
    with_notice,
    with_prompt,
)
from ..view import LiveView
from .recording import stamp, turn_recorder

if TYPE_CHECKING:
    from .session import AgentSession

__all__ = ["Turn", "user_message"]

PULL_ATTEMPTS = 3
PULL_BACKOFF = 0.2  # seconds before the first retry of the output pull (retry.backoff's start)
# What ends a read early: the turn then drains (sends `user.interrupt`, reads to the idle).
STOPS = (KeyboardInterrupt, DeadlineExceeded)


def user_message(text: str) -> dict[str, Any]:
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}


def _describe_pending(event: Any) -> str:
    etype, name = event_type(event), getattr(event, "name", "?")
    if etype == "agent.custom_tool_use":
        return f"custom tool `{name}` (no function in this kernel answers it)"
    return f"approval for `{name}`"


class Turn:
    _t: Any  # the transcript behind the `t` property
    # The live view a turn opens; a test or a benchmark may set an observing subclass here.
    view_class: type[LiveView] = LiveView

    def __init__(
        self, session: AgentSession, opts: Options, text: str | None, *, live: bool, inputs: Any = None, guard: Any = None
    ) -> None:
        """`text=None` follows a turn already running (attach) instead of sending one."""

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
        self.typed: tuple[Any, ...] = ()  # what the user wrote (`prompt`): text pieces and attached inputs
        self.attached: tuple[Any, ...] = ()
        self.record_path: str | None = None  # `--record PATH` for this turn (recording.turn_recorder)

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
            # The view is woken by the first delta after a fold only (its source, `_read_t`,
            # folds whatever came since): the other deltas of a burst cost no call at all.
            if self._pending.add(event) and self.view is not None:
                self.view.update(self._read_t)
            self.session.record_preview(event)
            return
        self.t = fold(self.t, event)
        if getattr(event, "id", None):
            self.events.append(event)
        self.session.record(event)
        if _local(self.session) is not None:  # what the kernel's worker has to say (a lost lease)
            from ..local import HOST  # (local mode only: a cloud turn never loads the worker)

            HOST.ledger.note(str(self.session.session_id), event)
            for text in HOST.take_notices(self.session.session_id):
                self.notice(text, "warning")
        if self.view is not None:
            self.view.update(self._read_t)

    def _read_t(self) -> Any:
        return self.t

    def prompt(self, parts: Any, inputs: Any = ()) -> None:
        """What the user wrote for this turn's text (see `transcript.with_prompt`): the view shows
        it, with the text added for the agent folded away."""
        if self.text is not None:
            self.typed, self.attached = tuple(parts), tuple(inputs)  # also for the cassette header
            self.t = with_prompt(self.t, self.text, self.typed, self.attached)

    def notice(self, text: str, level: str = "info") -> None:
        self.t = with_notice(self.t, text, level)
        if self.view is not None:
            self.view.update(self._read_t)  # the source, not a copy: a delta queued meanwhile is shown too

    def requires_action(self, idle: Any) -> bool:
        """Let the tools module answer; whatever stays unanswered is shown as waiting (no hang)."""
        ids = [str(i) for i in (getattr(getattr(idle, "stop_reason", None), "event_ids", None) or [])]
        try:
            sent, pending = self._answer(ids)
        except NbAgentsError as exc:  # released: the next cell sends the answers again
            self.notice(f"could not send the answers: {exc}; the next cell sends them again", "error")
            return False
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
        ctx = ActionContext(
            history=tuple(self.session.events), deadline=self.deadline, background=self.background,
            on_notice=self.notice,
        )
        params = list(handler.resolve(pending, ctx) or [])
        if params:
            self._send_answers(handler, params, arm)
        return bool(params), pending

    def _send_answers(self, handler: Any, params: list[dict[str, Any]], arm: bool) -> None:
        """Send the handler's answers. A failed send gives them back (`release`: sent again, not
        run again, by the next attempt); answers the API refuses for what they hold (a 4xx) are
        replaced once by error results that say why, so the agent is told and nothing waits."""
        try:
            self.loop.send(params, arm=arm)
            return
        except AgentAPIError as exc:
            handler.release(params)
            if exc.status is None or is_retryable(exc):
                raise
            refusal = exc
        except BaseException:
            handler.release(params)
            raise
        fallback = handler.refused(params, str(refusal))
        self.notice(f"the API refused the tool answers ({refusal}); the agent was told instead", "warning")
        try:
            self.loop.send(fallback, arm=arm)
        except BaseException:
            handler.release(fallback)
            raise

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
        self.loop.send(INTERRUPT, arm=False)

    # -- the turn ----------------------------------------------------------------------------
    def _open_view(self) -> None:
        if not self.live:
            return
        self.view = self.view_class(self.t, verbose=self.opts.verbose, quiet=self.opts.quiet)
        self.view.display()

    def _recorder(self) -> Any:
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
        loop.client, loop.deltas, loop.meter = self.session.client, self.opts.deltas, self.session.egress
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
        if _local(self.session) is not None:  # what the worker said after the last event
            from ..local import HOST

            for text in HOST.take_notices(self.session.session_id):
                self.notice(text, "warning")
        outputs = self._pull()
        run = self._result(self.started, interrupted)
        run.outputs.update(outputs)
        run.egress = self.session.egress.finish()
        return stamp(run, self)

    def end(self, run: Run | None) -> None:
        """Detach the listeners, close the view (static copy only on the main thread) and the recorder."""
        for listener in self.listeners:
            if listener in self.session.listeners:
                self.session.listeners.remove(listener)
        if run is None:
            self.session.egress.abandon("the turn failed")
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
            self.loop.run(send=self._outgoing(), deadline=self.deadline)
            return False
        except STOPS as exc:
            self._stopping(exc)
        self._drain()
        return True

    def _outgoing(self) -> list[dict[str, Any]] | None:
        """What this turn sends (a user.message, or a user.define_outcome), after settling a
        previous turn still waiting for an answer; None when it follows a turn already running."""
        if self.text is None:
            return None
        self._settle_previous()
        return turn_events(self.text, self.opts)

    def _stopping(self, exc: BaseException) -> None:
        """The read ended early (`STOPS`, or the async task was cancelled): say why before the drain."""
        if isinstance(exc, DeadlineExceeded):
            self.notice(f"timed out after {self.opts.timeout:g} s: stopping the agent…", "warning")

    def _pull(self) -> dict[str, Any]:
        """Bring the turn's output files home; images also appear in the transcript."""
        try:
            outputs = self._pull_outputs()
        except NbAgentsError as exc:
            self.notice(f"outputs not downloaded: {exc}", "error")
            return {}
        for name, artifact in outputs.items():
            if getattr(artifact, "is_image", False) and artifact.path.is_file():
                self.t = with_image(self.t, name, artifact.mime, artifact.path.read_bytes())
        if outputs:
            self.notice("outputs: " + ", ".join(sorted(outputs)) + f" (in {self.session.files.outputs_root})")
        for error in getattr(outputs, "errors", ()):  # one line per file; `%agent pull` retries
            self.notice(f"output not downloaded: {error} (`%agent pull` retries)", "warning")
        return outputs

    def _pull_outputs(self) -> Any:
        """`files.pull` through the retry policy (api/retry.py): a transient API error on the
        listing pulls again, and so does one on a file's download (`.failures`), which then
        fetches only what is still missing. Outputs the agent wrote are not lost to one unlucky
        moment of an error storm."""
        def pull() -> Any:
            return self.session.files.pull(self.session.client, self.opts, str(self.session.session_id), self.events)

        got = retrying(pull, attempts=PULL_ATTEMPTS, start=PULL_BACKOFF)
        for attempt in range(1, PULL_ATTEMPTS):
            if not any(is_retryable(exc) for exc in getattr(got, "failures", ())):
                break
            time.sleep(backoff(attempt, start=PULL_BACKOFF))
            more = retrying(pull, attempts=PULL_ATTEMPTS, start=PULL_BACKOFF)
            more.update({name: art for name, art in got.items() if name not in more})
            got = more
        return got

    def _drain(self) -> None:
        """Send `user.interrupt` and keep reading until the session is idle (bounded)."""
        with self._draining() as deadline:
            self.loop.interrupt()
            self.loop.run(deadline=deadline)

    @contextmanager
    def _draining(self) -> Iterator[float]:
        """Around a drain (sync or async; yields its deadline): its outcome becomes a notice, it never raises.
        In local mode the tool call running in this kernel is stopped first (its command is killed)."""
        if _local(self.session) is not None:
            from ..local import HOST

            HOST.interrupt(str(self.session.session_id))
        try:
            yield time.monotonic() + self.opts.interrupt_wait
        except (*STOPS, asyncio.CancelledError):
            self.notice("interrupted; the session may still be running: `%agent interrupt` stops it", "warning")
        except NbAgentsError as exc:
            self.notice(f"could not interrupt: {exc}", "error")
        else:
            self.note_interrupted()

    def note_interrupted(self) -> None:
        """Say the agent was stopped, unless the transcript already shows its interrupt."""
        if not getattr(self.t, "interrupted", False):
            self.notice("Interrupted: the agent was stopped; everything received so far is kept.", "warning")

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


def _local(session: Any) -> Any:
    """The session's local.LocalRun in local mode, else None (test doubles have no `files`)."""
    return getattr(getattr(session, "files", None), "local", None)


def _stop_reason(event: Any) -> str | None:
    if event is None:
        return None
    etype = event_type(event)
    if etype == "session.status_idle":
        reason = getattr(event, "stop_reason", None)
        return getattr(reason, "type", None) or "end_turn"
    return {"session.status_terminated": "terminated", "session.deleted": "deleted"}.get(etype, etype)
