"""Turning validated create/update params into the fully resolved objects the service returns.

The hosted API never echoes params back: `model` becomes `{id, effort, speed, ...}`, every
toolset gets a full `default_config` and one `configs` entry per tool, skills get a version,
environment configs get their defaults. These pure functions do that resolution.
"""

from __future__ import annotations

import copy
from typing import Any

from .common import ApiError

__all__ = [
    "AGENT_TOOLS",
    "resolve_model",
    "resolve_tools",
    "resolve_skills",
    "resolve_multiagent",
    "resolve_execution_identity",
    "resolve_env_config",
    "check_metadata",
    "patch_metadata",
]

AGENT_TOOLS = ("bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search")
_EXTRA_TOOL_FIELDS = {
    "web_fetch": ("allowed_domains", "blocked_domains", "max_content_tokens", "url_sources"),
    "web_search": ("allowed_domains", "blocked_domains", "user_location"),
}
_ANTHROPIC_SKILL_VERSION = "20251013"
MAX_TOOLS = 256
MAX_MCP_SERVERS = 20


def resolve_model(model: str | dict[str, Any]) -> dict[str, Any]:
    """`"claude-x"` or `{id, effort?, speed?, inference_geo?}` -> the wire model config."""
    if isinstance(model, str):
        model = {"id": model}
    effort = model.get("effort")
    resolved: dict[str, Any] = {"id": model["id"]}
    if effort is not None:
        resolved["effort"] = {"type": effort} if isinstance(effort, str) else dict(effort)
    resolved["speed"] = model.get("speed") or "standard"
    if model.get("inference_geo") is not None:
        resolved["inference_geo"] = model["inference_geo"]
    return resolved


def _policy(value: dict[str, Any] | None, default: str) -> dict[str, Any]:
    return dict(value) if value else {"type": default}


def _agent_toolset(tool: dict[str, Any]) -> dict[str, Any]:
    default = tool.get("default_config") or {}
    enabled = default.get("enabled")
    base: dict[str, Any] = {
        "enabled": True if enabled is None else enabled,
        "permission_policy": _policy(default.get("permission_policy"), "always_allow"),
    }
    overrides = {c["name"]: c for c in tool.get("configs") or []}
    configs = []
    for name in AGENT_TOOLS:
        given = overrides.get(name, {})
        entry: dict[str, Any] = {
            "type": name,
            "name": name,
            "enabled": base["enabled"] if given.get("enabled") is None else given["enabled"],
            "permission_policy": dict(given.get("permission_policy") or base["permission_policy"]),
        }
        for key in _EXTRA_TOOL_FIELDS.get(name, ()):
            if given.get(key) is not None:
                if key.endswith("_domains") and not given[key]:
                    raise ApiError(400, f"tools: {name}.{key} must not be empty")
                entry[key] = copy.deepcopy(given[key])
        configs.append(entry)
    return {"type": "agent_toolset_20260401", "default_config": base, "configs": configs}


def _mcp_toolset(tool: dict[str, Any]) -> dict[str, Any]:
    default = tool.get("default_config") or {}
    enabled = default.get("enabled")
    base: dict[str, Any] = {
        "enabled": True if enabled is None else enabled,
        "permission_policy": _policy(default.get("permission_policy"), "always_ask"),
    }
    configs = [
        {
            "name": c["name"],
            "enabled": base["enabled"] if c.get("enabled") is None else c["enabled"],
            "permission_policy": dict(c.get("permission_policy") or base["permission_policy"]),
        }
        for c in tool.get("configs") or []
    ]
    return {
        "type": "mcp_toolset",
        "mcp_server_name": tool["mcp_server_name"],
        "default_config": base,
        "configs": configs,
    }


def resolve_tools(
    tools: list[dict[str, Any]] | None, mcp_servers: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """Resolve the tools list and check it against the MCP servers, as the service does."""
    tools = tools or []
    servers = mcp_servers or []
    names = [s["name"] for s in servers]
    if len(servers) > MAX_MCP_SERVERS:
        raise ApiError(400, f"mcp_servers: at most {MAX_MCP_SERVERS} servers are allowed")
    if len(set(names)) != len(names):
        raise ApiError(400, "mcp_servers: server names must be unique")
    resolved: list[dict[str, Any]] = []
    custom_names: set[str] = set()
    for i, tool in enumerate(tools):
        if tool["type"] == "agent_toolset_20260401":
            resolved.append(_agent_toolset(tool))
        elif tool["type"] == "mcp_toolset":
            if tool["mcp_server_name"] not in names:
                raise ApiError(
                    400, f"tools.{i}: mcp_server_name {tool['mcp_server_name']!r} is not in mcp_servers"
                )
            resolved.append(_mcp_toolset(tool))
        else:
            _check_custom(tool, i, custom_names)
            resolved.append(_custom(tool))
    referenced = {t["mcp_server_name"] for t in resolved if t["type"] == "mcp_toolset"}
    for name in names:
        if name not in referenced:
            raise ApiError(400, f"mcp_servers: server {name!r} is not referenced by any mcp_toolset in tools")
    count = sum(len(t["configs"]) if t["type"] == "agent_toolset_20260401" else 1 for t in resolved)
    if count > MAX_TOOLS:
        raise ApiError(400, f"tools: at most {MAX_TOOLS} tools are allowed across all toolsets")
    return resolved


def _check_custom(tool: dict[str, Any], i: int, seen: set[str]) -> None:
    name = tool["name"]
    if not (1 <= len(name) <= 128) or not all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        raise ApiError(400, f"tools.{i}.name: must be 1-128 characters of [A-Za-z0-9_-]")
    if name in seen:
        raise ApiError(400, f"tools.{i}.name: duplicate custom tool name {name!r}")
    seen.add(name)


def _custom(tool: dict[str, Any]) -> dict[str, Any]:
    # A JSON Schema object is kept whole ($defs, additionalProperties...): the SDK allows extra
    # keys in input_schema; only null properties/required are dropped, like other null fields.
    schema = {
        k: copy.deepcopy(v)
        for k, v in tool["input_schema"].items()
        if v is not None or k not in ("properties", "required")
    }
    return {
        "type": "custom",
        "name": tool["name"],
        "description": tool["description"],
        "input_schema": schema,
    }


def resolve_skills(skills: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    skills = skills or []
    if len(skills) > 20:
        raise ApiError(400, "skills: at most 20 skills are allowed")
    out = []
    for s in skills:
        default = _ANTHROPIC_SKILL_VERSION if s["type"] == "anthropic" else "1"
        out.append({"type": s["type"], "skill_id": s["skill_id"], "version": s.get("version") or default})
    return out


def resolve_multiagent(multiagent: dict[str, Any] | None, self_ref: dict[str, Any]) -> dict[str, Any] | None:
    """Agent entries (coordinator rosters, `predefined_agents`) are resolved to `{type: agent, id,
    version}`; a `multiagent_20261001` gets its documented defaults (advisor disabled; subagents
    and workflows enabled, with inline agents enabled and no predefined agents)."""
    if multiagent is None:
        return None
    multiagent = copy.deepcopy(multiagent)
    if multiagent.get("type") == "coordinator":
        if not 1 <= len(multiagent.get("agents", [])) <= 20:
            raise ApiError(400, "multiagent.agents: between 1 and 20 agents are required")
        multiagent["agents"] = [_agent_entry(entry, self_ref) for entry in multiagent["agents"]]
    elif multiagent.get("type") == "multiagent_20261001":
        multiagent["advisor"] = multiagent.get("advisor") or {"type": "disabled"}
        for key in ("subagents", "workflows"):
            part = multiagent.get(key) or {"type": "enabled"}
            if part["type"] == "enabled":
                part = {
                    "type": "enabled",
                    "inline_agents": part.get("inline_agents") or {"type": "enabled"},
                    "predefined_agents": [_agent_entry(e, self_ref) for e in part.get("predefined_agents") or []],
                }
            multiagent[key] = part
    return multiagent


def _agent_entry(entry: Any, self_ref: dict[str, Any]) -> Any:
    if isinstance(entry, str):
        entry = {"type": "agent", "id": entry}
    if entry.get("type") == "self":
        entry = dict(self_ref)
    if entry.get("type") == "agent":
        entry = {"type": "agent", "id": entry["id"], "version": entry.get("version") or 1}
    return entry


def resolve_execution_identity(identity: dict[str, Any] | None) -> dict[str, Any]:
    return dict(identity) if identity else {"type": "service_account"}


def resolve_env_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """Fill the cloud config defaults; refuse package installs that limited networking would block."""
    if config is None or config.get("type") == "cloud":
        config = config or {"type": "cloud"}
        net = config.get("networking") or {"type": "unrestricted"}
        if net["type"] == "limited":
            net = {
                "type": "limited",
                "allowed_hosts": list(net.get("allowed_hosts") or []),
                "allow_mcp_servers": bool(net.get("allow_mcp_servers")),
                "allow_package_managers": bool(net.get("allow_package_managers")),
            }
        given = config.get("packages") or {}
        packages = {
            "type": "packages",
            **{k: list(given.get(k) or []) for k in ("apt", "cargo", "gem", "go", "npm", "pip")},
        }
        has_packages = any(packages[k] for k in ("apt", "cargo", "gem", "go", "npm", "pip"))
        if net["type"] == "limited" and has_packages and not net["allow_package_managers"]:
            raise ApiError(
                400,
                "config.packages: installing packages with limited networking requires "
                "networking.allow_package_managers to be true",
            )
        return {"type": "cloud", "networking": dict(net), "packages": packages}
    return {"type": "self_hosted"}


def check_metadata(metadata: dict[str, Any], field: str = "metadata") -> None:
    if len(metadata) > 16:
        raise ApiError(400, f"{field}: at most 16 key-value pairs are allowed", error_code="invalid_metadata")
    for key, value in metadata.items():
        if len(key) > 64:
            raise ApiError(
                400,
                f"{field}: key {key[:20]!r}... is longer than 64 characters",
                error_code="invalid_metadata",
            )
        if value is not None and len(value) > 512:
            raise ApiError(
                400, f"{field}.{key}: value is longer than 512 characters", error_code="invalid_metadata"
            )


def patch_metadata(
    current: dict[str, str], patch: dict[str, str | None] | None, field: str = "metadata"
) -> dict[str, str]:
    """Apply a metadata patch (null deletes a key) and check the limits of the result."""
    if patch is None:
        return dict(current)
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    check_metadata(merged, field)
    return merged
