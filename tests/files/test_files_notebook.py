"""notebooks/02_dataframes_and_artifacts.ipynb runs headless on the emulator, end to end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_dataframes_and_artifacts.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from nbclient import NotebookClient

    root = str(NOTEBOOK.parents[1])
    env = {"PYTHONPATH": os.environ.get("PYTHONPATH"), "ANTHROPIC_API_KEY": os.environ.get("ANTHROPIC_API_KEY")}
    os.environ["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env["PYTHONPATH"] else "")
    os.environ.pop("ANTHROPIC_API_KEY", None)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("dataframes")
    try:
        NotebookClient(nb, timeout=90, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb, workdir


def text_of(nb: Any, needle: str) -> str:
    cell = next(c for c in nb.cells if c.cell_type == "code" and needle in c.source)
    parts = []
    for out in cell.outputs:
        parts.append(out.get("text", "") if out.output_type == "stream" else out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.notebook
def test_notebook_round_trip(executed: tuple[Any, Path]) -> None:
    nb, workdir = executed
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert "profile matches pandas" in text_of(nb, 'print("profile matches pandas")')
    assert "[('sales', 'unchanged')]" in text_of(nb, "print(sent(again))")
    assert "[('sales', 'replaced')]" in text_of(nb, "print(sent(changed))")
    image_cell = next(c for c in nb.cells if c.cell_type == "code" and c.source == 'run.outputs["sales_hist.png"]')
    assert any("image/png" in o.get("data", {}) for o in image_cell.outputs)
    assert sorted(p.name for p in (workdir / "agent_outputs" / "default").iterdir()) == [
        ".nb_agents.json", "sales_hist.png", "sales_profile.csv"]
