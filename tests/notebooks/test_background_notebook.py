"""notebooks/05_background_and_fanout.ipynb runs headless (nbclient) on the emulator: a `--bg` run
while other cells run, Stop, a waiting cell that leaves the static transcripts, and fan-outs."""

from __future__ import annotations

import re

import pytest
from notebook_kit import NOTEBOOKS, WIDGET, cell_text, code_cell, execute_and_save

NOTEBOOK = NOTEBOOKS / "05_background_and_fanout.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute_and_save(NOTEBOOK, tmp_path_factory.mktemp("background"))


@pytest.mark.notebook
def test_no_errors_and_the_bg_cell_shows_a_live_view(executed):
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    bg = code_cell(executed, "--bg --session slow")
    assert any(WIDGET in o.get("data", {}) for o in bg.outputs)  # the live view, displayed at once
    assert "job done? False" in cell_text(code_cell(executed, "job done?"))  # ran while the agent worked


@pytest.mark.notebook
def test_waiting_cell_holds_static_transcripts_and_stop_worked(executed):
    waited = code_cell(executed, "%agent wait")
    htmls = [o["data"]["text/html"] for o in waited.outputs if "text/html" in o.get("data", {})]
    assert len(htmls) == 2  # both background runs, readable without widget state
    joined = "\n".join(htmls)
    assert "A quick answer, from the background." in joined and "offline emulator" in joined.lower()
    assert "stopping the background run of session 'slow'" in cell_text(code_cell(executed, "%agent interrupt slow"))
    printed = cell_text(code_cell(executed, "print(job.stop_reason"))
    assert printed.startswith("interrupted end_turn")
    state = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert state


@pytest.mark.notebook
def test_fanout_cells(executed):
    per_row = cell_text(code_cell(executed, 'per_row[["status"'))
    assert per_row.count("done") == 5 and "In 2024-02 region south made 101.5." in per_row
    by_region = cell_text(code_cell(executed, "by_region.status.value_counts()"))
    # value_counts of three regions, all done: exactly one row, "done  3" (not any "3" in the text)
    assert re.findall(r"^(\w+)\s+(\d+)$", by_region, re.M) == [("done", "3")], by_region
    mixed = cell_text(code_cell(executed, 'mixed[["status", "error"]]'))
    assert "failed" in mixed and "terminated" in mixed
    progress = code_cell(executed, "--map sales")
    assert any(WIDGET in o.get("data", {}) for o in progress.outputs)  # the progress view
    assert any("5/5 finished" in o.get("data", {}).get("text/plain", "") for o in progress.outputs)
