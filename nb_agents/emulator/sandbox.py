"""A session's container: a private directory standing in for the hosted filesystem.

The container root `/` maps to the sandbox directory, so `/mnt/session/uploads`,
`/mnt/session/outputs`, `/workspace` and `/tmp` are real directories under it. Built-in
tool calls run through the SDK's reference toolset (`anthropic.lib.tools.agent_toolset`)
after container paths in their inputs (and in bash command text) are mapped into the
sandbox; sandbox paths in their results are mapped back. Mounted inputs are read-only.
Files under `/mnt/session/outputs/` are found by `scan_outputs()` for indexing.
"""

from __future__ import annotations

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

UPLOADS = "/mnt/session/uploads"
OUTPUTS = "/mnt/session/outputs"
WORKSPACE = "/workspace"
_MAPPED_PREFIXES = ("/mnt/session", "/mnt/memory", WORKSPACE, "/tmp")
# a container path inside command text: a mapped prefix not glued to a preceding word/path
_CMD_PATH = re.compile(
    r"(?<![\w./~-])(" + "|".join(re.escape(p) for p in _MAPPED_PREFIXES) + r")(?=[/\s'\";:,)|&>]|$)"
)


class ToolRun(dict):  # type: ignore[type-arg]
    """Result of one built-in tool call: `content` (wire blocks), `is_error`, `text`."""


class Sandbox:
    """Per-session directory + the SDK toolset bound to it."""

    def __init__(self, root: str | os.PathLike[str] | None = None, *, session_id: str = "sesn") -> None:
        base = Path(root) if root else Path(tempfile.gettempdir()) / "nb_agents_emulator"
        base.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f"{session_id}_", dir=base)).resolve()
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
        return self.root / p.lstrip("/")

    def container(self, host_path: str | os.PathLike[str]) -> str:
        rel = os.path.relpath(os.fspath(host_path), self.root)
        return "/" + rel.replace(os.sep, "/") if rel != "." else "/"

    def map_command(self, command: str) -> str:
        return _CMD_PATH.sub(lambda m: str(self.root) + m.group(1), command)

    def unmap_text(self, text: str) -> str:
        return text.replace(str(self.root), "")

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
            from anthropic.lib.tools._beta_functions import aclose_runnable_tool

            for tool in self._tools.values():
                await aclose_runnable_tool(tool)
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
