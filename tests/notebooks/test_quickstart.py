"""notebooks/01_quickstart.ipynb runs headless (nbclient) on the emulator; its saved outputs hold
the widget view and the static transcript."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_quickstart.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    import os

    from nbclient import NotebookClient

    # The kernel inherits the environment: make the package importable even without `pip install -e`.
    root = str(NOTEBOOK.parents[1])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = root + (os.pathsep + old if old else "")
    os.environ.pop("ANTHROPIC_API_KEY", None)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("quickstart")
    client = NotebookClient(nb, timeout=90, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return nb


def _outputs(nb, needle):
    cell = next(c for c in nb.cells if c.cell_type == "code" and needle in c.source)
    return cell.outputs


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
