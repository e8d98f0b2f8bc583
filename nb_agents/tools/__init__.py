"""Custom tools in the kernel, approvals of built-in tools, the `requires_action` handler and budgets.
"""

from .approvals import ButtonPrompter, StdinPrompter
from .budget import (
    NO_SERVER_BUDGET,
    BudgetGuard,
    CostReport,
    budget_param,
    cents,
    list_cost_usd,
    raise_budget,
    session_cost,
)
from .custom import KernelTool, as_tool, resolve_tools, tool
from .handler import ActionContext, ActionHandler, requires_action_hook
from .setup import ToolConfig, build_tool_config, tool_setup

__all__ = [
    "ActionContext",
    "ActionHandler",
    "BudgetGuard",
    "ButtonPrompter",
    "CostReport",
    "KernelTool",
    "NO_SERVER_BUDGET",
    "StdinPrompter",
    "ToolConfig",
    "as_tool",
    "budget_param",
    "build_tool_config",
    "cents",
    "list_cost_usd",
    "raise_budget",
    "requires_action_hook",
    "resolve_tools",
    "session_cost",
    "tool",
    "tool_setup",
]
