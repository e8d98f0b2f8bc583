"""A session's container: a private directory standing in for the hosted filesystem.

The container root `/` maps to the sandbox directory, so `/mnt/session/uploads`,
`/mnt/session/outputs`, `/workspace` and `/tmp` are real directories under it. Built-in
tool calls run through the SDK's reference toolset (`anthropic.lib.tools.agent_toolset`)
after container paths in their inputs (and in bash command text) are mapped into the
sandbox; sandbox paths in their results are mapped back. Mounted inputs are read-only.
Files under `/mnt/session/outputs/` are found by `scan_outputs()` for indexing.

Newer SDKs' `bash` cuts a long output and saves all of it in a host temporary directory
(`<tmp>/bash-output-*/`) that its result names and `read`/`grep` may open. The agent sees it as
`/tmp/bash-output-*/…`, and those container paths map to that host directory.
"""

from __future__ import annotations

import inspect
import logging
import os
import posixpath
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["Sandbox", "OUTPUTS", "UPLOADS", "WORKSPACE", "ToolRun"]

log = logging.getLogger("nb_agents.emulator")

UPLOADS = "/mnt/session/uploads"
OUTPUTS = "/mnt/session/outputs"
WORKSPACE = "/workspace"
_MAPPED_PREFIXES = ("/mnt/session", "/mnt/memory", WORKSPACE, "/tmp")
# a container path inside command text: a mapped prefix not glued to a preceding word/path
_CMD_PATH = re.compile(
    r"(?<![\w./~-])(" + "|".join(re.escape(p) for p in _MAPPED_PREFIXES) + r")(?=[/\s'\";:,)|&>]|$)"
)


async def _close_tool(tool: Any) -> None:
    """A runnable tool's own cleanup (its public `aclose`/`close`, awaited when it returns an
    awaitable), as the SDK's runners call it; a failing one does not stop the others."""
    closer = getattr(tool, "aclose", None) or getattr(tool, "close", None)
    if closer is None:
        return
    try:
        result = closer()
        if inspect.isawaitable(result):
            await result
    except Exception:  # noqa: BLE001 - closing: log it and close the rest
        log.warning("closing tool %s failed", getattr(tool, "name", "?"), exc_info=True)


class ToolRun(dict):  # type: ignore[type-arg]
    """Result of one built-in tool call: `content` (wire blocks), `is_error`, `text`."""


class Sandbox:
    """Per-session directory + the SDK toolset bound to it."""

    def __init__(self, root: str | os.PathLike[str] | None = None, *, session_id: str = "sesn") -> None:
        base = Path(root) if root else Path(tempfile.gettempdir()) / "nb_agents_emulator"
        base.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f"{session_id}_", dir=base)).resolve()
        self._saved: dict[str, str] = {}  # container dir of a saved bash output -> its host dir
        for path in (UPLOADS, OUTPUTS, WORKSPACE, "/tmp"):
            self.host(path).mkdir(parents=True, exist_ok=True)
        self._tools: dict[str, Any] | None = None
        self.read_only: list[Path] = []  # more read-only mounts (read-only memory stores), before tools run
        self._ctx: Any = None

    # -- paths ---------------------------------------------------------------------------
    def host(self, container_path: str) -> Path:
        """Host path for a container path; relative paths resolve against /workspace."""
        p = container_path if container_path.startswith("/") else posixpath.join(WORKSPACE, container_path)
        p = posixpath.normpath(p)
        while p.startswith("//"):
            p = p[1:]
        saved = self._saved_host(p)
        return Path(saved) if saved is not None else self.root / p.lstrip("/")

    def _saved_host(self, container_path: str) -> str | None:
        for container_dir, host_dir in self._saved.items():
            if container_path == container_dir or container_path.startswith(container_dir + "/"):
                return host_dir + container_path[len(container_dir) :]
        return None

    def container(self, host_path: str | os.PathLike[str]) -> str:
        rel = os.path.relpath(os.fspath(host_path), self.root)
        return "/" + rel.replace(os.sep, "/") if rel != "." else "/"

    def map_command(self, command: str) -> str:
        command = _CMD_PATH.sub(lambda m: str(self.root) + m.group(1), command)
        for container_dir, host_dir in self._saved.items():  # /tmp/bash-output-*: not in the sandbox
            pattern = re.escape(str(self.root) + container_dir) + r"(?![\w.-])"
            command = re.sub(pattern, host_dir.replace("\\", "\\\\"), command)
        return command

    def unmap_text(self, text: str) -> str:
        text = text.replace(str(self.root), "")
        saved_output = re.escape(os.path.realpath(tempfile.gettempdir())) + r"/bash-output-[A-Za-z0-9_]+"
        for host_dir in set(re.findall(saved_output, text)):
            container_dir = "/tmp/" + os.path.basename(host_dir)
            self._saved[container_dir] = host_dir
            text = text.replace(host_dir, container_dir)
        return text

    # -- mounts and outputs --------------------------------------------------------------
    def mount(self, container_path: str, data: bytes) -> Path:
        target = self.host(container_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.chmod(stat.S_IWUSR | stat.S_IRUSR)
        target.write_bytes(data)
        target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # mounted inputs are read-only
        return target

    def unmount(self, container_path: str) -> None:
        target = self.host(container_path)
        if target.exists():
            target.chmod(stat.S_IWUSR | stat.S_IRUSR)
            target.unlink()

    def scan_outputs(self) -> dict[str, tuple[Path, int, int]]:
        """Every regular file under /mnt/session/outputs: container path -> (host path, size, mtime_ns)."""
        found: dict[str, tuple[Path, int, int]] = {}
        out = self.host(OUTPUTS)
        for dirpath, _dirs, files in os.walk(out):
            for name in files:
                full = Path(dirpath) / name
                try:
                    st = full.lstat()
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    found[self.container(full)] = (full, st.st_size, st.st_mtime_ns)
        return found

    # -- tools ---------------------------------------------------------------------------
    def _toolset(self) -> dict[str, Any]:
        if self._tools is None:
            from anthropic.lib.tools.agent_toolset import AgentToolContext, beta_agent_toolset_20260401

            env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
            # the sandbox's python3 is the emulator's own interpreter (pandas, matplotlib...)
            env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "/usr/bin:/bin")
            env.update(MPLBACKEND="Agg", HOME=str(self.host(WORKSPACE)), TMPDIR=str(self.host("/tmp")))
            self._ctx = AgentToolContext(
                workdir=str(self.root), env=env, read_only_roots=[self.host(UPLOADS), *self.read_only]
            )
            self._tools = {t.name: t for t in beta_agent_toolset_20260401(self._ctx)}
        return self._tools

    def map_input(self, name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
        mapped = dict(tool_input)
        for key in ("file_path", "path"):
            if isinstance(mapped.get(key), str):
                mapped[key] = str(self.host(mapped[key]))
        if name == "bash" and isinstance(mapped.get("command"), str):
            mapped["command"] = f"cd {self.host(WORKSPACE)} && " + self.map_command(mapped["command"])
        return mapped

    async def run_tool(self, name: str, tool_input: dict[str, Any]) -> ToolRun:
        """Run one built-in tool for real; errors become `is_error` results, never exceptions."""
        from anthropic.lib.tools import ToolError

        tool = self._toolset().get(name)
        if tool is None:
            return self._result(f"Tool {name} is not available in this environment.", True)
        try:
            raw = await tool.call(self.map_input(name, tool_input))
            return self._result(raw, False)
        except ToolError as e:
            return self._result(e.content, True)
        except Exception as e:  # invalid arguments, timeouts: reported to the model as errors
            return self._result(f"{name}: {e}", True)

    def _result(self, raw: Any, is_error: bool) -> ToolRun:
        if isinstance(raw, str):
            blocks: list[dict[str, Any]] = [{"type": "text", "text": self.unmap_text(raw)}]
        else:
            blocks = []
            for block in raw or []:
                block = dict(block)
                if block.get("type") == "text":
                    block["text"] = self.unmap_text(block.get("text", ""))
                blocks.append(block)
        text = "\n".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        return ToolRun(content=blocks, is_error=is_error, text=text)

    async def close(self) -> None:
        """Stop the bash shell and delete the directory."""
        if self._tools is not None:
            for tool in self._tools.values():
                await _close_tool(tool)
            self._tools = None
        if self._ctx is not None:
            await self._ctx.close()
        self.remove()

    def remove(self) -> None:
        def unlock(func: Any, path: str, _exc: Any) -> None:
            os.chmod(os.path.dirname(path), stat.S_IRWXU)
            os.chmod(path, stat.S_IRWXU)
            func(path)

        if self.root.exists():
            if sys.version_info >= (3, 12):
                shutil.rmtree(self.root, onexc=unlock)
            else:
                shutil.rmtree(self.root, onerror=unlock)
