"""`%agent envs` (environments: packages, networking) and `%agent agents` (agents with their
versions, skills, MCP servers, subagents), registered in magics.SUBCOMMANDS. Each returns a
`subcommands.Report` (text repr, rows as data). The same listings for Python code:
`list_environments(client)` / `list_agents(client)`.
"""

from __future__ import annotations

from typing import Any

from .magics import register_subcommand, sub_parser

__all__ = ["list_environments", "list_agents"]


def _client() -> Any:
    from ..api.client import make_client
    from ..config import resolve_options

    return make_client(resolve_options())


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
    from ..api.client import api_call

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
    from ..api.client import api_call

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


def _table(rows: list[dict[str, Any]], columns: list[str], empty: str) -> str:
    if not rows:
        return empty
    cells = [[str(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _envs(m: Any, argv: list[str]) -> Any:
    from .session_commands import Report

    sub_parser("envs").parse_args(argv)
    rows = list_environments(_client())
    return Report(_table(rows, ["id", "name", "networking", "packages"], "no environments yet"), rows)


def _agents(m: Any, argv: list[str]) -> Any:
    from .session_commands import Report

    sub_parser("agents").parse_args(argv)
    rows = [dict(r, versions=",".join(map(str, r["versions"]))) for r in list_agents(_client())]
    columns = ["id", "name", "version", "versions", "model", "skills", "mcp", "subagents"]
    return Report(_table(rows, columns, "no agents yet"), rows)


register_subcommand("envs", _envs, "%agent envs", "environments: networking and packages")
register_subcommand("agents", _agents, "%agent agents", "agents with their versions (--agent ID@VERSION pins one)")
