"""notebooks/06_schedules_and_memory.ipynb runs headless (nbclient) on the emulator: a cell scheduled
(not run), updated under the same name, listed, triggered, its run brought home as a `Run`, paused,
resumed and unscheduled; then a memory store written from Python, mounted by a cell, read back."""

from __future__ import annotations

import re

import pytest
from notebook_kit import NOTEBOOKS, cell_text, code_cell, execute_and_save

NOTEBOOK = NOTEBOOKS / "06_schedules_and_memory.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("schedules")
    return execute_and_save(NOTEBOOK, workdir), workdir


@pytest.mark.notebook
def test_the_schedule_cells(executed):
    nb, workdir = executed
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    defined = cell_text(code_cell(nb, '--name morning-report\n'))
    assert re.match(r"scheduled 'morning-report' \(depl_\w+\): '0 8 \* \* 1-5' in Europe/Paris; "
                    r"next: (\w{3} \d\d \w{3} 08:00 CE[S]?T, ){2}\w{3} \d\d \w{3} 08:00 CE[S]?T;", defined), defined
    assert cell_text(code_cell(nb, "--max-usd 1")).startswith("updated 'morning-report' (")
    listing = cell_text(code_cell(nb, "%agent schedules"))
    assert re.search(r"morning-report\s+0 8 \* \* 1-5 \(Europe/Paris\)\s+\w{3} \d\d \w{3} 08:00 CE[S]?T\s+no", listing)
    assert "triggered 'morning-report': run drun_" in cell_text(code_cell(nb, "%agent trigger"))


@pytest.mark.notebook
def test_the_run_comes_home_as_a_run(executed):
    nb, workdir = executed
    shown = code_cell(nb, "run = nb_agents.runs(")
    (out,) = [o for o in shown.outputs if o.output_type == "execute_result"]
    assert "text/html" in out["data"] and "nb_agents" in out.get("metadata", {})  # the view of a cell, provenance
    assert "you: Profile `sales`" in out["data"]["text/plain"]
    summary = cell_text(code_cell(nb, "run.stop_reason"))
    assert summary.startswith("end_turn: $0.0") and "'sales_profile.csv'" in summary and "128.95" in summary
    sid = re.search(r"sesn_\w+", cell_text(code_cell(nb, "%agent runs"))).group(0)
    assert (workdir / "agent_outputs" / sid / "sales_profile.csv").is_file()


@pytest.mark.notebook
def test_pause_resume_unschedule(executed):
    nb, _ = executed
    paused = cell_text(code_cell(nb, "%agent pause"))
    assert "paused 'morning-report'" in paused and re.search(r"morning-report .* yes\s+idle\s+\$0\.0", paused)
    assert cell_text(code_cell(nb, "%agent resume")).startswith("resumed 'morning-report': next ")
    assert "no schedules yet" in cell_text(code_cell(nb, "%agent unschedule"))


@pytest.mark.notebook
def test_the_memory_cells(executed):
    nb, _ = executed
    assert "/conventions.md" in cell_text(code_cell(nb, 'project = nb_agents.memory("project")'))
    shown = code_cell(nb, "%%agent -s memo --memory project")
    assert "(memory)" in cell_text(shown)  # the agent's tool calls on /mnt/memory are marked
    history = cell_text(code_cell(nb, 'print(project.read("/learned.md"))'))
    assert "/learned.md" in history and "session sesn_" in history
    assert "- revenue is reported in EUR" in history
    assert cell_text(code_cell(nb, "%agent vaults")).startswith("0 vaults\nnone yet: %agent vault add NAME --mcp URL")
