"""Agent capabilities as request params: `Options` -> agent and environment request
bodies (skills, MCP servers + toolsets, subagents, packages/networking, version pins). Session and
turn params (repositories, memory stores, vaults, titles/metadata, `user.define_outcome`) live in
`session_params.py`.

Pure functions (no API calls): `client.py` hashes what `agent_params` / `environment_config`
return. Every user mistake is a one-line `ConfigError` raised here, before anything is created.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import urlparse

from ..errors import ConfigError, did_you_mean

__all__ = [
    "ANTHROPIC_SKILLS",
    "MAX_SKILLS",
    "parse_packages",
    "environment_config",
    "parse_skills",
    "mcp_servers",
    "agent_params",
    "split_agent_ref",
    "cleared_fields",
    "with_mcp_toolsets",
]

ANTHROPIC_SKILLS = ("xlsx", "pdf", "docx", "pptx")
MAX_SKILLS = 20
MANAGERS = ("apt", "cargo", "gem", "go", "npm", "pip")
MCP_TOOLSET_POLICY = "always_ask"  # the API's default for MCP tools, stated so the hash sees it


# -- environments -----------------------------------------------------------------------------
def parse_packages(entries: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """`("pandas", "pip:scikit-learn", "apt:ffmpeg")` -> `{"pip": [...], "apt": [...]}` (bare = pip)."""
    out: dict[str, list[str]] = {}
    for entry in entries:
        manager, sep, name = entry.partition(":")
        if not sep:
            manager, name = "pip", entry
        if manager not in MANAGERS:
            raise ConfigError(f"packages: unknown package manager {manager!r}{did_you_mean(manager, MANAGERS)} "
                              f"(use {', '.join(MANAGERS)})")
        if not name.strip():
            raise ConfigError(f"packages: {entry!r} names no package")
        out.setdefault(manager, []).append(name.strip())
    return out


def environment_config(opts: Any) -> dict[str, Any]:
    """The environment config (`environments.create(config=...)`) for `opts`: a self-hosted one in
    local mode (the kernel is its worker: docs/local.md), else the cloud container."""
    if getattr(opts, "local", False):
        return {"type": "self_hosted"}
    packages = parse_packages(opts.packages)
    if opts.network not in ("unrestricted", "limited"):
        raise ConfigError(f"network: {opts.network!r} is not 'unrestricted' or 'limited'")
    limited_only = opts.allow_hosts or opts.allow_package_managers or opts.allow_mcp_servers
    if opts.network == "unrestricted" and limited_only:
        raise ConfigError("--allow-host / --allow-package-managers / --allow-mcp-servers need --network limited")
    if opts.network == "limited":
        if packages and not opts.allow_package_managers:
            raise ConfigError(
                "packages need the package managers: add --allow-package-managers with --network limited"
            )
        networking: dict[str, Any] = {
            "type": "limited",
            "allowed_hosts": list(opts.allow_hosts),
            "allow_package_managers": bool(opts.allow_package_managers),
            "allow_mcp_servers": bool(opts.allow_mcp_servers),
        }
    else:
        networking = {"type": "unrestricted"}
    return {"type": "cloud", "networking": networking, "packages": {"type": "packages", **packages}}


# -- agents -----------------------------------------------------------------------------------
def parse_skills(entries: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """`xlsx` (Anthropic), `skill_01abc` / `skill_01abc@3` (custom, pinned): skill params."""
    if len(entries) > MAX_SKILLS:
        raise ConfigError(f"skills: at most {MAX_SKILLS} skills per agent (got {len(entries)})")
    out: list[dict[str, Any]] = []
    for entry in entries:
        skill_id, _, version = entry.partition("@")
        if skill_id in ANTHROPIC_SKILLS:
            param: dict[str, Any] = {"type": "anthropic", "skill_id": skill_id}
        elif re.fullmatch(r"skill_[A-Za-z0-9_-]+", skill_id):
            param = {"type": "custom", "skill_id": skill_id}
        else:
            raise ConfigError(
                f"skills: {skill_id!r} is neither an Anthropic skill ({', '.join(ANTHROPIC_SKILLS)})"
                f"{did_you_mean(skill_id, ANTHROPIC_SKILLS)} nor a custom skill id (skill_…[@version])"
            )
        if version:
            if not re.fullmatch(r"[A-Za-z0-9._-]+", version):
                raise ConfigError(f"skills: bad version {version!r} in {entry!r}")
            param["version"] = version
        if any(p["skill_id"] == skill_id for p in out):
            raise ConfigError(f"skills: {skill_id!r} is listed twice")
        out.append(param)
    return out


def mcp_servers(entries: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    """`NAME=URL` entries -> `[{type: url, name, url}]` (names unique, URLs http(s))."""
    servers: list[dict[str, str]] = []
    for entry in entries:
        name, sep, url = entry.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or not name or not url:
            raise ConfigError(f"mcp: {entry!r} is not NAME=URL (e.g. docs=https://mcp.example.com/sse)")
        if urlparse(url).scheme not in ("http", "https"):
            raise ConfigError(f"mcp: the URL of {name!r} must start with https:// (got {url!r})")
        if any(s["name"] == name for s in servers):
            raise ConfigError(f"mcp: server name {name!r} is used twice")
        servers.append({"type": "url", "name": name, "url": url})
    if len(servers) > 20:
        raise ConfigError("mcp: at most 20 MCP servers per agent")
    return servers


def mcp_toolsets(servers: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [
        {"type": "mcp_toolset", "mcp_server_name": s["name"],
         "default_config": {"permission_policy": {"type": MCP_TOOLSET_POLICY}}}
        for s in servers
    ]


def with_mcp_toolsets(config: Any, opts: Any) -> Any:
    """Custom tools / approvals replace the agent's whole `tools` list (at creation and on a later
    cell's `sessions.update`): add the MCP toolsets of `opts.mcp` to that list."""
    if not opts.mcp or not config.customised:
        return config
    return dataclasses.replace(config, mcp_toolsets=tuple(mcp_toolsets(mcp_servers(opts.mcp))))


def _roster(entries: tuple[str, ...] | list[str]) -> list[Any]:
    if not 1 <= len(entries) <= 20:
        raise ConfigError("subagents: between 1 and 20 agent ids")
    roster: list[Any] = []
    for entry in entries:
        if entry == "self":
            roster.append({"type": "self"})
            continue
        agent_id, version = split_agent_ref(entry)
        roster.append(agent_id if version is None else {"type": "agent", "id": agent_id, "version": version})
    return roster


def agent_params(opts: Any, base: dict[str, Any]) -> dict[str, Any]:
    """`base` (model, system, tools) plus skills, MCP servers + toolsets and a coordinator roster."""
    params = dict(base)
    if opts.skills:
        params["skills"] = parse_skills(opts.skills)
    servers = mcp_servers(opts.mcp)
    if servers:
        params["mcp_servers"] = servers
        params["tools"] = list(params.get("tools") or []) + mcp_toolsets(servers)
    if opts.subagents:
        params["multiagent"] = {"type": "coordinator", "agents": _roster(opts.subagents)}
    return params


def cleared_fields(params: dict[str, Any]) -> dict[str, Any]:
    """For `agents.update`: the capability fields `params` leaves out, explicitly emptied (an update
    keeps omitted fields, so dropping `--mcp` would otherwise leave the servers behind)."""
    empty: dict[str, Any] = {"skills": [], "mcp_servers": [], "multiagent": None}
    return {k: v for k, v in empty.items() if k not in params}


def split_agent_ref(ref: str) -> tuple[str, int | None]:
    """`agent_01x` -> (id, None); `agent_01x@3` -> (id, 3)."""
    agent_id, sep, version = ref.partition("@")
    if not sep:
        return agent_id, None
    if not version.isdigit() or int(version) < 1:
        raise ConfigError(f"agent: {ref!r}: the version after @ must be a whole number >= 1")
    return agent_id, int(version)
