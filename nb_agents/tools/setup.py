"""One call from options to everything a session needs for tools, approvals and budgets.

`ToolConfig` turns custom tools plus approval flags into the `tools` list the agent runs with;
`tool_setup(...)` validates the magic/API options (`--tools`, `--ask`, `--ask-all`, `--auto`,
`--kernel-tools`, `--max-usd`) and returns a `ToolSetup`: the keyword arguments for
`sessions.create`, the `ActionHandler` for `requires_action` idles (with the right prompter for a
foreground or background run), the client-side `BudgetGuard`, and `sync()` for a later cell
that changes the tools of an existing session.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ToolSetupError
from .approvals import ButtonPrompter, StdinPrompter, parse_tool_names, toolset_param
from .budget import BudgetGuard, budget_param
from .custom import DEFAULT_TOOL_TIMEOUT, KernelTool, resolve_tools
from .handler import DEFAULT_APPROVAL_TIMEOUT, KERNEL_LEDGER, ActionHandler
from .kernel import make_kernel_tools

__all__ = ["SETTLE_TIMEOUT", "ToolConfig", "ToolSetup", "build_tool_config", "tool_setup"]

SETTLE_TIMEOUT = 10.0


@dataclass(frozen=True)
class ToolConfig:
    """Custom tools + approval policy: everything that decides the agent's `tools` list."""

    tools: tuple[KernelTool, ...] = ()
    ask: tuple[str, ...] = ()
    ask_all: bool = False
    auto: bool | tuple[str, ...] = False
    # Custom tools replace the agent's whole `tools` list: the agent's MCP toolsets ride along here
    # (api.agent_params.with_mcp_toolsets fills it; it does not make a config `customised` by itself).
    mcp_toolsets: tuple[Mapping[str, Any], ...] = ()

    @property
    def customised(self) -> bool:
        return bool(self.tools or self.ask or self.ask_all or self.auto)

    def agent_tools(self) -> list[dict[str, Any]]:
        """The full replacement `tools` list: the built-in toolset, one entry per custom tool, then
        the MCP toolsets."""
        toolset = toolset_param(ask=self.ask, ask_all=self.ask_all, auto=self.auto)
        return [toolset] + [t.definition() for t in self.tools] + [dict(t) for t in self.mcp_toolsets]

    def agent_param(self, agent_id: str, version: int | None = None) -> str | dict[str, Any]:
        """`sessions.create(agent=...)`: the bare id, or `agent_with_overrides` carrying the tools."""
        if not self.customised:
            return agent_id if version is None else {"type": "agent", "id": agent_id, "version": version}
        param: dict[str, Any] = {"type": "agent_with_overrides", "id": agent_id, "tools": self.agent_tools()}
        if version is not None:
            param["version"] = version
        return param

    def update_param(self) -> dict[str, Any]:
        """`sessions.update(session_id, agent=...)` when a later cell changes the tools."""
        return {"tools": self.agent_tools()}

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(self.agent_tools(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def handler(self, **kwargs: Any) -> ActionHandler:
        """An `ActionHandler` answering these tools (kwargs: prompter, tool_timeout)."""
        return ActionHandler(self.tools, **kwargs)


def build_tool_config(
    tools: str | Iterable[Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
    *,
    ask: str | Sequence[str] | None = None,
    ask_all: bool = False,
    auto: bool | str | Sequence[str] = False,
    kernel_tools: bool = False,
    defaults: str | Iterable[Any] | None = (),
) -> ToolConfig:
    """Validate magic/API options into a `ToolConfig` (one-line errors for every mistake)."""
    resolved = resolve_tools(tools, namespace, defaults=defaults)
    if kernel_tools:
        taken = {t.name for t in resolved}
        resolved += [t for t in make_kernel_tools(namespace or {}) if t.name not in taken]
    auto_value: bool | tuple[str, ...]
    if isinstance(auto, bool):
        auto_value = auto
    elif isinstance(auto, str) and auto.strip().lower() in {"all", "true", "*"}:
        auto_value = True
    else:
        auto_value = parse_tool_names(auto, flag="--auto")
    return ToolConfig(
        tools=tuple(resolved),
        ask=parse_tool_names(ask, flag="--ask"),
        ask_all=bool(ask_all),
        auto=auto_value,
    )


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
    max_usd: Any = None,
    background: bool = False,
    prompter: Any = None,
    tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
    approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT,
    **tool_options: Any,
) -> ToolSetup:
    """Validate the options (one-line errors) and build the session's tool machinery.

    `tool_options` are `build_tool_config`'s keywords (tools, namespace, ask, ask_all, auto,
    kernel_tools, defaults). Call it on the main thread: a background run's `ButtonPrompter` builds
    its widget here.
    """
    config = build_tool_config(**tool_options)
    budget = budget_param(max_usd) if max_usd is not None else None
    guard = BudgetGuard(float(max_usd)) if max_usd is not None else None
    if prompter is None:
        prompter = ButtonPrompter() if background else StdinPrompter()
    # The kernel-wide ledger: a later cell's new handler still knows what earlier ones answered.
    handler = config.handler(
        prompter=prompter, tool_timeout=tool_timeout, approval_timeout=approval_timeout, ledger=KERNEL_LEDGER
    )
    return ToolSetup(config=config, handler=handler, budget=budget, guard=guard)
