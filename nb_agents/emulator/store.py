"""The emulator's in-memory state: agents (all versions), environments, sessions, files, memory
stores (`memory.MemoryBank`), vaults and credentials, deployments and their runs, dreams, counters.

Thread-safe (one re-entrant lock): the server's asyncio loop writes, tests read `stats` and
files from other threads. Also owns cursor pagination, shared by every list endpoint.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .common import ApiError, iso, new_id, now, parse_iso
from .memory import MemoryBank

__all__ = ["Store", "SessionRecord", "paginate", "Page"]


@dataclass
class SessionRecord:
    """A session's wire dict plus what the server keeps beside it."""

    session: dict[str, Any]
    runtime: Any
    agent: dict[str, Any]
    environment: dict[str, Any]


@dataclass
class Page:
    data: list[Any]
    next_page: str | None
    prev_page: str | None = None


@dataclass
class _File:
    meta: dict[str, Any]
    data: bytes


@dataclass
class Store:
    """All emulator state. Wire objects are stored as the dicts that are sent."""

    stats: Counter[str] = field(default_factory=Counter)
    agents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, SessionRecord] = field(default_factory=dict)
    _files: dict[str, _File] = field(default_factory=dict)
    memory: MemoryBank = field(default_factory=MemoryBank)  # memory stores, memories, versions, mounts
    vaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)  # wire dicts, never a secret
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)  # credential id -> write-only values
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployment_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    dreams: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_ids: set[str] = field(default_factory=set)  # deleted vaults (a deployment run names them)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def bump(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.stats[name] += n

    # -- files -----------------------------------------------------------------------------
    def add_file(
        self,
        filename: str,
        data: bytes,
        mime_type: str | None = None,
        *,
        scope_session_id: str | None = None,
        downloadable: bool = True,
        expires_in_seconds: int | None = None,
    ) -> dict[str, Any]:
        """Store bytes as a File and return its wire `BetaFileMetadata`."""
        created = now()
        name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "unnamed"
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(name)[0] or mime_type or "application/octet-stream"
        meta: dict[str, Any] = {
            "type": "file",
            "id": new_id("file"),
            "filename": name,
            "mime_type": mime_type,
            "size_bytes": len(data),
            "created_at": iso(created),
            "downloadable": downloadable,
        }
        if expires_in_seconds is not None:
            meta["expires_at"] = iso(created + timedelta(seconds=expires_in_seconds))
        if scope_session_id is not None:
            meta["scope"] = {"type": "session", "id": scope_session_id}
        with self.lock:
            self._files[meta["id"]] = _File(meta, bytes(data))
        return dict(meta)

    def _live_file(self, file_id: str) -> _File | None:
        with self.lock:
            f = self._files.get(file_id)
        if f is None:
            return None
        expires = f.meta.get("expires_at")
        if expires and parse_iso(expires) <= now():
            raise ApiError(404, f"File {file_id} has expired", error_code="file_expired")
        return f

    def get_file(self, file_id: str) -> dict[str, Any] | None:
        f = self._live_file(file_id)
        return dict(f.meta) if f else None

    def file_bytes(self, file_id: str) -> bytes:
        f = self._live_file(file_id)
        if f is None:
            raise KeyError(file_id)
        return f.data

    def delete_file(self, file_id: str) -> bool:
        with self.lock:
            return self._files.pop(file_id, None) is not None

    def files_for_scope(self, session_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [
                dict(f.meta)
                for f in self._files.values()
                if (f.meta.get("scope") or {}).get("id") == session_id
            ]

    def all_files(self) -> list[dict[str, Any]]:
        """Every file, newest first."""
        with self.lock:
            files = [dict(f.meta) for f in self._files.values()]
        return files[::-1]

    # -- agents ----------------------------------------------------------------------------
    def agent(self, agent_id: str, version: int | None = None) -> dict[str, Any]:
        with self.lock:
            versions = self.agents.get(agent_id)
            if not versions:
                raise ApiError(404, f"Agent {agent_id} not found")
            if version is None:
                return versions[-1]
            if not 1 <= version <= len(versions):
                raise ApiError(404, f"Agent {agent_id} version {version} not found")
            return versions[version - 1]

    def environment(self, env_id: str) -> dict[str, Any]:
        with self.lock:
            env = self.environments.get(env_id)
        if env is None:
            raise ApiError(404, f"Environment {env_id} not found", error_code="environment_not_found")
        return env

    def session_record(self, session_id: str) -> SessionRecord:
        with self.lock:
            rec = self.sessions.get(session_id)
        if rec is None:
            raise ApiError(404, f"Session {session_id} not found")
        return rec


def _encode(kind: str, order: str, offset: int) -> str:
    raw = json.dumps({"k": kind, "o": order, "i": offset}, separators=(",", ":")).encode()
    return "page_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, kind: str, order: str) -> int:
    try:
        if not cursor.startswith("page_"):
            raise ValueError(cursor)
        body = cursor[5:]
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        offset = int(data["i"])
        if data["k"] != kind or offset < 0:
            raise ValueError(cursor)
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ApiError(400, "invalid page cursor") from None
    if data["o"] != order:
        raise ApiError(400, "page token order does not match request")
    return offset


def paginate(items: list[Any], *, limit: int, page: str | None, kind: str, order: str = "asc") -> Page:
    """Slice `items` (already in the requested order) with an opaque offset cursor.

    `next_page` is None on the last page: the SDK keeps iterating while it is truthy.
    """
    offset = _decode(page, kind, order) if page else 0
    chunk = items[offset : offset + limit]
    end = offset + len(chunk)
    next_page = _encode(kind, order, end) if end < len(items) else None
    prev_page = _encode(kind, order, max(0, offset - limit)) if offset > 0 else None
    return Page(chunk, next_page, prev_page)
