"""Cassettes: record one agent turn to JSONL and load it back (format in docs/replay.md).

This module owns the cassette format, the recorder and the loader (playback is in
`nb_agents.playback`). A cassette is `<name>.jsonl` (header, one line per event with
its monotonic offset, footer with the Run summary and the outputs manifest) plus, when the
turn produced files, a folder `<name>.files/` beside it holding them byte for byte: text
outputs stay diffable in git and the JSONL stays small and line-oriented. Secrets never
reach disk: every string (and every text file) is scrubbed on the way out by `nb_agents.scrub`,
and a streamed message is also scrubbed whole, since a secret can be split across its deltas.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import mimetypes
import os
import shutil
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ..api import backend_kind
from ..errors import NbAgentsError
from ..events import event_from_json, event_to_json, jsonable
from ..scrub import scrub, scrub_bytes, scrub_text

# The recording clock; a module attribute so tests can drive it without patching `time` for every thread.
_clock = time.monotonic

__all__ = [
    "FORMAT",
    "VERSION",
    "Cassette",
    "CassetteError",
    "CassetteFile",
    "RecordedEvent",
    "Recorder",
    "files_dir",
    "load_cassette",
    "sha256_bytes",
    "summary_of",
]

FORMAT = "nb_agents.cassette"
VERSION = 1


class CassetteError(NbAgentsError):
    """A cassette cannot be written, read or replayed."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_name(name: str) -> str:
    p = PurePosixPath(str(name).replace("\\", "/"))
    if p.is_absolute() or not p.parts or ".." in p.parts:
        raise CassetteError(f"Unsafe file name in cassette: {name!r}")
    return p.as_posix()


@dataclasses.dataclass(frozen=True)
class RecordedEvent:
    t: float  # seconds since the recording started (monotonic clock)
    event: Any  # SDK event model


@dataclasses.dataclass(frozen=True)
class CassetteFile:
    name: str  # relative to the outputs folder, posix
    sha256: str
    size: int
    mime: str
    source: Path  # where the bytes are stored beside the cassette
    file_id: str | None = None  # the Files API id it had when recorded
    created_at: str | None = None

    def read(self) -> bytes:
        try:
            data = self.source.read_bytes()
        except OSError:
            raise CassetteError(f"Cassette file missing: {self.source}") from None
        if sha256_bytes(data) != self.sha256:
            raise CassetteError(f"Cassette file {self.name} does not match its sha256 (edited?)")
        return data


@dataclasses.dataclass(frozen=True)
class Cassette:
    path: Path
    header: dict[str, Any]
    events: list[RecordedEvent]
    files: list[CassetteFile]
    summary: dict[str, Any]

    @property
    def duration(self) -> float:
        return self.events[-1].t if self.events else 0.0

    @property
    def created_at(self) -> str:
        return str(self.header.get("created_at", ""))


def files_dir(path: Path) -> Path:
    return path.with_name(path.stem + ".files")


def _guess_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _scrub_streamed_text(lines: list[dict[str, Any]], secrets: Iterable[str]) -> None:
    """Scrub each streamed message's text as a whole, in place. Each delta alone can hide part of
    a secret (`aws_secret_access_key = ` in one, the value in the next); where the whole text
    needs a redaction that the deltas one by one would miss, the first delta carries the whole
    scrubbed text and the others none (replay then shows that message at once)."""
    streams: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for line in lines:
        event = line.get("event") if line.get("kind") == "event" else None
        if not isinstance(event, dict) or event.get("type") != "event_delta":
            continue
        delta = event.get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, dict) and isinstance(content.get("text"), str):
            streams.setdefault((event.get("event_id"), delta.get("index")), []).append(content)
    for contents in streams.values():
        if len(contents) < 2:
            continue
        whole = scrub_text("".join(c["text"] for c in contents), secrets)
        if whole != "".join(scrub_text(c["text"], secrets) for c in contents):
            for i, content in enumerate(contents):
                content["text"] = whole if i == 0 else ""


class Recorder:
    """Collects one turn (events with offsets, produced files) and writes the cassette on close."""

    def __init__(self, path: str | os.PathLike[str], *, meta: Mapping[str, Any] | None = None,
                 secrets: Iterable[str] = ()) -> None:
        self.path = Path(path)
        if self.path.suffix != ".jsonl":
            self.path = self.path.with_name(self.path.name + ".jsonl")
        self.meta: dict[str, Any] = dict(meta or {})
        self.meta.setdefault("backend", backend_kind())  # decided when recording starts
        self._secrets = list(secrets)
        self._lock = threading.Lock()
        self._t0 = _clock()
        self._created = dt.datetime.now(dt.timezone.utc)
        self._events: list[dict[str, Any]] = []
        self._files: dict[str, tuple[bytes, str]] = {}
        self._file_info: dict[str, dict[str, Any]] = {}
        self.closed = False

    def on_event(self, event: Any) -> None:
        line = {"kind": "event", "t": round(_clock() - self._t0, 4), "event": event_to_json(event)}
        with self._lock:
            if not self.closed:
                self._events.append(line)

    def add_file(self, rel_path: str, data: bytes, *, mime: str | None = None, file_id: str | None = None,
                 created_at: str | None = None) -> None:
        name = _safe_name(rel_path)
        with self._lock:
            self._files[name] = (bytes(data), mime or _guess_mime(name))
            info = {"file_id": file_id, "created_at": jsonable(created_at)}
            self._file_info[name] = {k: v for k, v in info.items() if v}

    def abort(self) -> None:
        with self._lock:
            self.closed = True
            self._events.clear()
            self._files.clear()

    def close(self, summary: Any = None) -> Path:
        """Write the cassette (atomically) and return its path; `summary` is a Run or a dict."""
        if not isinstance(summary, Mapping) and summary is not None:
            self._add_run_outputs(summary)
        with self._lock:
            if self.closed:
                raise CassetteError(f"Recorder for {self.path} is already closed")
            self.closed = True
            files = {n: (scrub_bytes(d, self._secrets), m) for n, (d, m) in self._files.items()}
            manifest = [{"name": n, "sha256": sha256_bytes(d), "size": len(d), "mime": m, **self._file_info[n]}
                        for n, (d, m) in sorted(files.items())]
            summary_d = summary_of(summary)
            summary_d["outputs"] = manifest
            lines = [self._header(), *self._events, {"kind": "footer", "summary": summary_d}]
        _scrub_streamed_text(lines, self._secrets)
        lines = scrub(lines, self._secrets)
        self._write(lines, files)
        return self.path

    def _header(self) -> dict[str, Any]:
        from .._version import __version__

        head = {"kind": "header", "format": FORMAT, "version": VERSION, "nb_agents_version": __version__,
                "created_at": self._created.isoformat().replace("+00:00", "Z")}
        head.update({k: v for k, v in jsonable(self.meta).items() if v is not None})
        return head

    def _add_run_outputs(self, run: Any) -> None:
        outputs = getattr(run, "outputs", None) or {}
        items = outputs.items() if isinstance(outputs, Mapping) else ((None, a) for a in outputs)
        for name, art in items:
            path = Path(getattr(art, "path", None) or art)
            try:
                data = path.read_bytes()
            except OSError:
                continue  # an output that vanished is listed in the Run, not stored
            self.add_file(str(name or getattr(art, "name", None) or path.name), data,
                          mime=getattr(art, "mime", None), file_id=getattr(art, "file_id", None),
                          created_at=getattr(art, "created_at", None))

    def _write(self, lines: list[Any], files: dict[str, tuple[bytes, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        folder = files_dir(self.path)
        tmp_folder = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp_folder, ignore_errors=True)
        for name, (data, _mime) in files.items():
            target = tmp_folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        if files:
            tmp_folder.rename(folder)
        os.replace(tmp, self.path)


def summary_of(run: Any) -> dict[str, Any]:
    """The footer summary of a Run-like object (or a copy of a dict)."""
    if run is None:
        return {}
    if isinstance(run, Mapping):
        return {k: v for k, v in jsonable(run).items() if k != "outputs"}
    stop = getattr(run, "stop_reason", None)
    stop = getattr(stop, "type", stop)
    fields = ("text", "session_id", "session_name", "prompt", "usage", "cost_usd", "elapsed", "interrupted",
              "started_at", "ended_at")
    out = {f: jsonable(getattr(run, f)) for f in fields if getattr(run, f, None) is not None}
    out["stop_reason"] = jsonable(stop)
    return out


def _offset(t: Any) -> float:
    """An event's offset in seconds: a finite number >= 0 (ValueError otherwise)."""
    if not _finite(t) or t > 1e7:
        raise ValueError(t)
    return float(t)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x >= 0


def _str_map(x: Any) -> bool:
    return isinstance(x, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in x.items())


def _when(x: Any) -> bool:
    return isinstance(x, str) or (_finite(x) and x < 253402300800)  # a time before the year 10000


# What each field a reader uses may hold (None is always allowed): an edited or shared cassette is
# untrusted input, so anything else is a one-line CassetteError, never a crash further down.
_HEADER_FIELDS: dict[str, Any] = {
    **{k: lambda x: isinstance(x, str) for k in ("created_at", "session_id", "session_name", "agent_id", "model",
                                                "environment_id", "prompt", "nb_agents_version")},
    "agent_version": lambda x: isinstance(x, int) and not isinstance(x, bool),
    "backend": lambda x: x in ("service", "emulator"),
    "input_hashes": _str_map,
}
_SUMMARY_FIELDS: dict[str, Any] = {
    **{k: lambda x: isinstance(x, str) for k in ("text", "session_id", "session_name", "prompt")},
    "elapsed": _finite, "cost_usd": _finite, "started_at": _when, "ended_at": _when,
    "interrupted": lambda x: isinstance(x, bool),
    "stop_reason": lambda x: isinstance(x, (str, dict)),
    "usage": lambda x: isinstance(x, dict) and all(v is None or (_finite(v) and v < 2**63) for v in x.values()),
    "outputs": lambda x: isinstance(x, list),
}


def _check_fields(p: Path, where: str, data: Mapping[str, Any], checks: Mapping[str, Any]) -> None:
    for key, ok in checks.items():
        value = data.get(key)
        if value is not None and not ok(value):
            raise CassetteError(f"{p} has a malformed {where} field {key!r} ({type(value).__name__})")


def load_cassette(path: str | os.PathLike[str]) -> Cassette:
    """Read a cassette written by `Recorder` (events become SDK models again)."""
    p = Path(path)
    if not p.exists() and p.suffix != ".jsonl" and p.with_name(p.name + ".jsonl").exists():
        p = p.with_name(p.name + ".jsonl")
    try:
        raw = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CassetteError(f"Cannot read cassette {p}: {exc.strerror or exc}") from None
    try:
        lines = [json.loads(line) for line in raw if line.strip()]
    except json.JSONDecodeError as exc:
        raise CassetteError(f"{p} is not a cassette (bad JSON on line {exc.lineno})") from None
    if not lines or not all(isinstance(x, dict) for x in lines) or lines[0].get("kind") != "header" \
            or lines[0].get("format") != FORMAT:
        raise CassetteError(f"{p} is not an nb_agents cassette (no header line)")
    version = lines[0].get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise CassetteError(f"{p} has an unreadable cassette version {str(version)[:40]!r}")
    if version > VERSION:
        raise CassetteError(f"{p} is cassette version {version}; this nb_agents reads {VERSION}")
    _check_fields(p, "header", lines[0], _HEADER_FIELDS)
    try:
        events = [RecordedEvent(_offset(x.get("t", 0.0)), event_from_json(x["event"]))
                  for x in lines if x.get("kind") == "event"]
    except (KeyError, TypeError, ValueError):
        raise CassetteError(f"{p} has a malformed event line") from None
    footer: dict[str, Any] = next((x for x in reversed(lines) if x.get("kind") == "footer"), {})
    if not isinstance(footer.get("summary") or {}, dict):
        raise CassetteError(f"{p} has a malformed footer (its summary is not an object)")
    summary = dict(footer.get("summary") or {})
    _check_fields(p, "summary", summary, _SUMMARY_FIELDS)
    folder = files_dir(p)
    try:
        files = [CassetteFile(_safe_name(f["name"]), f["sha256"], int(f["size"]),
                              f.get("mime") or _guess_mime(f["name"]), folder / _safe_name(f["name"]),
                              f.get("file_id"), f.get("created_at"))
                 for f in summary.get("outputs", [])]
    except (KeyError, TypeError, ValueError):
        raise CassetteError(f"{p} has a malformed outputs manifest") from None
    return Cassette(p, lines[0], events, files, summary)

