"""One call from options to everything a session needs for tools, approvals and budgets.

`tool_setup(...)` validates the magic/API options (`--tools`, `--ask`, `--ask-all`, `--auto`,
`--kernel-tools`, `--max-usd`) and returns a `ToolSetup`: the keyword arguments for
`sessions.create`, the `ActionHandler` for `requires_action` idles (with the right prompter for a
foreground or background run), the client-side `BudgetGuard`, and `sync()` for a later cell
that changes the tools of an existing session.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ToolSetupError
from .budget import BudgetGuard, budget_param
from .custom import DEFAULT_TOOL_TIMEOUT, ToolConfig, build_tool_config
from .handler import DEFAULT_APPROVAL_TIMEOUT, KERNEL_LEDGER, ActionHandler

__all__ = ["SETTLE_TIMEOUT", "ToolSetup", "tool_setup"]

SETTLE_TIMEOUT = 10.0


@dataclass
class ToolSetup:
    config: ToolConfig
    handler: ActionHandler
    budget: dict[str, Any] | None = None
    guard: BudgetGuard | None = None

    def create_kwargs(self, agent_id: str, version: int | None = None) -> dict[str, Any]:
        """`sessions.create(**kwargs, environment_id=..., ...)`: `agent` (+ `budget`)."""
        kwargs: dict[str, Any] = {"agent": self.config.agent_param(agent_id, version)}
        if self.budget is not None:
            kwargs["budget"] = self.budget
        return kwargs

    def sync(self, client: Any, session_id: str, applied: str | None) -> str | None:
        """Bring an existing idle session's tools in line; returns the fingerprint now applied.

        `applied` is the fingerprint the session was created/updated with (None = the agent's own
        tools, i.e. nothing customised).
        """
        wanted = self.config.fingerprint if self.config.customised else None
        if wanted == (applied or None):
            return wanted
        _wait_until_settled(client, session_id)
        client.beta.sessions.update(session_id, agent=self.config.update_param())
        return wanted


def _wait_until_settled(client: Any, session_id: str, timeout: float = SETTLE_TIMEOUT) -> None:
    """The agent can only change while the session is not running, and `retrieve` may still say
    `running` for a moment after the stream delivered the idle: wait for it (bounded)."""
    deadline = time.monotonic() + timeout
    while client.beta.sessions.retrieve(session_id).status in ("running", "rescheduling"):
        if time.monotonic() >= deadline:
            raise ToolSetupError(
                "cannot change this session's tools while it is running; wait for it or `%agent interrupt`"
            )
        time.sleep(0.05)


def tool_setup(
    *,
    tools: str | Iterable[Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
    ask: str | Sequence[str] | None = None,
    ask_all: bool = False,
    auto: bool | str | Sequence[str] = False,
    kernel_tools: bool = False,
    defaults: str | Iterable[Any] | None = (),
    max_usd: Any = None,
    background: bool = False,
    prompter: Any = None,
    tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
    approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT,
) -> ToolSetup:
    """Validate the options (one-line errors) and build the session's tool machinery.

    Call it on the main thread: a background run's `ButtonPrompter` builds its widget here.
    """
    config = build_tool_config(
        tools, namespace, ask=ask, ask_all=ask_all, auto=auto, kernel_tools=kernel_tools, defaults=defaults
    )
    budget = budget_param(max_usd) if max_usd is not None else None
    guard = BudgetGuard(float(max_usd)) if max_usd is not None else None
    if prompter is None:
        from .approvals import ButtonPrompter, StdinPrompter

        prompter = ButtonPrompter() if background else StdinPrompter()
    # The kernel-wide ledger: a later cell's new handler still knows what earlier ones answered.
    handler = config.handler(
        prompter=prompter, tool_timeout=tool_timeout, approval_timeout=approval_timeout, ledger=KERNEL_LEDGER
    )
    return ToolSetup(config=config, handler=handler, budget=budget, guard=guard)
