"""Which permission a built-in tool call gets, from the agent's toolset configuration.

The agent snapshot's `agent_toolset_20260401` entry has a `default_config` and per-tool
`configs` (`enabled`, `permission_policy`). `always_allow` runs, `always_ask` pauses for a
`user.tool_confirmation`, a disabled (or absent) tool is denied without an evaluation.
The hosted `auto` policy is a model judgement; the emulator's stand-in is a fixed rule
(documented in docs/emulator.md): obviously destructive commands are denied, commands
that reach the network or install packages ask, everything else is allowed.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["evaluate_permission", "policy_for"]

_HIGH_RISK = re.compile(r"\brm\s+-[a-zA-Z]*r[a-zA-Z]*f?\s+/(\s|$)|\bsudo\b|\bmkfs\b|\bdd\s+if=|:\(\)\s*\{")
_INDETERMINATE = re.compile(r"\b(curl|wget|ssh|scp|pip3?\s+install|apt(-get)?\s+install|npm\s+install)\b")


def policy_for(agent: dict[str, Any], name: str) -> tuple[bool, str]:
    """(enabled, policy type) for a built-in tool name."""
    for toolset in agent.get("tools") or []:
        if toolset.get("type") != "agent_toolset_20260401":
            continue
        default = toolset.get("default_config") or {}
        enabled = default.get("enabled", True)
        policy = (default.get("permission_policy") or {}).get("type", "always_allow")
        for config in toolset.get("configs") or []:
            if config.get("name") == name:
                enabled = config.get("enabled", enabled)
                policy = (config.get("permission_policy") or {}).get("type", policy)
        return bool(enabled), policy
    return False, "always_allow"


def _auto(name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    command = str(tool_input.get("command") or "") if name == "bash" else ""
    if _HIGH_RISK.search(command):
        return {"type": "deny", "reason_code": "high_risk"}
    if _INDETERMINATE.search(command) or name in ("web_fetch", "web_search"):
        return {"type": "ask", "reason_code": "indeterminate"}
    return {"type": "allow"}


def evaluate_permission(
    agent: dict[str, Any], name: str, tool_input: dict[str, Any], override: str | None = None
) -> tuple[str, dict[str, Any] | None]:
    """(`evaluated_permission`, `evaluation` or None) for one call; `override` forces a policy."""
    enabled, policy = policy_for(agent, name)
    if override:
        enabled, policy = override != "disabled", override
    if not enabled:
        return "deny", None
    if policy == "always_ask":
        return "ask", {"type": "always_ask"}
    if policy == "auto":
        verdict = _auto(name, tool_input)
        return verdict["type"], {"type": "auto", "evaluated_permission": verdict}
    return "allow", {"type": "always_allow"}
