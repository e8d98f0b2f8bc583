"""Listings for people: every environment and every agent (with its versions) as plain rows,
for `%agent envs` / `%agent agents` and for Python code (`list_environments(client)`,
`list_agents(client)`)."""

from __future__ import annotations

from typing import Any

from .client import api_call

__all__ = ["list_agents", "list_environments"]


def _networking(net: Any) -> str:
    if getattr(net, "type", None) != "limited":
        return "unrestricted"
    allowed = list(getattr(net, "allowed_hosts", None) or [])
    extras = [n for n, on in (("package managers", net.allow_package_managers), ("MCP", net.allow_mcp_servers)) if on]
    return "limited" + (f" (hosts: {', '.join(allowed)})" if allowed else "") + (
        f" + {', '.join(extras)}" if extras else ""
    )


def _packages(pkgs: Any) -> str:
    if pkgs is None:
        return "-"
    parts = [f"{m}:{','.join(getattr(pkgs, m))}" for m in ("pip", "apt", "npm", "cargo", "gem", "go")
             if getattr(pkgs, m, None)]
    return " ".join(parts) or "-"


def list_environments(client: Any) -> list[dict[str, Any]]:
    """Every environment (not archived): id, name, type, networking, packages, created_by."""
    rows = []
    for env in api_call(client.beta.environments.list, limit=100):
        config = env.config
        cloud = getattr(config, "type", None) == "cloud"
        rows.append({
            "id": env.id,
            "name": env.name,
            "type": getattr(config, "type", "?"),
            "networking": _networking(config.networking) if cloud else "-",
            "packages": _packages(config.packages) if cloud else "-",
            "created_by": (env.metadata or {}).get("created_by", ""),
        })
    return rows


def _skills(agent: Any) -> str:
    return ",".join(f"{s.skill_id}@{s.version}" for s in agent.skills or []) or "-"


def _subagents(agent: Any) -> str:
    multi = getattr(agent, "multiagent", None)
    roster = getattr(multi, "agents", None) or []
    return ",".join(f"{getattr(a, 'id', 'self')}@{getattr(a, 'version', '')}".rstrip("@") for a in roster) or "-"


def list_agents(client: Any) -> list[dict[str, Any]]:
    """Every agent (latest version) with its versions: id, name, version, versions, model, skills,
    mcp servers, subagents. Pin one with `--agent ID@VERSION`."""
    rows = []
    for agent in api_call(client.beta.agents.list, limit=100):
        versions = [v.version for v in api_call(client.beta.agents.versions.list, agent.id, limit=100)]
        rows.append({
            "id": agent.id,
            "name": agent.name,
            "version": agent.version,
            "versions": sorted(versions),
            "model": getattr(agent.model, "id", agent.model),
            "skills": _skills(agent),
            "mcp": ",".join(s.name for s in agent.mcp_servers or []) or "-",
            "subagents": _subagents(agent),
        })
    return rows
