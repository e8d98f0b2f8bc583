"""notebooks/02_dataframes_and_artifacts.ipynb runs headless on the emulator, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from notebook_kit import NOTEBOOKS, code_cell, execute_notebook

NOTEBOOK = NOTEBOOKS / "02_dataframes_and_artifacts.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    workdir = tmp_path_factory.mktemp("dataframes")
    return execute_notebook(nbformat.read(NOTEBOOK, as_version=4), workdir), workdir


def text_of(nb: Any, needle: str) -> str:
    cell = code_cell(nb, needle)
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
        ".nb_agents.json", ".nb_agents_versions", "sales_hist.png", "sales_profile.csv"]
    # later turns rewrote both files: the earlier turns' copies are kept by content
    kept = sorted(p.suffix for p in (workdir / "agent_outputs" / "default" / ".nb_agents_versions").iterdir())
    assert kept == [".csv", ".png"]
