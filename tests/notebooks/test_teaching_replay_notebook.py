"""notebooks/04_teaching_with_replay.ipynb runs top to bottom with no key and no network backend."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from notebook_kit import NOTEBOOKS, execute_notebook

NOTEBOOK = NOTEBOOKS / "04_teaching_with_replay.ipynb"

pytestmark = pytest.mark.notebook


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(str(v) for k, v in (out.get("data") or {}).items() if k.startswith("text/"))
    return "\n".join(parts)


def test_teaching_notebook_replays_its_cassette(tmp_path):
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in committed.cells if c.cell_type == "code")  # no stale outputs
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    shutil.copytree(NOTEBOOKS / "cassettes", tmp_path / "cassettes")
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    execute_notebook(nb, tmp_path, timeout=60, store_widget_state=False)

    code = [c for c in nb.cells if c.cell_type == "code"]
    replay_cell = next(c for c in code if "nb_agents.replay(" in c.source)
    shown = _outputs_text(replay_cell)
    assert "Replay of a recording from" in shown and "offline emulator" in shown
    printed = _outputs_text(next(c for c in code if "print(run.text)" in c.source))
    assert "recorded 20" in printed and "output tokens" in printed
    provenance = _outputs_text(next(c for c in code if "provenance_from_run" in c.source))
    assert "replayed_from" in provenance and "'backend': 'emulator'" in provenance
    exported = nbformat.read(tmp_path / "profile_review.ipynb", as_version=4)
    nbformat.validate(exported)
    assert (tmp_path / "profile_review.html").read_text().startswith("<!DOCTYPE html>")
