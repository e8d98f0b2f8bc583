"""Memory stores as data: stores, memories, their version history, and the sessions' mounts.

`MemoryBank` (one per `Store`, as `store.memory`) owns every memory store, memory and memory
version, and keeps each session's `/mnt/memory/<name>` directory in step with its store:

- attaching a store to a session writes its memories as files into the session's directory;
- the agent's writes there (new, changed and removed files) become memory versions whose
  `created_by` is a `session_actor`, each time the bank syncs: before and after every memory
  API call that touches the store, when another session attaches it, when a dream reads it, and
  before the session is archived or deleted;
- changes made through the API are written back into the directories of the sessions that
  mount the store `read_write` at the same sync points (`read_only` mounts are a copy taken at
  attach time).

Files that are not UTF-8 text, are larger than 100 kB, or whose path breaks the memory path
rules stay in the directory but are not synced. Everything here raises `ApiError`.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import ApiError, new_id, now_iso
from .resolve import check_metadata

__all__ = ["MemoryBank", "MAX_CONTENT_BYTES", "check_path", "sha256", "slug"]

MAX_CONTENT_BYTES = 102_400
_MAX_SEGMENTS = 20


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def slug(name: str) -> str:
    """A store's directory name under `/mnt/memory/`: lowercased, each run of characters other
    than ASCII letters and digits one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "memory"


def check_path(path: str, field_name: str = "path") -> str:
    """The API's memory path rules (400 on the first broken one)."""
    def bad(why: str) -> ApiError:
        return ApiError(400, f"{field_name}: {why}")

    if not path.startswith("/"):
        raise bad("must start with '/'")
    if len(path.encode()) > 1024:
        raise bad("must be at most 1024 bytes")
    if unicodedata.normalize("NFC", path) != path:
        raise bad("must be in Unicode Normalization Form C")
    for ch in path:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise bad(f"must not contain control or format characters (U+{ord(ch):04X})")
    segments = path[1:].split("/")
    if not 1 <= len(segments) <= _MAX_SEGMENTS:
        raise bad(f"must have 1 to {_MAX_SEGMENTS} segments")
    if any(s in ("", ".", "..") for s in segments):
        raise bad("segments must not be empty, '.' or '..'")
    return path


def _check_content(content: str, field_name: str = "content") -> None:
    if len(content.encode()) > MAX_CONTENT_BYTES:
        raise ApiError(400, f"{field_name}: must be at most {MAX_CONTENT_BYTES} bytes of UTF-8")


def _conflicts(a: str, b: str) -> bool:
    """Two memory paths that cannot both exist (one is the other, or a directory of it)."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def check_store_fields(body: dict[str, Any]) -> None:
    name = body.get("name")
    if name is not None and not (1 <= len(name) <= 255 and not any(unicodedata.category(c) == "Cc" for c in name)):
        raise ApiError(400, "name: must be 1 to 255 characters without control characters")
    if len(body.get("description") or "") > 1024:
        raise ApiError(400, "description: must be at most 1024 characters")


@dataclass
class Mount:
    session_id: str
    store_id: str
    host: Path
    access: str
    base: dict[str, str] = field(default_factory=dict)  # path -> sha256 at the last sync


@dataclass
class MemoryBank:
    stores: dict[str, dict[str, Any]] = field(default_factory=dict)
    memories: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # store -> id -> memory
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # store -> versions, oldest first
    mounts: list[Mount] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- stores -----------------------------------------------------------------------------
    def create_store(self, name: str, description: str = "", metadata: dict[str, str] | None = None) -> dict[str, Any]:
        check_store_fields({"name": name, "description": description})
        check_metadata(metadata or {})
        stamp = now_iso()
        store: dict[str, Any] = {"type": "memory_store", "id": new_id("memstore"), "name": name,
                 "description": description or "", "metadata": dict(metadata or {}),
                 "created_at": stamp, "updated_at": stamp, "archived_at": None}
        with self.lock:
            self.stores[store["id"]] = store
            self.memories[store["id"]] = {}
            self.versions[store["id"]] = []
        return store

    def store(self, store_id: str) -> dict[str, Any]:
        with self.lock:
            found = self.stores.get(store_id)
        if found is None:
            raise ApiError(404, f"Memory store {store_id} not found")
        return found

    def writable(self, store_id: str) -> dict[str, Any]:
        store = self.store(store_id)
        if store.get("archived_at"):
            raise ApiError(400, f"Memory store {store_id} is archived; its memories can no longer be changed")
        return store

    def for_attach(self, store_id: str) -> dict[str, Any]:
        """The store a session attaches: unknown or deleted ids are 404, archived ones 400
        (`api_sessions.check_memory_store_ids` says so before a session is made)."""
        store = self.store(store_id)
        if store.get("archived_at"):
            raise ApiError(400, f"Memory store {store_id} is archived and cannot be attached to new sessions")
        return store

    def delete_store(self, store_id: str) -> None:
        with self.lock:
            self.store(store_id)
            self.sync_store(store_id)
            del self.stores[store_id]
            self.memories.pop(store_id, None)
            self.versions.pop(store_id, None)
            self.mounts = [m for m in self.mounts if m.store_id != store_id]
            self.deleted.add(store_id)

    # -- memories ---------------------------------------------------------------------------
    def memory(self, store_id: str, memory_id: str) -> dict[str, Any]:
        self.store(store_id)
        with self.lock:
            mem = self.memories[store_id].get(memory_id)
        if mem is None:
            raise ApiError(404, f"Memory {memory_id} not found in memory store {store_id}")
        return mem

    def by_path(self, store_id: str) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {m["path"]: m for m in self.memories[store_id].values()}

    def _check_free(self, store_id: str, path: str, own_id: str | None = None) -> None:
        for mem in self.memories[store_id].values():
            if mem["id"] != own_id and _conflicts(path, mem["path"]):
                raise ApiError(409, f"path: {path} conflicts with memory {mem['id']} at {mem['path']}",
                               error_type="memory_path_conflict_error")

    def _version(self, mem: dict[str, Any], operation: str, actor: dict[str, Any] | None) -> dict[str, Any]:
        deleted = operation == "deleted"
        version = {"type": "memory_version", "id": new_id("memver"), "memory_id": mem["id"],
                   "memory_store_id": mem["memory_store_id"], "operation": operation, "path": mem["path"],
                   "content": None if deleted else mem["content"],
                   "content_sha256": None if deleted else mem["content_sha256"],
                   "content_size_bytes": None if deleted else mem["content_size_bytes"],
                   "created_at": now_iso(), "created_by": actor, "redacted_at": None, "redacted_by": None}
        self.versions[mem["memory_store_id"]].append(version)
        return version

    def create_memory(self, store_id: str, path: str, content: str, actor: dict[str, Any] | None) -> dict[str, Any]:
        with self.lock:
            self.writable(store_id)
            check_path(path)
            _check_content(content)
            self._check_free(store_id, path)
            stamp = now_iso()
            mem: dict[str, Any] = {"type": "memory", "id": new_id("mem"), "memory_store_id": store_id, "path": path,
                   "content": content, "content_sha256": sha256(content),
                   "content_size_bytes": len(content.encode()), "memory_version_id": "",
                   "created_at": stamp, "updated_at": stamp}
            mem["memory_version_id"] = self._version(mem, "created", actor)["id"]
            self.memories[store_id][mem["id"]] = mem
            return mem

    def update_memory(self, store_id: str, memory_id: str, *, content: str | None, path: str | None,
                      expected_sha: str | None, actor: dict[str, Any] | None) -> dict[str, Any]:
        with self.lock:
            self.writable(store_id)
            mem = self.memory(store_id, memory_id)
            if expected_sha is not None and expected_sha != mem["content_sha256"]:
                raise ApiError(409, f"Memory {memory_id} has content_sha256 {mem['content_sha256']}, "
                               f"not {expected_sha}", error_type="memory_precondition_failed_error")
            new_path = check_path(path) if path is not None else mem["path"]
            new_content = content if content is not None else mem["content"]
            _check_content(new_content)
            if new_path == mem["path"] and new_content == mem["content"]:
                return mem  # nothing changes: no new version
            self._check_free(store_id, new_path, own_id=memory_id)
            mem.update(path=new_path, content=new_content, content_sha256=sha256(new_content),
                       content_size_bytes=len(new_content.encode()), updated_at=now_iso())
            mem["memory_version_id"] = self._version(mem, "modified", actor)["id"]
            return mem

    def delete_memory(self, store_id: str, memory_id: str, *, expected_sha: str | None,
                      actor: dict[str, Any] | None) -> None:
        with self.lock:
            mem = self.memory(store_id, memory_id)
            if expected_sha is not None and expected_sha != mem["content_sha256"]:
                raise ApiError(409, f"Memory {memory_id} has content_sha256 {mem['content_sha256']}, "
                               f"not {expected_sha}", error_type="memory_precondition_failed_error")
            self._version(mem, "deleted", actor)
            del self.memories[store_id][memory_id]

    def list_memories(self, store_id: str, prefix: str | None, depth: int) -> list[dict[str, Any]]:
        """Memories under `prefix` sorted by path; with `depth` > 0, deeper ones roll up into
        `memory_prefix` items at that depth."""
        base = prefix or "/"
        items: list[dict[str, Any]] = []
        seen_prefixes: set[str] = set()
        with self.lock:
            mems = sorted(self.memories[store_id].values(), key=lambda m: m["path"])
        for mem in mems:
            if not mem["path"].startswith(base):
                continue
            rest = mem["path"][len(base):].split("/")
            if depth and len(rest) > depth:
                rolled = base + "/".join(rest[:depth]) + "/"
                if rolled not in seen_prefixes:
                    seen_prefixes.add(rolled)
                    items.append({"type": "memory_prefix", "path": rolled})
                continue
            items.append(mem)
        return items

    # -- versions ---------------------------------------------------------------------------
    def version(self, store_id: str, version_id: str) -> dict[str, Any]:
        self.store(store_id)
        with self.lock:
            for version in self.versions[store_id]:
                if version["id"] == version_id:
                    return version
        raise ApiError(404, f"Memory version {version_id} not found in memory store {store_id}")

    def redact(self, store_id: str, version_id: str, actor: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            version = self.version(store_id, version_id)
            if version.get("redacted_at"):
                return version
            live = self.memories[store_id].get(version["memory_id"])
            if live is not None and live["memory_version_id"] == version_id:
                raise ApiError(400, f"Memory version {version_id} holds the current content of memory "
                               f"{live['id']}; update or delete the memory before redacting it")
            version.update(content=None, path=None, content_sha256=None, content_size_bytes=None,
                           redacted_at=now_iso(), redacted_by=actor)
            return version

    # -- mounts -----------------------------------------------------------------------------
    def attach(self, session_id: str, store_id: str, access: str, host: Path) -> None:
        """Write the store's memories into a session's directory (syncing other sessions first)."""
        with self.lock:
            self.sync_store(store_id)
            host.mkdir(parents=True, exist_ok=True)
            mount = Mount(session_id, store_id, host, access)
            for path, mem in self.by_path(store_id).items():
                _write(host, path, mem["content"])
                mount.base[path] = mem["content_sha256"]
            self.mounts.append(mount)

    def sync_store(self, store_id: str) -> None:
        with self.lock:
            for mount in [m for m in self.mounts if m.store_id == store_id]:
                self._sync(mount)

    def sync_session(self, session_id: str, *, detach: bool = False) -> None:
        with self.lock:
            for mount in [m for m in self.mounts if m.session_id == session_id]:
                self._sync(mount)
            if detach:
                self.mounts = [m for m in self.mounts if m.session_id != session_id]

    def _sync(self, mount: Mount) -> None:
        if mount.access != "read_write":
            return
        if not mount.host.is_dir() or mount.store_id not in self.stores:
            self.mounts.remove(mount)  # the session's sandbox is gone
            return
        if self.stores[mount.store_id].get("archived_at"):
            return  # an archived store takes no more writes; the session keeps its copy
        actor = {"type": "session_actor", "session_id": mount.session_id}
        store_id, disk = mount.store_id, _scan(mount.host)
        current = self.by_path(store_id)
        for path, content in disk.items():
            digest = sha256(content)
            if mount.base.get(path) == digest:
                continue  # unchanged by the agent
            mem = current.get(path)
            try:
                if mem is None:
                    self.create_memory(store_id, path, content, actor)
                elif mem["content_sha256"] != digest:
                    self.update_memory(store_id, mem["id"], content=content, path=None, expected_sha=None,
                                       actor=actor)
            except ApiError:
                continue  # e.g. a path that conflicts with one written through the API meanwhile
        for path, digest in mount.base.items():
            mem = current.get(path)
            if path not in disk and mem is not None and mem["content_sha256"] == digest:
                self.delete_memory(store_id, mem["id"], expected_sha=None, actor=actor)
        # now the store holds the agent's changes: bring the directory to the store's state
        current = self.by_path(store_id)
        for path, mem in current.items():
            if path not in disk or sha256(disk[path]) != mem["content_sha256"]:
                _write(mount.host, path, mem["content"])
        for path in disk:
            if path not in current and path in mount.base:
                _remove(mount.host, path)
        mount.base = {path: mem["content_sha256"] for path, mem in current.items()}


def _scan(root: Path) -> dict[str, str]:
    """Memory path -> text for every regular file under `root` that can be a memory."""
    found: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            full = Path(dirpath) / name
            try:
                st = full.lstat()
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CONTENT_BYTES:
                    continue
                text = full.read_bytes().decode()
                path = "/" + full.relative_to(root).as_posix()
                check_path(path)
            except (OSError, UnicodeDecodeError, ApiError):
                continue
            found[path] = text
    return found


def _write(root: Path, path: str, content: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")


def _remove(root: Path, path: str) -> None:
    target = root / path.lstrip("/")
    try:
        target.unlink()
    except OSError:
        pass
