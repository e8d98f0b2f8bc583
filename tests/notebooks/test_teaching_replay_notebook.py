"""notebooks/04_teaching_with_replay.ipynb runs top to bottom with no key and no network backend."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "04_teaching_with_replay.ipynb"

pytestmark = pytest.mark.notebook


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(str(v) for k, v in (out.get("data") or {}).items() if k.startswith("text/"))
    return "\n".join(parts)


def test_teaching_notebook_replays_its_cassette(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in committed.cells if c.cell_type == "code")  # no stale outputs
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    shutil.copytree(ROOT / "notebooks" / "cassettes", tmp_path / "cassettes")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

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
