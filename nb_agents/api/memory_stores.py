"""Memory stores for people: `--memory NAME[:read_only]` entries -> store ids (found by name or
created, see named.py), the list of stores (`list_memory_stores`), and `MemoryStore`, what
`nb_agents.memory(NAME)` returns: `.list()`, `.read(path)`, `.write(path, text)`, `.delete(path)`,
`.history(path)` (its memory versions) and `.redact(version)`.

Every call goes through the SDK's `beta.memory_stores` resources, which send the memory API's own
beta header (`agent-memory-2026-07-22`); nothing here adds another. Paths are memory paths
(`/notes/style.md`); a path without its leading `/` gets one, so `"style.md"` is `/style.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import resolve_options
from ..errors import AgentAPIError, ConfigError
from ..view.common import fmt_size
from ..view.report import Table
from .client import api_call, api_read, make_client
from .named import MEMORY_STORES, find_named, find_or_create, live

__all__ = ["MemoryStore", "Memory", "MemoryVersion", "parse_memory_entry", "ensure_memory_store",
           "list_memory_stores", "memory", "MAX_MEMORY_STORES"]

MAX_MEMORY_STORES = 8
ACCESS = ("read_only", "read_write")


def parse_memory_entry(entry: str) -> tuple[str, str | None]:
    """`NAME`, `NAME:read_only`, `memstore_…:read_write` -> (name or id, access or None)."""
    ref, sep, access = entry.rpartition(":")
    if not sep:
        ref, access = entry, ""
    if sep and access not in ACCESS:
        raise ConfigError(f"memory: access {access!r} in {entry!r} must be read_only or read_write")
    if not ref.strip():
        raise ConfigError(f"memory: {entry!r} names no memory store")
    return ref, access or None


def ensure_memory_store(client: Any, ref: str) -> str:
    """The id of the memory store `ref` (an id, or a name: found, else created)."""
    return str(find_or_create(client, MEMORY_STORES, ref).id)


def list_memory_stores(client: Any) -> list[dict[str, Any]]:
    """Every live memory store: name, id, description, updated."""
    return [{"name": s.name, "id": s.id, "description": s.description or "", "updated": _when(s.updated_at)}
            for s in live(client, MEMORY_STORES)]


def _when(ts: Any) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S") if ts is not None else "-"


def _path(path: str) -> str:
    path = str(path).strip()
    path = path if path.startswith("/") else "/" + path
    if any(seg in ("", ".", "..") for seg in path[1:].split("/")):
        raise ConfigError(f"memory path {path!r}: its parts must not be empty, '.' or '..'")
    return path


@dataclass(frozen=True)
class Memory:
    """One memory (a text document in a store): path, size in bytes, last change, ids."""

    path: str
    size: int
    updated: str
    id: str
    version_id: str

    def __repr__(self) -> str:
        return f"Memory({self.path!r}, {fmt_size(self.size)}, updated {self.updated})"


@dataclass(frozen=True)
class MemoryVersion:
    """One change of a memory: created, modified or deleted, when and by whom."""

    id: str
    path: str
    operation: str
    created: str
    by: str
    size: int | None
    redacted: bool

    def __repr__(self) -> str:
        return f"MemoryVersion({self.id!r}, {self.operation} {self.path!r} at {self.created} by {self.by})"


def _actor(actor: Any) -> str:
    kind = getattr(actor, "type", None)
    if kind == "session_actor":
        return f"session {actor.session_id}"
    if kind == "api_actor":
        return "api"
    return str(kind or "-").removesuffix("_actor")


def _memory(m: Any) -> Memory:
    return Memory(m.path, m.content_size_bytes, _when(m.updated_at), m.id, m.memory_version_id)


def _version(v: Any) -> MemoryVersion:
    return MemoryVersion(v.id, v.path or "-", str(v.operation), _when(v.created_at), _actor(v.created_by),
                         v.content_size_bytes, v.redacted_at is not None)


class MemoryStore:
    """A memory store by name (`nb_agents.memory("project")`); created on first use."""

    def __init__(self, client: Any, store: Any) -> None:
        self.client, self.id, self.name = client, str(store.id), str(store.name)
        self._memories = client.beta.memory_stores.memories
        self._versions = client.beta.memory_stores.memory_versions

    def __repr__(self) -> str:
        return f"MemoryStore({self.name!r}, id={self.id!r})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self.list()))

    # -- memories ---------------------------------------------------------------------------
    def _all(self) -> list[Any]:
        def every() -> list[Any]:
            return [m for m in self._memories.list(self.id, limit=100) if m.type == "memory"]

        return list(api_read(every))

    def _find(self, path: str) -> Any:
        return next((m for m in self._all() if m.path == path), None)

    def list(self) -> Table:
        """Its memories (path, size, updated), sorted by path; indexable by path."""
        mems = sorted((_memory(m) for m in self._all()), key=lambda m: m.path)
        rows = [(m.path, fmt_size(m.size), m.updated) for m in mems]
        title = f"memory store {self.name!r} ({self.id}): {len(mems)} memor{'y' if len(mems) == 1 else 'ies'}"
        return Table(title, ("path", "size", "updated"), rows, {m.path: m for m in mems})

    def read(self, path: str) -> str:
        """The text of the memory at `path`."""
        path = _path(path)
        found = self._find(path)
        if found is None:
            raise ConfigError(f"no memory at {path!r} in memory store {self.name!r} (see .list())")
        return str(api_read(self._memories.retrieve, found.id, memory_store_id=self.id).content or "")

    def write(self, path: str, text: str) -> Memory:
        """Create or replace the memory at `path` with `text` (a new memory version)."""
        path = _path(path)
        found = self._find(path)
        if found is None:
            try:
                made = api_call(self._memories.create, self.id, path=path, content=str(text))
            except AgentAPIError as exc:
                if exc.status != 409 or (found := self._find(path)) is None:
                    raise
        if found is not None:
            made = api_call(self._memories.update, found.id, memory_store_id=self.id, content=str(text))
        return _memory(made)

    def delete(self, path: str) -> None:
        """Delete the memory at `path` (its versions stay in `.history(path)`)."""
        path = _path(path)
        found = self._find(path)
        if found is None:
            raise ConfigError(f"no memory at {path!r} in memory store {self.name!r} (see .list())")
        api_call(self._memories.delete, found.id, memory_store_id=self.id)

    # -- versions ---------------------------------------------------------------------------
    def history(self, path: str | None = None) -> Table:
        """The memory versions of `path` (every path when None), oldest first; indexable by id."""
        want = _path(path) if path is not None else None

        def every() -> list[Any]:
            versions = list(self._versions.list(self.id, limit=100))
            # a redacted version has no path left: follow the memories that had this one
            ids = {v.memory_id for v in versions if v.path == want}
            return [v for v in versions if want is None or v.memory_id in ids]

        versions = [_version(v) for v in reversed(list(api_read(every)))]
        rows = [(v.id, v.operation, v.path, v.created, v.by,
                 "redacted" if v.redacted else "-" if v.size is None else fmt_size(v.size)) for v in versions]
        what = f"of {want!r} " if want else ""
        notes = () if versions else (f"no versions {what}yet",)
        return Table(f"memory versions {what}in {self.name!r}", ("version", "operation", "path", "when", "by", "size"),
                     rows, {v.id: v for v in versions}, notes)

    def redact(self, version: str | MemoryVersion) -> MemoryVersion:
        """Erase the content of one memory version (e.g. a secret an agent wrote down)."""
        version_id = version.id if isinstance(version, MemoryVersion) else str(version)
        if not version_id.startswith("memver_"):
            raise ConfigError(f"redact: {version_id!r} is not a memory version id (memver_…; see .history(path))")
        try:
            v = api_call(self._versions.redact, version_id, memory_store_id=self.id)
        except AgentAPIError as exc:
            if exc.status == 404:
                raise ConfigError(f"no memory version {version_id!r} in memory store {self.name!r}") from None
            raise
        return _version(v)


def memory(name: str, *, create: bool = True, client: Any = None) -> MemoryStore:
    """The memory store `name` (or id) as a `MemoryStore`; created when no store has that name
    (`create=False`: a one-line error instead)."""
    client = client if client is not None else make_client(resolve_options())
    find = find_or_create if create else find_named
    return MemoryStore(client, find(client, MEMORY_STORES, name))
