"""Budgets and cost: the session `budget` param, a client-side guard and `%agent cost`.

`--max-usd X` creates the session with `budget={"type": "limit", "max_list_cost": {"amount":
"<cents>", "currency": "USD"}}`, which the service enforces before each model request. The
`BudgetGuard` watches `session.usage` events as well, so the client stops (interrupts) even
where the server would let one more request through. `session_cost` reads the cumulative usage
of a session (`sessions.retrieve`) for `%agent cost`.
"""

from __future__ import annotations

import html
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..events import get_field, usd

__all__ = [
    "BudgetGuard",
    "CostReport",
    "budget_param",
    "budget_reached_notice",
    "cents",
    "list_cost_usd",
    "raise_budget",
    "session_cost",
]


def cents(max_usd: Any) -> int:
    """Validated dollars -> whole cents (rounded up, so a cap is never silently lowered)."""
    try:
        value = float(max_usd)
    except (TypeError, ValueError):
        raise ConfigError(
            f"--max-usd: {max_usd!r} is not a number of dollars (e.g. --max-usd 2.50)"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"--max-usd must be a positive amount of dollars, got {max_usd!r}")
    return max(1, math.ceil(round(value * 100, 6)))


def budget_param(max_usd: Any) -> dict[str, Any]:
    """`sessions.create(budget=...)` / `sessions.update(budget=...)` for a dollar cap."""
    return {"type": "limit", "max_list_cost": {"amount": str(cents(max_usd)), "currency": "USD"}}


def list_cost_usd(usage: Any) -> float | None:
    """Dollars from a usage object's `list_cost` (`{"amount": "<cents>", "currency": "USD"}`)."""
    return usd(get_field(usage, "list_cost"))


NO_SERVER_BUDGET = (
    "the API sets a budget only when a session is created: start one with `%%agent --new --max-usd <usd>`"
)


def budget_reached_notice(
    session_id: str | None, spent_usd: float | None, cap_usd: float | None, *, paused: bool = True,
    server_budget: bool = True,
) -> str:
    """The notice explaining a `budget_reached` stop (`paused`) or the client guard's stop, and how
    to continue (`server_budget=False`: the session has no budget on the server to raise)."""
    spent = f"${spent_usd:.2f}" if spent_usd is not None else "the budget"
    cap = f" of ${cap_usd:.2f}" if cap_usd is not None else ""
    sid = session_id or "<session>"
    state = "The session is paused, not lost." if paused else "Stopping here; the session is kept."
    if not server_budget:
        return (
            f"Budget reached: spent {spent}{cap} (this kernel's cap: the session has no budget on the "
            f"server). {state} To go on, run the next cell without --max-usd; for a cap the server "
            f"keeps, {NO_SERVER_BUDGET}."
        )
    return (
        f"Budget reached: spent {spent}{cap}. {state} To continue, raise the cap with "
        f"`%agent budget [NAME] <usd>` (or `%agent budget [NAME] none`), or from Python "
        f'`nb_agents.budget.raise_budget(client, "{sid}", <usd>)` (that is '
        f'`client.beta.sessions.update("{sid}", budget=...)`); the agent then resumes by itself.'
    )


@dataclass
class BudgetGuard:
    """Client-side cap: `on_event` returns True exactly once, when spend reaches `max_usd`."""

    max_usd: float
    spent_usd: float = 0.0
    tripped: bool = False
    server_budget: bool = True  # False: the session has no budget on the server (only this guard)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        cents(self.max_usd)  # validate early: one-line error for a bad cap

    def check_usd(self, spent_usd: float | None) -> bool:
        with self._lock:
            if spent_usd is not None:
                self.spent_usd = max(self.spent_usd, spent_usd)
            if self.tripped or self.spent_usd + 1e-9 < self.max_usd:
                return False
            self.tripped = True
            return True

    def on_event(self, event: Any) -> bool:
        """Feed every event; True means "interrupt now" (the cap was just crossed)."""
        if get_field(event, "type") != "session.usage":
            return False
        return self.check_usd(list_cost_usd(get_field(event, "usage")))

    def listener(
        self, client: Any, session_id: str, on_notice: Callable[[str, str], Any] | None = None
    ) -> Callable[[Any], None]:
        """An event listener (`session.listeners`) that interrupts the run once the cap is reached."""

        def listen(event: Any) -> None:
            if self.on_event(event):
                if on_notice is not None:
                    on_notice(
                        budget_reached_notice(session_id, self.spent_usd, self.max_usd, paused=False,
                                              server_budget=self.server_budget),
                        "warning",
                    )
                client.beta.sessions.events.send(session_id, events=[{"type": "user.interrupt"}])

        return listen


def raise_budget(client: Any, session_id: str, max_usd: Any) -> Any:
    """Raise (or, with `None`, remove) a session's budget; a paused session resumes by itself."""
    budget = None if max_usd is None else budget_param(max_usd)
    return client.beta.sessions.update(session_id, budget=budget)


@dataclass(frozen=True)
class CostReport:
    """Cumulative usage and cost of one session (`%agent cost`)."""

    session_id: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float | None = None
    budget_usd: float | None = None
    active_seconds: float | None = None

    def rows(self) -> list[tuple[str, str]]:
        rows = [
            ("input tokens", f"{self.input_tokens:,}"),
            ("output tokens", f"{self.output_tokens:,}"),
            ("cache read tokens", f"{self.cache_read_input_tokens:,}"),
            ("cache write tokens", f"{self.cache_creation_input_tokens:,}"),
            ("cost (list price)", "n/a" if self.cost_usd is None else f"${self.cost_usd:.2f}"),
        ]
        if self.budget_usd is not None:
            rows.append(("budget", f"${self.budget_usd:.2f}{self._share()}"))
        if self.active_seconds is not None:
            rows.append(("active time", f"{self.active_seconds:.1f} s"))
        return rows

    def _share(self) -> str:
        """Spend against the budget, e.g. " (84% spent)"."""
        if self.cost_usd is None or not self.budget_usd:
            return ""
        return f" ({self.cost_usd / self.budget_usd:.0%} spent)"

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        lines = [f"Session {self.session_id}"] + [f"  {k:<{width}}  {v}" for k, v in self.rows()]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self.rows()
        )
        head = f"<b>Session</b> <code>{html.escape(self.session_id)}</code>"
        return {"text/plain": str(self), "text/html": f"<div>{head}<table>{cells}</table></div>"}


def session_cost(client: Any, session_id: str) -> CostReport:
    """Read `sessions.retrieve(...).usage` into a `CostReport`."""
    session = client.beta.sessions.retrieve(session_id)
    usage = get_field(session, "usage")
    creation = get_field(usage, "cache_creation")
    budget = get_field(session, "budget")
    stats = get_field(session, "stats")
    cap = get_field(budget, "max_list_cost")
    return CostReport(
        session_id=session_id,
        input_tokens=get_field(usage, "input_tokens") or 0,
        output_tokens=get_field(usage, "output_tokens") or 0,
        cache_read_input_tokens=get_field(usage, "cache_read_input_tokens") or 0,
        cache_creation_input_tokens=(get_field(creation, "ephemeral_5m_input_tokens") or 0)
        + (get_field(creation, "ephemeral_1h_input_tokens") or 0),
        cost_usd=list_cost_usd(usage),
        budget_usd=list_cost_usd({"list_cost": cap}) if cap is not None else None,
        active_seconds=get_field(usage, "active_seconds") or get_field(stats, "active_seconds"),
    )
