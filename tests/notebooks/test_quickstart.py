"""notebooks/01_quickstart.ipynb runs headless (nbclient) on the emulator; its saved outputs hold
the widget view and the static transcript."""

from __future__ import annotations

import nbformat
import pytest
from notebook_kit import NOTEBOOKS, WIDGET, code_cell, execute_notebook

NOTEBOOK = NOTEBOOKS / "01_quickstart.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute_notebook(nbformat.read(NOTEBOOK, as_version=4), tmp_path_factory.mktemp("quickstart"))


def _outputs(nb, needle):
    return code_cell(nb, needle).outputs


@pytest.mark.notebook
def test_quickstart_executes_with_live_and_static_views(executed):
    outs = _outputs(executed, "%%agent --out run")
    kinds = [set(o.get("data", {})) for o in outs if o.output_type == "display_data"]
    assert any(WIDGET in k for k in kinds), kinds  # the live view
    static = [o for o in outs if o.output_type == "display_data" and "text/html" in o.get("data", {})]
    assert static, kinds  # the static transcript, for viewers without widget state
    assert "offline emulator" in static[-1]["data"]["text/html"].lower()
    assert static[-1]["data"]["text/plain"].strip()
    state = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert state  # widget state saved with the notebook


@pytest.mark.notebook
def test_quickstart_cells_see_the_results(executed):
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    dry = _outputs(executed, "%%agent --dry-run")
    text = "".join(o.get("data", {}).get("text/plain", "") for o in dry)
    assert "target is 150" in text and "month and revenue" in text and "nothing sent" in text
    assert "would upload: sales (pandas DataFrame, will upload)" in text
    printed = "".join(o.get("text", "") for o in _outputs(executed, "print(run.stop_reason"))
    assert printed.startswith("end_turn True")
    assert "'sales_hist.png'" in printed and "'sales_profile.csv'" in printed  # outputs came back
    status = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                     for o in _outputs(executed, "%agent status"))
    assert "offline emulator" in status and "status idle" in status and "turns 2" in status
