"""The emulator's side of repositories, memory stores and MCP servers (an offline machine).

- `github_repository` resources: a local path or `file://` URL is cloned (a git repository, with
  its branch/commit checked out) or copied into `/workspace/<repo-name>`; anything else cannot be
  reached offline and gets the API's `repository_*_error` session.error (`retrying`; the session
  continues without the repository).
- `memory_store` resources: the store's memories as files at `/mnt/memory/<name>`, kept in step
  with the store by `memory.MemoryBank` (read-only: a copy).
- MCP servers: hosts under `.test` (RFC 6761) are "reachable" and answered by scenario `mcp`
  steps; every other URL (or any server when limited networking does not allow MCP) gets an
  `mcp_connection_failed_error`. MCP tool calls (`agent.mcp_tool_use` / `agent.mcp_tool_result`)
  follow the toolset's permission policy (default `always_ask` -> `user.tool_confirmation`).
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .common import ApiError, new_id, now_iso
from .memory import slug

__all__ = ["EXTRA_RESOURCES", "check_extra_resources", "check_roster", "attach_extra_resources", "mcp_tool_use",
           "mcp_execute", "mcp_synthetic", "mcp_policy"]

EXTRA_RESOURCES = ("github_repository", "memory_store")
MAX_MEMORY_STORES = 8
_GIT_TIMEOUT = 30.0


def check_extra_resources(resources: list[dict[str, Any]]) -> None:
    """The API's create-time limits on a session's memory store resources (400s); `resources` is
    the request's whole list, so a message names a resource by its index there."""
    stores = [r for r in resources if r["type"] == "memory_store"]
    if len(stores) > MAX_MEMORY_STORES:
        raise ApiError(400, f"resources: at most {MAX_MEMORY_STORES} memory_store resources are allowed")
    ids = [r["memory_store_id"] for r in stores]
    if len(set(ids)) != len(ids):
        raise ApiError(400, "resources: a memory store can be attached only once per session")
    for i, res in enumerate(resources):  # (the index names the resource in the request's list)
        if res["type"] == "memory_store" and len(res.get("instructions") or "") > 4096:
            raise ApiError(400, f"resources.{i}.instructions: at most 4096 characters")


async def attach_extra_resources(rt: Any, resources: list[dict[str, Any]]) -> None:
    """Mount the repositories and memory stores of a new session; session.error for the
    repositories and MCP servers the emulator cannot reach."""
    for res in resources:
        if res["type"] == "github_repository":
            rt.session["resources"].append(_mount_repo(rt, res))
        elif res["type"] == "memory_store":
            rt.session["resources"].append(_mount_memory(rt, res))
    _check_mcp_servers(rt)


def check_roster(store: Any, multiagent: dict[str, Any] | None, own_id: str | None = None) -> None:
    """A coordinator roster as the API checks it: distinct agents that exist, are not archived
    and are not coordinators themselves (depth 1); at most one `self`."""
    if not multiagent or multiagent.get("type") != "coordinator":
        return
    seen: set[str] = set()
    for i, entry in enumerate(multiagent.get("agents") or []):
        if isinstance(entry, dict) and entry.get("type") == "self":
            key = own_id or "self"
        else:
            key = entry if isinstance(entry, str) else entry["id"]
            version = None if isinstance(entry, str) else entry.get("version")
            try:
                agent = store.agent(key, version)
            except ApiError:
                raise ApiError(400, f"multiagent.agents.{i}: agent {key} was not found") from None
            if agent.get("archived_at"):
                raise ApiError(400, f"multiagent.agents.{i}: agent {key} is archived")
            if agent.get("multiagent"):
                raise ApiError(400, f"multiagent.agents.{i}: agent {key} is itself a coordinator (depth limit 1)")
        if key in seen:
            raise ApiError(400, f"multiagent.agents.{i}: {key} is listed twice")
        seen.add(key)


# -- repositories -----------------------------------------------------------------------------
def _repo_name(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return (tail[:-4] if tail.endswith(".git") else tail) or "repo"


def _local_source(url: str) -> Path | None:
    """The local directory a `file://` URL or a plain path names (None: a network URL)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and url.startswith(("/", "~", ".")):
        return Path(url).expanduser()
    return None


def _repo_error(rt: Any, error_type: str, url: str, message: str) -> None:
    rt.emit({"type": "session.error", "error": {
        "type": error_type, "message": message, "retry_status": {"type": "retrying"}, "repository_url": url}})


def _mount_repo(rt: Any, res: dict[str, Any]) -> dict[str, Any]:
    url = res["url"]
    mount_path = res.get("mount_path") or f"/workspace/{_repo_name(url)}"
    stamp = now_iso()
    resource = {"type": "github_repository", "id": new_id("sesrsc"), "url": url, "mount_path": mount_path,
                "created_at": stamp, "updated_at": stamp}
    if res.get("checkout"):
        resource["checkout"] = dict(res["checkout"])
    source = _local_source(url)
    if source is None:
        _repo_error(rt, "repository_clone_error", url,
                    f"Could not clone {url}: the offline emulator cannot reach the network "
                    "(use a local path or file:// URL).")
    elif not source.is_dir():
        _repo_error(rt, "repository_not_found_error", url, f"Repository {url} was not found.")
    else:
        problem = _copy_repo(source, rt.sandbox.host(mount_path), res.get("checkout"))
        if problem:
            _repo_error(rt, "repository_checkout_error", url, f"Could not check out {url}: {problem}")
    return resource


def _copy_repo(source: Path, target: Path, checkout: dict[str, Any] | None) -> str | None:
    """Clone (git repository) or copy `source` to `target`; an error text, or None."""
    target.parent.mkdir(parents=True, exist_ok=True)
    git = shutil.which("git")
    if not (source / ".git").exists() or git is None:
        if checkout:
            return "not a git repository, so no branch or commit can be checked out"
        shutil.copytree(source, target, dirs_exist_ok=True)
        return None
    ref = (checkout or {}).get("name") or (checkout or {}).get("sha")
    try:
        subprocess.run([git, "clone", "--quiet", "--no-hardlinks", str(source), str(target)],
                       check=True, capture_output=True, timeout=_GIT_TIMEOUT)
        if ref:
            subprocess.run([git, "-C", str(target), "checkout", "--quiet", ref],
                           check=True, capture_output=True, timeout=_GIT_TIMEOUT)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(target, ignore_errors=True)
        lines = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "git failed"
    except subprocess.TimeoutExpired:
        shutil.rmtree(target, ignore_errors=True)
        return "git timed out"
    return None


# -- memory stores ----------------------------------------------------------------------------
def memory_dir_name(name: str) -> str:
    """The API's rule for a store's directory: its name lowercased, each run of non-alphanumerics
    one hyphen."""
    return slug(name)


def _mount_memory(rt: Any, res: dict[str, Any]) -> dict[str, Any]:
    """Mount a store from `store.memory` (the session create checked that it exists);
    `read_write` mounts sync back into the store, `read_only` ones are a read-only copy."""
    bank = rt.store.memory
    store = bank.for_attach(res["memory_store_id"])
    access = res.get("access") or "read_write"
    taken = {r.get("mount_path") for r in rt.session["resources"]}
    name = memory_dir_name(store["name"])
    mount_path, n = f"/mnt/memory/{name}", 1
    while mount_path in taken:  # two stores with the same name in one session
        n += 1
        mount_path = f"/mnt/memory/{name}-{n}"
    target = rt.sandbox.host(mount_path)
    bank.attach(rt.sid, store["id"], access, target)
    if access == "read_only":
        rt.sandbox.read_only.append(target)  # the toolset refuses writes (mode bits alone do not stop root)
        for path in [target, *target.rglob("*")]:
            mode = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
            path.chmod(mode | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0))
    return {"type": "memory_store", "memory_store_id": store["id"], "access": access, "name": store["name"],
            "description": store["description"], "instructions": res.get("instructions"),
            "mount_path": mount_path}


# -- MCP --------------------------------------------------------------------------------------
def _reachable(rt: Any, url: str) -> bool:
    net = ((rt.environment.get("config") or {}).get("networking")) or {"type": "unrestricted"}
    if net.get("type") == "limited" and not net.get("allow_mcp_servers"):
        return False
    host = (urlparse(url).hostname or "").lower()
    return host == "test" or host.endswith(".test")


def _check_mcp_servers(rt: Any) -> None:
    for server in rt.agent.get("mcp_servers") or []:
        if not _reachable(rt, server["url"]):
            rt.emit({"type": "session.error", "error": {
                "type": "mcp_connection_failed_error", "mcp_server_name": server["name"],
                "message": f"Could not connect to MCP server {server['name']!r} ({server['url']}) from the "
                           "offline emulator.",
                "retry_status": {"type": "retrying"}}})


def mcp_policy(agent: dict[str, Any], server: str, name: str) -> tuple[bool, str]:
    """(enabled, policy type) for one MCP tool from the agent's `mcp_toolset` for `server`."""
    for toolset in agent.get("tools") or []:
        if toolset.get("type") != "mcp_toolset" or toolset.get("mcp_server_name") != server:
            continue
        default = toolset.get("default_config") or {}
        enabled = default.get("enabled", True)
        policy = (default.get("permission_policy") or {}).get("type", "always_ask")
        for config in toolset.get("configs") or []:
            if config.get("name") == name:
                enabled = config.get("enabled", enabled)
                policy = (config.get("permission_policy") or {}).get("type", policy)
        return bool(enabled), policy
    return False, "always_ask"


def mcp_tool_use(turn: Any, spec: dict[str, Any], call_type: Any) -> Any:
    """Emit `agent.mcp_tool_use` and return its `Call` (kind "mcp"); the canned result rides along."""
    rt = turn.rt
    server, name, tool_input = spec["mcp_server"], spec["name"], dict(spec.get("input") or {})
    enabled, policy = mcp_policy(rt.agent, server, name)
    if spec.get("permission"):
        enabled, policy = spec["permission"] != "disabled", spec["permission"]
    permission = "deny" if not enabled else {"always_ask": "ask", "always_allow": "allow"}.get(policy, "ask")
    extra = {"evaluation": {"type": policy}} if enabled and policy in ("always_ask", "always_allow") else {}
    event = rt.emit({"type": "agent.mcp_tool_use", "name": name, "mcp_server_name": server, "input": tool_input,
                     "evaluated_permission": permission, **extra, "session_thread_id": None})
    call = call_type(event["id"], name, tool_input, "mcp", permission=permission)
    call.denial = f"MCP tool {server}.{name} is not enabled for this agent."
    call.result = {"content": [{"type": "text", "text": str(spec.get("result", ""))}],
                   "is_error": bool(spec.get("is_error"))}
    return call


def _mcp_result(turn: Any, call: Any, content: list[dict[str, Any]], is_error: bool) -> dict[str, Any]:
    from .inbox import message_text

    rt = turn.rt
    rt.emit({"type": "agent.mcp_tool_result", "mcp_tool_use_id": call.id, "content": content, "is_error": is_error})
    text = message_text(content)
    rt.meter.add_input(text)
    call.resolved = True
    return {"name": call.name, "input": call.input, "content": content, "is_error": is_error, "text": text}


def mcp_execute(turn: Any, call: Any) -> dict[str, Any]:
    """The (scenario's) MCP server answers: `agent.mcp_tool_result`."""
    turn.rt.count("tool_executions")
    result = call.result or {}
    return _mcp_result(turn, call, list(result.get("content") or []), bool(result.get("is_error")))


def mcp_synthetic(turn: Any, call: Any, text: str) -> dict[str, Any]:
    """A denied / interrupted MCP call: an error `agent.mcp_tool_result`."""
    return _mcp_result(turn, call, [{"type": "text", "text": text}], True)
