"""`Run`, the result of one turn, and `DryRun`, what `--dry-run` shows instead of spending anything.

A Run is a read-only view over the turn's `Transcript` plus the facts only the session knows
(session id, elapsed time, pulled outputs). It renders itself with the pure renderers of
`view/` (`text/plain` + `text/html`), so a saved notebook shows the transcript without widgets.
`Outcome` is the verdict of a turn's outcome (`run.outcome`). `run.egress` is what the turn sent
to the API (egress.py; the session fills it in).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from .egress import NOTHING_SENT, Egress
from .provenance import provenance_from_run
from .transcript import OutcomeItem
from .view import render_html, render_text

__all__ = ["Run", "DryRun", "RunBundle", "Outcome", "outcome_of"]


class RunBundle(tuple):  # type: ignore[type-arg]
    """`(data, metadata)` as IPython's display expects from `_repr_mimebundle_`, that also
    answers `bundle["text/html"]` like the plain data dict it used to be."""

    def __new__(cls, data: dict[str, Any], metadata: dict[str, Any]) -> RunBundle:
        return super().__new__(cls, (data, metadata))

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, 0)[key]
        return tuple.__getitem__(self, key)

    def __contains__(self, key: Any) -> bool:
        return key in tuple.__getitem__(self, 0)


class Run:
    """One `%%agent` cell or `.ask()`: `.text`, `.outputs`, `.usage`, `.cost_usd`, `.events`..."""

    # Provenance facts the session fills in after the turn (sessions.recording.stamp); None = unknown.
    agent_id: str | None = None
    agent_version: int | None = None
    environment_id: str | None = None
    model: str | None = None
    input_hashes: dict[str, str] | None = None
    backend: str | None = None
    # What left the kernel for the API in this turn (prompt, tool results, uploads): the session
    # sets it; a Run not made by a live turn (history, replay) sent nothing.
    egress: Egress = NOTHING_SENT

    def __init__(
        self,
        *,
        transcript: Any,
        events: list[Any],
        session_id: str,
        session_name: str,
        prompt: str,
        elapsed: float,
        stop_reason: str | None,
        interrupted: bool = False,
        outputs: dict[str, Any] | None = None,
        verbose: bool = False,
        quiet: bool = False,
    ) -> None:
        self.transcript = transcript
        self.events = events
        self.session_id = session_id
        self.session_name = session_name
        self.prompt = prompt
        self.elapsed = elapsed
        self.stop_reason = stop_reason
        self.interrupted = interrupted
        self.outputs: dict[str, Any] = outputs if outputs is not None else {}
        self.verbose = verbose
        self.quiet = quiet

    @property
    def text(self) -> str:
        """The agent's final answer (markdown)."""
        return str(self.transcript.text)

    @property
    def outcome(self) -> Any:
        """The turn's outcome verdict (`Outcome`: outcome_id, result, iterations,
        explanation), or None when the turn defined no outcome."""
        return outcome_of(self.transcript)

    @property
    def messages(self) -> list[Any]:
        return list(self.transcript.messages)

    @property
    def tool_calls(self) -> list[Any]:
        return list(self.transcript.tool_calls)

    @property
    def usage(self) -> Any:
        return self.transcript.usage

    @property
    def cost_usd(self) -> float | None:
        return self.transcript.cost_usd

    @property
    def status(self) -> str:
        return str(self.transcript.status)

    @property
    def waiting(self) -> bool:
        """True when the agent waits on something this kernel did not answer (requires_action)."""
        return self.stop_reason == "requires_action"

    def __repr__(self) -> str:
        cost = "" if self.cost_usd is None else f", cost=${self.cost_usd:.4f}"
        return (
            f"<Run session={self.session_name!r} ({self.session_id}) stop_reason={self.stop_reason!r}"
            f" elapsed={self.elapsed:.1f}s{cost}>"
        )

    def _render_opts(self) -> dict[str, Any]:
        return {"verbose": self.verbose, "quiet": self.quiet}

    @property
    def provenance(self) -> dict[str, Any]:
        """`{"nb_agents": {...}}`: what ran, on what, at what cost (the display's metadata)."""
        return provenance_from_run(self, backend=self.backend, model=self.model or getattr(self.transcript, "model", None))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> RunBundle:

        data = {
            "text/plain": render_text(self.transcript, **self._render_opts()),
            "text/html": render_html(self.transcript, **self._render_opts()),
        }
        return RunBundle(data, self.provenance)


@dataclass(frozen=True)
class DryRun:
    """The final prompt and what would be uploaded; no API call was made."""

    prompt: str
    session_name: str
    uploads: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def _lines(self) -> list[str]:
        lines = [f"dry run: session {self.session_name!r}, model {self.options.get('model', '?')} (nothing sent)"]
        if self.uploads:
            lines.append("would upload: " + ", ".join(self.uploads))
        return lines

    def __repr__(self) -> str:
        return "\n".join([*self._lines(), "--- prompt ---", self.prompt])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        head = "".join(f"<div>{html.escape(line)}</div>" for line in self._lines())
        body = f"<pre style='white-space:pre-wrap'>{html.escape(self.prompt)}</pre>"
        return {"text/plain": repr(self), "text/html": f"<div class='nb-agents-dry-run'>{head}{body}</div>"}


@dataclass(frozen=True)
class Outcome:
    """`run.outcome`: the verdict of the turn's outcome (`result` e.g. satisfied, needs_revision)."""

    outcome_id: str
    description: str
    result: str
    iterations: int
    explanation: str | None
    max_iterations: int | None = None

    @property
    def satisfied(self) -> bool:
        return self.result == "satisfied"


def outcome_of(transcript: Any) -> Outcome | None:
    """The last outcome of a transcript, or None."""
    items = [i for i in getattr(transcript, "items", ()) if isinstance(i, OutcomeItem)]
    if not items:
        return None
    o = items[-1]
    return Outcome(o.outcome_id, o.description, o.result, o.iterations, o.explanation, o.max_iterations)
