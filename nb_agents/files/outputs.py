"""Outputs of a session: list its scoped files, choose safe local paths, download concurrently.

One `OutputFolder` per session folder (`agent_outputs/<session>/`). Local names come from
the server and pass through `safe_names`; a manifest (`.nb_agents.json`) remembers which
local file came from which server file id, so:
- a file re-pulled with the same id overwrites only its own previous copy;
- a newer file with the same name (the agent rewrote `chart.png`) replaces the older copy
  once the older one is gone from the listing ("changed");
- two live files whose names collide after cleaning get `~2`, `~3` suffixes;
- a file in the folder that nb_agents did not write is never overwritten;
- the copy a newer one replaces is kept by content (`.nb_agents_versions/<sha256><suffix>`), so
  an earlier turn's `Artifact` still loads that turn's bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from .artifacts import Artifact, file_sha256, guess_mime, version_path
from .safe_names import clean_relpath, collision_key, contain, with_suffix_number

__all__ = ["OutputFolder", "Outputs", "list_session_files", "BETAS", "OUTPUTS_PREFIX"]

BETAS = ["managed-agents-2026-04-01"]
OUTPUTS_PREFIX = "/mnt/session/outputs/"
MANIFEST = ".nb_agents.json"


class Outputs(dict):  # type: ignore[type-arg]
    """relative path -> Artifact for one pull; `.errors` lists files that failed to download
    (one line each), `.failures` the exceptions behind them (a caller may judge them retryable)."""

    errors: list[str]
    failures: list[BaseException]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.errors = []
        self.failures = []


def list_session_files(client: Any, session_id: str) -> list[Any]:
    """Every file scoped to the session (all pages), oldest first for stable suffixes."""
    page = client.beta.files.list(scope_id=session_id, betas=BETAS, limit=1000)
    files = list(page)  # SyncPageCursor iterates over every page
    return sorted(files, key=lambda f: (str(f.created_at), f.id))


def hinted_relpaths(written_paths: Iterable[str] | None) -> dict[str, str]:
    """basename -> path under outputs/, for basenames written exactly once (else ambiguous)."""
    seen: dict[str, list[str]] = {}
    for raw in written_paths or ():
        p = posixpath.normpath(str(raw))  # resolves `..` so it cannot pass the prefix check
        if p.startswith(OUTPUTS_PREFIX):
            rel = p[len(OUTPUTS_PREFIX):]
            seen.setdefault(PurePosixPath(rel).name, []).append(rel)
    return {name: sorted(set(rels))[0] for name, rels in seen.items() if len(set(rels)) == 1}


class OutputFolder:
    """The local folder of one session's outputs, its manifest and the download pool."""

    def __init__(self, client: Any, root: Path, *, max_workers: int = 4) -> None:
        self.client = client
        self.root = Path(root)
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self.manifest: dict[str, dict[str, Any]] = self._read_manifest()
        self.artifacts: dict[str, Artifact] = {}  # file_id -> latest local copy
        self._owners: dict[str, dict[str, Any]] = {}  # collision key -> manifest entry, per allocate()

    # --- manifest ------------------------------------------------------------------------
    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self.root / MANIFEST).read_text("utf-8"))
            return {str(k): v for k, v in data.items() if isinstance(v, dict)}
        except (OSError, ValueError):
            return {}

    def _write_manifest(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(self.manifest, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, self.root / MANIFEST)

    # --- choosing local paths ---------------------------------------------------------------
    def _free(self, relpath: str, file_id: str, live: set[str], taken: set[str]) -> bool:
        key = collision_key(relpath)
        if key in taken:
            return False
        owner = self._owners.get(key)
        try:
            target = contain(self.root, relpath)
        except ValueError:  # a symlink planted in the folder points elsewhere
            return False
        if owner is not None:
            # Ours: reusable by the same file, or by a newer version once the old one is gone.
            return owner.get("file_id") == file_id or owner.get("file_id") not in live
        return not target.exists() and not target.is_symlink()

    def allocate(self, files: list[Any], hints: dict[str, str]) -> dict[str, str]:
        """file_id -> relative local path for each file, deterministic for a given listing."""
        live = {f.id for f in files}
        by_id = {v.get("file_id"): k for k, v in self.manifest.items()}
        self._owners = {collision_key(k): v for k, v in self.manifest.items()}
        taken: set[str] = set()
        chosen: dict[str, str] = {}
        for meta in files:
            previous = by_id.get(meta.id)
            if previous is not None and self._free(previous, meta.id, live, taken):
                rel = previous
            else:
                rel = self._first_free(clean_relpath(hints.get(meta.filename, meta.filename), fallback=meta.id),
                                       meta.id, live, taken)
            taken.add(collision_key(rel))
            chosen[meta.id] = rel
        return chosen

    def _first_free(self, base: str, file_id: str, live: set[str], taken: set[str]) -> str:
        rel = base
        for n in range(2, 10_000):
            if self._free(rel, file_id, live, taken):
                return rel
            parts = base.split("/")
            # A planted symlink or a file where a folder is needed: rename that component.
            i = self._blocked_component(parts)
            rel = "/".join([*parts[:i], with_suffix_number(parts[i], n), *parts[i + 1:]])
        return clean_relpath(file_id)

    def _blocked_component(self, parts: list[str]) -> int:
        path = self.root
        for i, part in enumerate(parts[:-1]):
            path = path / part
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                return i
        return len(parts) - 1

    # --- downloading ---------------------------------------------------------------------------
    def _is_current(self, rel: str, file_id: str) -> bool:
        entry = self.manifest.get(rel)
        if not entry or entry.get("file_id") != file_id:
            return False
        path = self.root / rel
        return path.is_file() and path.stat().st_size == entry.get("size")

    def _download(self, meta: Any, rel: str, old_sha: str | None = None) -> Artifact:
        target = contain(self.root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, self.client.beta.files.with_streaming_response.download(
                meta.id, betas=BETAS
            ) as resp:
                for chunk in resp.iter_bytes(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            self._keep_superseded(target, old_sha, digest.hexdigest())
            # os.replace swaps a symlink itself, never the file it points to.
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self._artifact(meta, rel, target, size, digest.hexdigest())

    def _keep_superseded(self, target: Path, old_sha: str | None, new_sha: str) -> None:
        """Move our earlier copy (`old_sha`, from the manifest) aside by content before a different
        one replaces it (an earlier turn's Artifact finds it there); a file that is not what we
        pulled is left alone."""
        if not old_sha or old_sha == new_sha or target.is_symlink() or not target.is_file():
            return
        kept = version_path(self.root, old_sha, target.suffix)
        if kept.is_file() or file_sha256(target) != old_sha:
            return
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, kept)

    def _artifact(self, meta: Any, rel: str, path: Path, size: int, sha: str) -> Artifact:
        mime = meta.mime_type if meta.mime_type and meta.mime_type != "application/octet-stream" else guess_mime(rel)
        return Artifact(name=rel, path=path, mime=mime, size=size, sha256=sha, file_id=meta.id,
                        created_at=str(meta.created_at), versions=self.root)

    def sync(self, session_id: str, files: list[Any], hints: dict[str, str], *, force: bool = False) -> Outputs:
        """Download what is new or changed among `files` (already filtered); returns those Artifacts."""
        chosen = self.allocate(files, hints)
        todo = [(m, chosen[m.id]) for m in files if force or not self._is_current(chosen[m.id], m.id)]
        pending = {m.id for m, _ in todo}
        for meta in files:
            rel = chosen[meta.id]
            if meta.id not in self.artifacts and meta.id not in pending:
                # Pulled by an earlier kernel (the manifest says so): known again without a download.
                entry = self.manifest[rel]
                self.artifacts[meta.id] = self._artifact(meta, rel, self.root / rel, entry["size"], entry["sha256"])
        result = Outputs()
        if not todo:
            return result
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="nb-agents-pull") as pool:
            futures = [(meta, rel, pool.submit(self._download, meta, rel, (self.manifest.get(rel) or {}).get("sha256")))
                       for meta, rel in todo]
            for meta, rel, fut in futures:
                try:
                    art = fut.result()
                except Exception as exc:
                    result.errors.append(f"{meta.filename}: {type(exc).__name__}: {exc}")
                    result.failures.append(exc)
                    continue
                result[rel] = art
                self._record(session_id, art)
        self._write_manifest()
        return result

    def _record(self, session_id: str, art: Artifact) -> None:
        with self._lock:
            for rel in [k for k, v in self.manifest.items() if v.get("file_id") == art.file_id and k != art.name]:
                del self.manifest[rel]  # the same file moved to a new name: forget the old entry
            self.manifest[art.name] = {"file_id": art.file_id, "sha256": art.sha256, "size": art.size,
                                       "session_id": session_id}
            self.artifacts[art.file_id] = art




def wait_for_listing(
    list_fn: Any, want: Any, *, timeout: float, poll: float = 0.25
) -> list[Any]:
    """Call `list_fn()` until `want(files)` is true or `timeout` passes (the indexing lag)."""
    deadline = time.monotonic() + timeout
    delay = poll
    while True:
        files = list_fn()
        if want(files) or time.monotonic() >= deadline:
            return files
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 1.0)
