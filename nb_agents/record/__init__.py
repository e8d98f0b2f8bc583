"""Record/replay: JSONL cassettes, replay into the live view, the Run-All cache and export.
"""

from .cache import RunCache, run_cached
from .cassette import CassetteError, Recorder, current_backend, files_dir, load_cassette
from .exporter import ExportError, export, export_command
from .playback import ReplayRun, outputs_dir_of, replay

__all__ = ["CassetteError", "ExportError", "export", "Recorder", "ReplayRun", "RunCache", "current_backend", "export_command", "files_dir", "load_cassette", "outputs_dir_of", "replay", "run_cached"]
