"""The rest of the Managed Agents surface as params: `Options` -> agent, environment, session and
outcome request bodies (skills, MCP servers, subagents, packages/networking, repositories, memory
stores, vaults, titles/metadata, `user.define_outcome`).

Pure functions (no API calls): client.py hashes what `agent_params` / `environment_config`
return, session.py adds `session_kwargs` to `sessions.create`, turn.py sends `turn_events`.
Every user mistake is a one-line `ConfigError` raised here, before anything is created.
Repository tokens are read from the named environment variable at session creation only:
they are never part of `Options`, the metadata, a cassette or the notebook.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import ConfigError, did_you_mean

__all__ = [
    "ANTHROPIC_SKILLS",
    "MAX_SKILLS",
    "Outcome",
    "split_list",
    "parse_packages",
    "environment_config",
    "parse_skills",
    "mcp_servers",
    "agent_params",
    "split_agent_ref",
    "cleared_fields",
    "with_mcp_toolsets",
    "repo_resources",
    "memory_resources",
    "session_kwargs",
    "session_title",
    "session_metadata",
    "turn_events",
    "surface_notice",
    "outcome_of",
]

ANTHROPIC_SKILLS = ("xlsx", "pdf", "docx", "pptx")
MAX_SKILLS = 20
MANAGERS = ("apt", "cargo", "gem", "go", "npm", "pip")
MAX_MEMORY_STORES = 8
MCP_TOOLSET_POLICY = "always_ask"  # the API's default for MCP tools, stated so the hash sees it


def split_list(name: str, value: str) -> list[str]:
    """A list option given as one string (flag, env var, keyword): `packages` splits on spaces
    (each word `manager:a,b`), everything else on commas."""
    if name == "packages":
        return [item for word in value.split() for item in _package_word(word)]
    return [part.strip() for part in value.split(",") if part.strip()]


def _package_word(word: str) -> list[str]:
    manager, sep, names = word.partition(":")
    if not sep:
        return [f"pip:{n}" for n in word.split(",") if n]
    return [f"{manager}:{n}" for n in names.split(",") if n]


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
    """The cloud environment config (`environments.create(config=...)`) for `opts`."""
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


@functools.cache
def _config_with_mcp() -> Any:
    """A `tools.ToolConfig` whose replacement tools list keeps the agent's MCP toolsets (made on
    first use: tools.py is not imported by the option layer)."""
    from .tools import ToolConfig

    @dataclass(frozen=True)
    class ToolConfigWithMcp(ToolConfig):
        mcp_toolsets: tuple[Any, ...] = ()

        def agent_tools(self) -> list[dict[str, Any]]:
            return super().agent_tools() + [dict(t) for t in self.mcp_toolsets]

    return ToolConfigWithMcp


def with_mcp_toolsets(config: Any, opts: Any) -> Any:
    """Custom tools / approvals replace the agent's whole `tools` list (at creation and on a later
    cell's `sessions.update`): add the MCP toolsets of `opts.mcp` to that list."""
    if not opts.mcp or not config.customised:
        return config
    cls = _config_with_mcp()
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "mcp_toolsets"}
    return cls(**values, mcp_toolsets=tuple(mcp_toolsets(mcp_servers(opts.mcp))))


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
    """For `agents.update`: the surface fields `params` leaves out, explicitly emptied (an update
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


# -- sessions ---------------------------------------------------------------------------------
def _repo_name(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return tail[:-4] if tail.endswith(".git") else tail


def _split_repo(entry: str) -> tuple[str, str | None]:
    """`URL@ref` -> (URL, ref); the `@` of `git@host:` or `user@host` URLs is not a ref."""
    head, sep, ref = entry.rpartition("@")
    if sep and head and "/" not in ref and ":" not in ref:
        return head, ref
    return entry, None


def repo_resources(opts: Any, environ: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """`github_repository` resources; the token comes from `$repo_token_env` now, at creation."""
    environ = dict(os.environ if environ is None else environ)
    token = None
    if opts.repo_token_env:
        token = environ.get(opts.repo_token_env)
        if not token:
            raise ConfigError(f"repo token: the environment variable {opts.repo_token_env} is not set or empty")
    out: list[dict[str, Any]] = []
    for entry in opts.repos:
        url, ref = _split_repo(entry)
        resource: dict[str, Any] = {"type": "github_repository", "url": url}
        if ref:
            is_sha = re.fullmatch(r"[0-9a-f]{7,40}", ref) is not None
            resource["checkout"] = {"type": "commit", "sha": ref} if is_sha else {"type": "branch", "name": ref}
        if token:
            resource["authorization_token"] = token
        out.append(resource)
    return out


def memory_resources(opts: Any) -> list[dict[str, Any]]:
    """`STORE_ID[:read_only|:read_write]` -> `memory_store` resources (at most 8)."""
    if len(opts.memory) > MAX_MEMORY_STORES:
        raise ConfigError(f"memory: at most {MAX_MEMORY_STORES} memory stores per session")
    out = []
    for entry in opts.memory:
        store_id, _, access = entry.partition(":")
        if not store_id.startswith("memstore_"):
            raise ConfigError(f"memory: {store_id!r} is not a memory store id (memstore_…)")
        if access not in ("", "read_only", "read_write"):
            raise ConfigError(f"memory: access {access!r} must be read_only or read_write")
        out.append({"type": "memory_store", "memory_store_id": store_id, **({"access": access} if access else {})})
    return out


def _notebook_name(namespace: Any = None) -> str | None:
    """The notebook's name: `__session__` (JupyterLab/VS Code put the path in the namespace), else
    `JPY_SESSION_NAME` (set by jupyter-server for the kernel)."""
    path = (namespace or {}).get("__session__") or os.environ.get("JPY_SESSION_NAME")
    return Path(str(path)).name if path else None


def _cell_number(shell: Any) -> int | None:
    count = getattr(shell, "execution_count", None)
    return count if isinstance(count, int) and count > 0 else None


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def session_title(opts: Any, session_name: str, shell: Any = None) -> str:
    """`--title`, else `<notebook> [cell N] · <session>` (what is known), else `nb_agents: <session>`."""
    if opts.title:
        return str(opts.title)
    shell = shell if shell is not None else _shell()
    notebook = _notebook_name(getattr(shell, "user_ns", None))
    cell = _cell_number(shell)
    where = " ".join(p for p in (notebook, f"cell {cell}" if cell else None) if p)
    return f"{where} · {session_name}" if where else f"nb_agents: {session_name}"


def session_metadata(session_name: str, shell: Any = None) -> dict[str, str]:
    """Metadata identifying nb_agents, the notebook and the cell (<= 16 pairs, values <= 512)."""
    from . import __version__

    shell = shell if shell is not None else _shell()
    meta = {"created_by": "nb_agents", "nb_agents_version": str(__version__), "nb_agents_session": session_name}
    notebook = _notebook_name(getattr(shell, "user_ns", None))
    if notebook:
        meta["notebook"] = notebook
    cell = _cell_number(shell)
    if cell:
        meta["cell"] = str(cell)
    return {k[:64]: v[:512] for k, v in meta.items()}


def session_kwargs(opts: Any, session_name: str, *, shell: Any = None) -> dict[str, Any]:
    """Everything `sessions.create` gets from `opts` besides agent and environment."""
    kwargs: dict[str, Any] = {
        "title": session_title(opts, session_name, shell),
        "metadata": session_metadata(session_name, shell),
    }
    resources = repo_resources(opts) + memory_resources(opts)
    if resources:
        kwargs["resources"] = resources
    if opts.vaults:
        bad = [v for v in opts.vaults if not v.startswith("vlt_")]
        if bad:
            raise ConfigError(f"vault: {bad[0]!r} is not a vault id (vlt_…)")
        kwargs["vault_ids"] = list(opts.vaults)
    return kwargs


def surface_notice(opts: Any, new_session: bool) -> str | None:
    """One line for the view: what a new session was set up with, and this turn's outcome."""
    parts: list[str] = []
    if new_session:
        if opts.skills:
            parts.append("skills " + ", ".join(opts.skills))
        if opts.mcp:
            parts.append("MCP " + ", ".join(e.partition("=")[0] for e in opts.mcp) + " (tools ask first)")
        if opts.subagents:
            parts.append("subagents " + ", ".join(opts.subagents))
        parts += [f"repo {_repo_name(_split_repo(r)[0])} -> /workspace/{_repo_name(_split_repo(r)[0])}"
                  for r in opts.repos]
        parts += [f"memory {m}" for m in opts.memory]
        if opts.network == "limited":
            parts.append("network limited" + (f" ({', '.join(opts.allow_hosts)})" if opts.allow_hosts else ""))
    if opts.outcome:
        parts.append(f"outcome: {opts.outcome.splitlines()[0][:80]} (up to {opts.max_iterations} evaluations)")
    return " · ".join(parts) or None


# -- outcomes ---------------------------------------------------------------------------------
def _rubric(value: str) -> dict[str, Any]:
    if not value:
        raise ConfigError("--outcome needs --rubric TEXT or a rubric file")
    path = Path(value).expanduser()
    if len(value) < 1024 and "\n" not in value and path.is_file():
        value = path.read_text(encoding="utf-8")
    if len(value) > 262_144:
        raise ConfigError("rubric: at most 262,144 characters")
    return {"type": "text", "content": value}


def turn_events(text: str, opts: Any) -> list[dict[str, Any]]:
    """What a turn sends: a `user.message`, or (with `outcome`) one `user.define_outcome` whose
    description is the outcome followed by the cell's text (the agent starts on it)."""
    if not opts.outcome:
        return [{"type": "user.message", "content": [{"type": "text", "text": text}]}]
    if not 1 <= opts.max_iterations <= 20:
        raise ConfigError(f"max_iterations: must be 1 to 20 (got {opts.max_iterations})")
    description = opts.outcome if not text.strip() else f"{opts.outcome}\n\n{text}"
    return [{"type": "user.define_outcome", "description": description, "rubric": _rubric(opts.rubric),
             "max_iterations": opts.max_iterations}]


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
    from .transcript_items import OutcomeItem

    items = [i for i in getattr(transcript, "items", ()) if isinstance(i, OutcomeItem)]
    if not items:
        return None
    o = items[-1]
    return Outcome(o.outcome_id, o.description, o.result, o.iterations, o.explanation, o.max_iterations)
