"""File sync between the kernel and a session: DataFrames and files in, artifacts out.

`FileSync` is the one object the session layer talks to (see docs/files.md):
- `prepare(inputs, session_id=..., fmt=, sample=)` checks everything first (types, paths,
  500 MB), uploads what is new or changed (content-hash dedupe per session), mounts it
  (`sessions.resources.add` now, or `Prepared.resources` for `sessions.create` + `bind()`),
  and returns the prompt cards with the mount paths the API reported. A failure leaves
  nothing of the batch uploaded or mounted.
- `prepare(inputs, reuse={mount request: (digest, file id)})`, for a target with no session (a
  deployment): files uploaded earlier for it whose digest still matches are used again, not
  uploaded (the same dedupe, with the digests the caller kept).
- `pull(session_id)` downloads new or changed outputs into `<outputs_dir>/<session name>/`.
Every upload call is counted by the sync's `meter` (egress.py: what left the kernel) as it starts.
Uploads rely on the SDK's retries and are not retry-safe: the Files API gives no way to find what
an upload whose answer was lost stored, so that file stays behind (docs/files.md, "When an
upload's answer is lost").
Inputs live in inputs.py, cards in cards.py, outputs in outputs.py,
`Artifact` in artifacts.py and untrusted-name cleaning in safe_names.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..egress import NO_METER, EgressMeter
from ..errors import FileSyncError, format_api_error
from ..view import fmt_size
from .artifacts import Artifact
from .cards import cards_text
from .inputs import MAX_FILE_BYTES, InputSpec, expand_inputs
from .outputs import BETAS, OutputFolder, Outputs, hinted_relpaths, list_session_files, wait_for_listing
from .safe_names import clean_component

__all__ = ["FileSync", "Prepared", "ReportRow", "Artifact", "Outputs", "written_output_paths"]


@dataclass(frozen=True)
class ReportRow:
    """One line of "what was sent" for the view: status is uploaded / unchanged / replaced
    (or, from `plan()`, "will upload" / "will replace")."""

    name: str
    kind: str
    status: str
    size: int | None
    mount_path: str | None


@dataclass
class _Mount:
    digest: str
    file_id: str  # the file we uploaded
    size: int
    mount_path: str | None = None  # as the API reported it
    resource_id: str | None = None
    session_file_id: str | None = None  # the session's own copy (listed among its files)


@dataclass
class Prepared:
    """The result of `prepare()`; `.cards` is the prompt text, `.report` what was sent."""

    session_id: str | None
    sample: int
    entries: list[tuple[InputSpec, _Mount]] = field(default_factory=list)
    report: list[ReportRow] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)  # file ids uploaded by this call
    local = False  # local.LocalPrepared: written into the working folder, nothing mounted

    @property
    def resources(self) -> list[dict[str, Any]]:
        """`resources=` for `sessions.create` (new session): every input of this batch."""
        return [{"type": "file", "file_id": m.file_id, "mount_path": s.mount_request} for s, m in self.entries]

    @property
    def bound(self) -> bool:
        return all(m.mount_path for _, m in self.entries)

    @property
    def cards(self) -> str:
        if not self.bound:
            raise FileSyncError("inputs are not mounted yet: call FileSync.bind(prepared, session) after create")
        return cards_text([(s, m.mount_path or "", m.size) for s, m in self.entries], sample=self.sample)

    @property
    def digests(self) -> dict[str, str]:
        """Input name -> content hash (what a cache key or a cassette records)."""
        return {spec.name: spec.digest for spec, _ in self.entries}


class FileSync:
    """Uploads, mounts and pulls files for the sessions of one named conversation."""

    def __init__(self, client: Any, *, outputs_dir: str | Path = "agent_outputs", session_name: str = "default",
                 max_workers: int = 4, index_timeout: float = 3.0, settle: float = 1.0,
                 meter: EgressMeter = NO_METER) -> None:
        self.client = client
        self.meter = meter
        self.outputs_root = Path(outputs_dir) / (clean_component(session_name) or "default")
        self.max_workers = max_workers
        self.index_timeout = index_timeout  # hosted indexing lag of outputs: 1-3 s
        self.settle = settle  # extra wait when we don't know which outputs to expect
        self.mounts: dict[str, dict[str, _Mount]] = {}  # session id -> mount request -> mount
        self.folder = OutputFolder(client, self.outputs_root, max_workers=max_workers)
        # A background run and a foreground cell may share this object: one batch at a time.
        self._lock = threading.RLock()

    # --- inputs --------------------------------------------------------------------------------
    def plan(self, inputs: Any, *, session_id: str | None = None, fmt: str = "parquet") -> list[ReportRow]:
        """What `prepare` would send (`--dry-run`): no upload, no serialization."""
        known = self.mounts.get(session_id or "", {})
        rows = []
        for spec in expand_inputs(inputs, fmt=fmt):
            old = known.get(spec.mount_request)
            status = "unchanged" if old and old.digest == spec.digest else "will replace" if old else "will upload"
            size = old.size if old and status == "unchanged" else spec.size_on_disk()
            rows.append(ReportRow(spec.name, spec.kind, status, size, old.mount_path if old else None))
        return rows

    def prepare(self, inputs: Any, *, session_id: str | None = None, fmt: str = "parquet", sample: int = 5,
                reuse: Mapping[str, tuple[str, str]] | None = None) -> Prepared:
        """`reuse` (no `session_id`): mount request -> (digest, file id) of files uploaded before for
        the same target; an input with that digest uses the file again (status "unchanged")."""
        with self._lock:
            return self._prepare(inputs, session_id, fmt, sample, reuse)

    def _prepare(self, inputs: Any, session_id: str | None, fmt: str, sample: int,
                 reuse: Mapping[str, tuple[str, str]] | None = None) -> Prepared:
        specs = expand_inputs(inputs, fmt=fmt)
        known = self.mounts.setdefault(session_id, {}) if session_id else self._still_there(reuse or {})
        prep = Prepared(session_id=session_id, sample=max(0, int(sample)))
        todo = [s for s in specs if not (s.mount_request in known and known[s.mount_request].digest == s.digest)]
        payloads = _payloads(todo)  # every check (size, readability) before the first upload
        fresh = self._upload_all(todo, payloads, prep)
        replaced = self._mount_now(session_id, fresh, prep) if session_id else set()
        for spec in specs:
            mount = fresh.get(spec.mount_request) or known[spec.mount_request]
            status = "unchanged" if spec.mount_request not in fresh else (
                "replaced" if spec.mount_request in replaced else "uploaded")
            prep.entries.append((spec, mount))
            prep.report.append(ReportRow(spec.name, spec.kind, status, mount.size, mount.mount_path))
        return prep

    def _still_there(self, reuse: Mapping[str, tuple[str, str]]) -> dict[str, _Mount]:
        """The files of `reuse` the Files API still has (one `files.list(ids=...)`, which leaves out
        deleted ones), as mounts of no session; when the listing fails, none (they are uploaded
        again, as if nothing had been kept)."""
        ids = list(dict.fromkeys(fid for _, fid in reuse.values()))[:100]
        if not ids:
            return {}
        try:
            sizes = {f.id: f.size_bytes for f in self.client.beta.files.list(ids=ids, betas=BETAS)}
        except Exception:  # noqa: BLE001 - only a saving is lost: the inputs are uploaded as they would be
            return {}
        return {request: _Mount(digest, fid, sizes[fid]) for request, (digest, fid) in reuse.items() if fid in sizes}

    def _upload_all(self, todo: list[InputSpec], payloads: dict[str, Any], prep: Prepared) -> dict[str, _Mount]:
        def one(spec: InputSpec) -> _Mount:
            content, size = payloads[spec.mount_request]
            self.meter.uploaded(spec.name, spec.kind, spec.filename, size)  # it goes out, whatever the answer
            meta = self.client.beta.files.upload(file=(spec.filename, content, spec.mime), betas=BETAS)
            prep.uploaded.append(meta.id)
            return _Mount(spec.digest, meta.id, size)

        try:
            with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="nb-agents-upload") as pool:
                mounts = list(pool.map(one, todo))
        except Exception as exc:
            self._delete_files(prep.uploaded)
            raise FileSyncError(f"upload failed, nothing was mounted: {_why(exc)}") from None
        finally:
            for content, _ in payloads.values():
                if hasattr(content, "close"):
                    content.close()
        return {s.mount_request: m for s, m in zip(todo, mounts, strict=True)}

    def _mount_now(self, session_id: str, fresh: dict[str, _Mount], prep: Prepared) -> set[str]:
        """Mount the fresh uploads; returns the mount requests whose old version was replaced."""
        known = self.mounts.setdefault(session_id, {})
        added: list[str] = []
        replaced: dict[str, _Mount] = {}
        try:
            for request, mount in fresh.items():
                old = known.get(request)
                if old is not None and old.resource_id:
                    # Same mount path for the new version: the old mount has to go first.
                    self.client.beta.sessions.resources.delete(old.resource_id, session_id=session_id)
                    replaced[request] = known.pop(request)
                res = self.client.beta.sessions.resources.add(
                    session_id, type="file", file_id=mount.file_id, mount_path=request)
                added.append(res.id)
                mount.resource_id, mount.mount_path, mount.session_file_id = res.id, res.mount_path, res.file_id
        except Exception as exc:
            self._rollback(session_id, added, replaced, prep)
            raise FileSyncError(f"mounting failed, nothing new was mounted: {_why(exc)}") from None
        known.update(fresh)
        self._delete_files([m.file_id for m in replaced.values()])  # the superseded originals
        return set(replaced)

    def _rollback(self, session_id: str, added: list[str], replaced: dict[str, _Mount], prep: Prepared) -> None:
        for rid in added:
            _quietly(self.client.beta.sessions.resources.delete, rid, session_id=session_id)
        self._delete_files(prep.uploaded)
        known = self.mounts.setdefault(session_id, {})
        for request, old in replaced.items():
            # Put the previous version back where it was, so a failed update changes nothing.
            res = _quietly(self.client.beta.sessions.resources.add, session_id, type="file",
                           file_id=old.file_id, mount_path=request)
            if res is not None:
                old.resource_id, old.mount_path, old.session_file_id = res.id, res.mount_path, res.file_id
                known[request] = old

    def bind(self, prepared: Prepared, session: Any) -> Prepared:
        """After `sessions.create(resources=prepared.resources)`: record the mounts it reported."""
        files = [r for r in (getattr(session, "resources", None) or []) if getattr(r, "type", None) == "file"]
        unmatched = list(files)
        for spec, mount in prepared.entries:
            match = _match_resource(unmatched, mount.file_id, spec.mount_request)
            if match is None:
                raise FileSyncError(f"session {session.id} did not report a mount for {spec.name!r}")
            unmatched.remove(match)
            mount.resource_id, mount.mount_path, mount.session_file_id = match.id, match.mount_path, match.file_id
        prepared.session_id = session.id
        self.mounts.setdefault(session.id, {}).update({s.mount_request: m for s, m in prepared.entries})
        return prepared

    def discard(self, prepared: Prepared) -> None:
        """Delete what `prepare` uploaded when the session it was meant for was never created."""
        self._delete_files(prepared.uploaded)

    def delete_files(self, file_ids: Iterable[str]) -> None:
        """Delete uploaded files no longer used (quietly: a file already gone is fine)."""
        self._delete_files(file_ids)

    def _delete_files(self, file_ids: Iterable[str]) -> None:
        for fid in file_ids:
            _quietly(self.client.beta.files.delete, fid)

    # --- outputs -------------------------------------------------------------------------------
    def pull(self, session_id: str, *, skip_file_ids: Iterable[str] = (), written_paths: Iterable[str] | None = None,
             force: bool = False, settle: float | None = None) -> Outputs:
        """Download new or changed outputs of the session; returns relative path -> Artifact.
        With `written_paths` it waits (up to `index_timeout`) until those are listed, else up to
        `settle` seconds (default `self.settle`; 0 = list once) for anything new."""
        skip = set(skip_file_ids) | self._input_file_ids(session_id)
        hints = hinted_relpaths(written_paths)

        def listing() -> list[Any]:
            try:
                files = list_session_files(self.client, session_id)
            except Exception as exc:
                raise FileSyncError(f"could not list the outputs of {session_id}: {_why(exc)}") from None
            return [f for f in files if f.id not in skip and f.downloadable is not False]

        def ready(files: list[Any]) -> bool:
            names = {f.filename for f in files}
            if hints:
                return all(name in names for name in hints)
            return any(f.id not in self.folder.artifacts for f in files)

        timeout = self.index_timeout if hints else self.settle if settle is None else settle
        with self._lock:
            files = wait_for_listing(listing, ready, timeout=timeout)
            return self.folder.sync(session_id, files, hints, force=force)

    def outputs(self) -> dict[str, Artifact]:
        """Every output pulled so far (latest copy of each file), by relative path."""
        return {a.name: a for a in self.folder.artifacts.values() if self.folder.manifest.get(a.name, {}).get(
            "file_id") == a.file_id}

    def _input_file_ids(self, session_id: str) -> set[str]:
        ids: set[str] = set()
        for m in self.mounts.get(session_id, {}).values():
            ids.update(x for x in (m.file_id, m.session_file_id) if x)
        try:
            remote = self.client.beta.sessions.retrieve(session_id)
        except Exception as exc:
            raise FileSyncError(f"could not read session {session_id}: {_why(exc)}") from None
        ids.update(r.file_id for r in (remote.resources or []) if getattr(r, "type", None) == "file")
        return ids


def _payloads(todo: list[InputSpec]) -> dict[str, tuple[Any, int]]:
    """(content, size) per input; serializes frames and opens files, refusing anything > 500 MB."""
    out: dict[str, tuple[Any, int]] = {}
    try:
        for spec in todo:
            size = spec.size_on_disk()
            if size is None:
                data = spec.payload()
                content, size = data, len(data)
            else:
                content = None
            if size > MAX_FILE_BYTES:
                raise FileSyncError(f"{spec.name} is {fmt_size(size)}; the Files API limit is 500 MB per file")
            out[spec.mount_request] = (content if content is not None else spec.path.open("rb"), size)  # type: ignore[union-attr]
    except BaseException:
        for content, _ in out.values():
            if hasattr(content, "close"):
                content.close()
        raise
    return out


def _match_resource(resources: list[Any], file_id: str, request: str) -> Any:
    for r in resources:
        if r.file_id == file_id:
            return r
    for r in resources:
        if r.mount_path == request or str(r.mount_path).endswith(request):
            return r
    return resources[0] if resources else None


def _quietly(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception:  # clean-up after a failure must not hide the failure itself
        return None


def _why(exc: BaseException) -> str:
    if isinstance(exc, FileSyncError):
        return str(exc)
    if hasattr(exc, "status_code") or type(exc).__module__.startswith("anthropic"):
        return format_api_error(exc)
    return f"{type(exc).__name__}: {exc}"


def written_output_paths(events: Iterable[Any]) -> list[str]:
    """`file_path`s the agent's write/edit tool calls used, to find outputs by their full path."""
    paths = []
    for event in events:
        if getattr(event, "type", None) == "agent.tool_use" and getattr(event, "name", None) in {"write", "edit"}:
            path = (getattr(event, "input", None) or {}).get("file_path")
            if isinstance(path, str):
                paths.append(path)
    return paths
