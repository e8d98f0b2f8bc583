"""File sync between the kernel and a session: inputs (DataFrames, files) with their schema cards,
uploads with content-hash dedupe, outputs pulled into `Artifact`s under safe local names.
"""

from .artifacts import Artifact, load_path
from .inputs import expand_inputs
from .safe_names import clean_component
from .sync import FileSync, Outputs, written_output_paths

__all__ = ["Artifact", "FileSync", "Outputs", "clean_component", "expand_inputs", "load_path", "written_output_paths"]
