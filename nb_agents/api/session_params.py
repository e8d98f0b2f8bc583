"""Session-creation and per-turn params from `Options`: repositories, memory stores, vaults,
titles and metadata (`session_kwargs`), the view's set-up line (`setup_notice`), and what a turn
sends (`turn_events`: a `user.message` or a `user.define_outcome`).

Memory stores and vaults may be named in a cell: with a client, `session_kwargs` finds them (and
creates a memory store whose name is new) through memory_stores.py and vaults.py. Agents and
environments are in `agent_params.py`. Repository
tokens are read from the named environment variable here, at session creation only: they are
never part of `Options`, the metadata, a cassette or the notebook.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import ConfigError
from .memory_stores import MAX_MEMORY_STORES, ensure_memory_store, parse_memory_entry
from .vaults import vault_ids

__all__ = [
    "repo_resources",
    "memory_resources",
    "session_kwargs",
    "session_title",
    "session_metadata",
    "setup_notice",
    "turn_events",
]

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
    if opts.repo_token_env and opts.repos:
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


def memory_resources(opts: Any, client: Any = None) -> list[dict[str, Any]]:
    """`NAME|STORE_ID[:read_only|:read_write]` -> `memory_store` resources (at most 8). With a
    `client`, names are found or created (memory_stores.py); without one only ids are taken.
    Ids are sent as they are (no look-up): the server answers for them."""
    if len(opts.memory) > MAX_MEMORY_STORES:
        raise ConfigError(f"memory: at most {MAX_MEMORY_STORES} memory stores per session")
    out: list[dict[str, Any]] = []
    for entry in opts.memory:
        ref, access = parse_memory_entry(entry)
        if not ref.startswith("memstore_"):  # an id goes as is: the server answers for it
            if client is None:
                raise ConfigError(f"memory: {ref!r} is not a memory store id (memstore_…)")
            ref = ensure_memory_store(client, ref)
        if any(r["memory_store_id"] == ref for r in out):
            raise ConfigError(f"memory: {entry!r} attaches a memory store twice")
        out.append({"type": "memory_store", "memory_store_id": ref, **({"access": access} if access else {})})
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
    shell = shell if shell is not None else _shell()
    meta = {"created_by": "nb_agents", "nb_agents_version": str(__version__), "nb_agents_session": session_name}
    notebook = _notebook_name(getattr(shell, "user_ns", None))
    if notebook:
        meta["notebook"] = notebook
    cell = _cell_number(shell)
    if cell:
        meta["cell"] = str(cell)
    return {k[:64]: v[:512] for k, v in meta.items()}


def session_kwargs(opts: Any, session_name: str, *, shell: Any = None, client: Any = None) -> dict[str, Any]:
    """Everything `sessions.create` gets from `opts` besides agent and environment. With a
    `client`, memory stores and vaults may be named (found, or for memory stores created)."""
    kwargs: dict[str, Any] = {
        "title": session_title(opts, session_name, shell),
        "metadata": session_metadata(session_name, shell),
    }
    resources = repo_resources(opts) + memory_resources(opts, client)
    if resources:
        kwargs["resources"] = resources
    if opts.vaults:
        bad = [v for v in opts.vaults if not v.startswith("vlt_")]
        if bad and client is None:
            raise ConfigError(f"vault: {bad[0]!r} is not a vault id (vlt_…)")
        kwargs["vault_ids"] = vault_ids(client, opts.vaults) if bad else list(opts.vaults)
    return kwargs


def setup_notice(opts: Any, new_session: bool) -> str | None:
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
