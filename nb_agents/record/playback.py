"""Replay a cassette: play its events into the live view and rebuild the Run, offline.

`replay(path, speed=...)` needs no network and no key: events come from the JSONL with their
recorded offsets (scaled by `speed`, or all at once), are folded into a Transcript exactly as a
live run folds them, and the turn's files are restored (sha256-checked) into the outputs folder.
The result is a `ReplayRun`, a `Run` whose text, usage, cost and outputs equal the original's.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from ..egress import REPLAYED
from ..files import Artifact, clean_component, clean_relpath, contain
from ..provenance import provenance_from_run
from ..run import Run
from ..transcript import empty, fold, with_image, with_inputs, with_notice, with_prompt
from ..view import LiveView
from .cassette import Cassette, CassetteError, CassetteFile, load_cassette

__all__ = ["ReplayRun", "replay", "restore_files"]


class ReplayRun(Run):
    """A `Run` rebuilt from a cassette; `.cassette` and `.recorded_at` say where it came from."""

    replayed = True
    egress = REPLAYED  # a replay sends nothing

    def __init__(self, *, cassette: Cassette, **kw: Any) -> None:
        super().__init__(**kw)
        self.cassette = cassette

    @property
    def recorded_at(self) -> str:
        return self.cassette.created_at

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        """The Run's text/HTML with the recording's provenance in the output metadata."""
        data = super()._repr_mimebundle_(include, exclude)
        meta: dict[str, Any] = {}
        if isinstance(data, tuple):
            data, meta = data
        return data, {**meta, **provenance_from_run(self)}

    def __repr__(self) -> str:
        cost = "" if self.cost_usd is None else f", cost=${self.cost_usd:.4f}"
        return (f"<ReplayRun of {self.cassette.path.name} recorded {self.recorded_at} ({self.session_id})"
                f" stop_reason={self.stop_reason!r}{cost}>")


def replay(source: str | os.PathLike[str] | Cassette, *, speed: float | None = 1.0, view: bool = True,
           outputs_dir: str | os.PathLike[str] | None = None, notice: str | None = None,
           on_event: Any = None, verbose: bool = False, quiet: bool = False) -> ReplayRun:
    """Play a cassette into the live view at `speed` x the original pace (None = instantly)."""
    cas = source if isinstance(source, Cassette) else load_cassette(source)
    if speed is not None and not speed > 0:
        raise CassetteError(f"--speed must be a positive number, not {speed!r}")
    outputs = restore_files(cas, outputs_dir)  # before playing: a broken cassette fails fast
    player = _Player(cas, view=view, notice=notice, verbose=verbose, quiet=quiet)
    # Playback starts with the first event: the wait before it (session creation, uploads) is not
    # part of what the agent did. Gaps between events keep their recorded length (/ speed).
    base = cas.events[0].t if cas.events else 0.0
    start = time.monotonic()
    try:
        for rec in cas.events:
            if speed is not None:
                delay = (rec.t - base) / speed - (time.monotonic() - start)
                if delay > 0:
                    time.sleep(delay)
            player.feed(rec.event)
            if on_event is not None:
                on_event(rec.event)
    except KeyboardInterrupt:
        player.finish("Replay stopped: the rest of the recording was not played.")
        raise
    player.show_outputs(outputs, outputs_dir_of(cas, outputs_dir))
    transcript = player.t
    s, h = cas.summary, cas.header
    run = ReplayRun(
        # like a live Run: the events that have an id (no deltas)
        cassette=cas, transcript=transcript, events=[r.event for r in cas.events if getattr(r.event, "id", None)],
        session_id=str(s.get("session_id") or h.get("session_id") or ""),
        session_name=str(s.get("session_name") or h.get("session_name") or "replay"),
        prompt=str(s.get("prompt") or h.get("prompt") or ""),
        elapsed=float(s.get("elapsed") or cas.duration),
        stop_reason=s.get("stop_reason") or transcript.stop_reason,
        interrupted=bool(s.get("interrupted", False)), outputs=outputs, verbose=verbose, quiet=quiet,
    )
    player.finish(metadata=run.provenance)  # the static copy carries the provenance
    return run


def restore_files(cas: Cassette, outputs_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Copy the cassette's files (sha256-checked) into the outputs folder; name -> Artifact."""
    base = outputs_dir_of(cas, outputs_dir)
    restored: dict[str, Any] = {}
    for f in cas.files:
        data = f.read()
        base.mkdir(parents=True, exist_ok=True)
        try:
            target = contain(base, clean_relpath(f.name))
        except ValueError:
            raise CassetteError(f"cassette file {f.name!r} would be written outside {base}") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        restored[f.name] = _artifact(target, f)
    return restored


def outputs_dir_of(cas: Cassette, outputs_dir: str | os.PathLike[str] | None = None) -> Path:
    if outputs_dir is not None:
        return Path(outputs_dir)
    # The session id comes from the file, which may have been edited: one plain folder name.
    sid = str(cas.summary.get("session_id") or cas.header.get("session_id") or cas.path.stem)
    name = clean_component("replay-" + re.sub(r"[\\/]", "_", sid)) or "replay"
    return Path("agent_outputs") / name


def _artifact(path: Path, f: CassetteFile) -> Any:
    return Artifact(name=f.name, path=path, mime=f.mime, size=f.size, sha256=f.sha256,
                    file_id=f.file_id or "", created_at=f.created_at)


class _Player:
    """Folds replayed events into a Transcript and, when asked, a LiveView."""

    def __init__(self, cas: Cassette, *, view: bool, notice: str | None, verbose: bool, quiet: bool) -> None:
        when = cas.created_at[:16].replace("T", " ")
        first = notice or f"Replay of a recording from {when} UTC ({cas.header.get('backend', 'unknown')})"
        t0 = empty(session_id=cas.summary.get("session_id") or cas.header.get("session_id"),
                   model=cas.header.get("model"), offline=cas.header.get("backend") == "emulator",
                   replay=str(cas.path))
        self.t = with_notice(t0, first)
        if cas.header.get("inputs"):  # the upload summary a live turn shows first
            self.t = with_inputs(self.t, cas.header["inputs"])
        if cas.header.get("typed") and cas.header.get("prompt"):  # what the user wrote, as shown live
            self.t = with_prompt(self.t, cas.header["prompt"], cas.header["typed"], cas.header.get("attached") or ())
        self.view = None
        if view:
            self.view = LiveView(self.t, verbose=verbose, quiet=quiet)
            self.view.display()

    def feed(self, event: Any) -> None:
        self.t = fold(self.t, event)
        if self.view is not None:
            self.view.update(self.t)

    def show_outputs(self, outputs: dict[str, Any], where: Path) -> None:
        """As a live turn does after pulling: images inline, then one line naming the files."""
        for name, artifact in outputs.items():
            if artifact.is_image:
                self.t = with_image(self.t, name, artifact.mime, artifact.path.read_bytes())
        if outputs:
            self.t = with_notice(self.t, "outputs: " + ", ".join(sorted(outputs)) + f" (in {where})")
        if self.view is not None:
            self.view.update(self.t)

    def finish(self, notice: str | None = None, *, metadata: dict[str, Any] | None = None) -> Any:
        if notice is not None:
            self.t = with_notice(self.t, notice, "warning")
        if self.view is not None:
            self.view.close(self.t, metadata=metadata)
        return self.t
