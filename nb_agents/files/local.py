"""Files in local mode (`%%agent --local`, docs/local.md): the working folder instead of the Files API.

`LocalFolder(workdir)` is what `FileSync` is in the cloud, without any upload or download:
- `check()` makes the folder and proves it is writable (one-line `FileSyncError` otherwise);
- `prepare(inputs, fmt=, sample=)` writes each `{{df}}` (Parquet or CSV, serialized by the same
  `InputSpec.payload`) and copies each `--files` path under `<workdir>/inputs/`, and returns a
  `Prepared` whose mount paths are those local paths (relative to the working folder, where the
  agent's tools start), so the schema cards are the cloud ones with a local path;
- `snapshot()` / `outputs(before)`: the files the agent wrote or changed under the folder during
  a turn become `run.outputs` as the same `Artifact` objects, pointing at the file in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FileSyncError
from .artifacts import Artifact, file_sha256, guess_mime
from .cards import cards_text
from .inputs import expand_inputs
from .outputs import Outputs
from .sync import Prepared, ReportRow, _Mount

__all__ = ["INPUTS_DIR", "LOCAL_INTRO", "LocalFolder", "LocalPrepared"]

INPUTS_DIR = "inputs"
OUTPUTS_DIR = "outputs"
LOCAL_INTRO = ("Input files are in your working folder (the current directory of your tools), on the user's "
               "own machine. Write results under outputs/.")
_SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", "skills"}
_MAX_SCAN = 20_000  # files looked at after a turn: a huge folder must not stall the cell


@dataclass
class LocalPrepared(Prepared):
    """A `Prepared` whose inputs were written into the working folder: nothing to mount."""

    local = True

    @property
    def resources(self) -> list[dict[str, Any]]:
        return []

    @property
    def cards(self) -> str:
        body = cards_text([(s, m.mount_path or "", m.size) for s, m in self.entries], sample=self.sample)
        first, _, rest = body.partition("\n\n")
        return f"{LOCAL_INTRO}\n\n{rest}" if rest else body


class LocalFolder:
    """The working folder of one local session."""

    def __init__(self, workdir: str | Path) -> None:
        self.root = Path(workdir).expanduser().absolute()

    def check(self) -> Path:
        """Create the folder and prove it is writable; a one-line error before anything is sent."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".nb_agents_probe_"):
                pass
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise FileSyncError(f"--workdir {self.root}: not a writable folder ({why})") from None
        return self.root

    def prepare(self, inputs: Any, *, fmt: str = "parquet", sample: int = 5) -> LocalPrepared:
        """Write the inputs under `inputs/` (frames serialized, files copied); no API call."""
        self.check()
        prep = LocalPrepared(session_id=None, sample=max(0, int(sample)))
        for spec in expand_inputs(inputs, fmt=fmt):
            rel = f"{INPUTS_DIR}/{spec.mount_request.lstrip('/')}"
            target = self.root / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if spec.path is not None:
                    shutil.copyfile(spec.path, target)
                else:
                    target.write_bytes(spec.payload())
            except OSError as exc:
                raise FileSyncError(f"cannot write {spec.name} into {self.root}: {exc.strerror or exc}") from None
            size = target.stat().st_size
            prep.entries.append((spec, _Mount(spec.digest, "", size, mount_path=rel)))
            prep.report.append(ReportRow(spec.name, spec.kind, "written", size, rel))
        return prep

    def snapshot(self) -> dict[str, tuple[int, int]]:
        """Relative path -> (size, mtime_ns) of every file the agent may have written."""
        seen: dict[str, tuple[int, int]] = {}
        if not self.root.is_dir():
            return seen
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
            rel_dir = Path(folder).relative_to(self.root)
            if rel_dir.parts[:1] == (INPUTS_DIR,):
                continue
            for name in files:
                if name.startswith(".nb_agents_probe_"):
                    continue
                path = Path(folder) / name
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if path.is_symlink():
                    continue  # a link the agent made points anywhere: never read through it
                seen[(rel_dir / name).as_posix()] = (st.st_size, st.st_mtime_ns)
                if len(seen) >= _MAX_SCAN:
                    return seen
        return seen

    def outputs(self, before: dict[str, tuple[int, int]]) -> Outputs:
        """The files new or changed since `before`, as `Artifact`s (the file in place, no copy)."""
        out = Outputs()
        for rel, stamp in sorted(self.snapshot().items()):
            if before.get(rel) == stamp:
                continue
            path = self.root / rel
            try:
                digest = file_sha256(path)
            except OSError as exc:
                out.errors.append(f"{rel}: {exc.strerror or exc}")
                continue
            name = rel[len(OUTPUTS_DIR) + 1:] if rel.startswith(OUTPUTS_DIR + "/") else rel  # as in the cloud
            out[name] = Artifact(name, path, guess_mime(path), stamp[0], digest, file_id="")
        return out
