"""Record/replay: JSONL cassettes, replay into the live view, the Run-All cache and export.
"""

from .cache import RunCache, run_cached
from .cassette import CassetteError, Recorder, files_dir, load_cassette
from .exporter import export
from .parts import ExportError, parts_of
from .playback import ReplayRun, outputs_dir_of, replay

__all__ = ["CassetteError", "ExportError", "export", "Recorder", "ReplayRun", "RunCache", "parts_of", "files_dir", "load_cassette", "outputs_dir_of", "replay", "run_cached"]
