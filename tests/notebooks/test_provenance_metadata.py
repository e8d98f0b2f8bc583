"""A notebook executed by nbclient keeps each %%agent run's provenance in the metadata of the
static output the live view leaves (live runs, cached replays and `--replay` alike)."""

from __future__ import annotations

import nbformat
import pytest
from notebook_kit import ROOT, execute_notebook

from nb_agents.provenance import FIELDS

pytestmark = pytest.mark.notebook

CELLS = [
    "%load_ext nb_agents\n%agent offline",
    "import pandas as pd\nsales = pd.DataFrame({'region': ['n', 's'], 'units': [3, 4]})",
    "%%agent --record rec.jsonl --cache\n[[emulator: echo]]\nsummarise {{sales}}",
    "%%agent --new --cache\n[[emulator: echo]]\nsummarise {{sales}}",
    "%agent --replay rec.jsonl --instant",
]


def _provenance(cell) -> dict:
    (meta,) = [o.metadata["nb_agents"] for o in cell.outputs
               if o.output_type == "display_data" and "nb_agents" in o.get("metadata", {})]
    return meta


def test_agent_cells_carry_provenance_metadata(tmp_path, monkeypatch):
    monkeypatch.delenv("NB_AGENTS_VIEW", raising=False)  # the kernel shows the widget + static copy
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in CELLS])
    execute_notebook(nb, tmp_path, store_widget_state=False)
    nbformat.validate(nb)
    live, cached, replayed = (_provenance(nb.cells[i]) for i in (2, 3, 4))

    assert set(FIELDS) <= set(live)
    assert not [k for k in FIELDS if live[k] in (None, {}, "")], live
    assert live["session_id"].startswith("sesn_") and live["agent_id"] and live["environment_id"]
    assert live["agent_version"] >= 1 and live["model"] == "claude-sonnet-4-6"
    assert list(live["input_hashes"]) == ["sales"] and live["input_hashes"]["sales"]
    assert live["stop_reason"] == "end_turn" and live["usage"]["output_tokens"] > 0
    assert live["backend"] == "emulator" and live["cost_usd"] > 0
    assert live["started_at"].endswith("Z") and live["started_at"] <= live["ended_at"]

    # The re-executed cell replayed from the cache: same run, said where it came from.
    assert "Replayed from cache" in nb.cells[3].outputs[-1]["data"]["text/plain"]
    for prov in (cached, replayed):
        same = {k: prov[k] for k in FIELDS if k != "nb_agents_version"}
        assert same == {k: live[k] for k in FIELDS if k != "nb_agents_version"}
        assert prov["recorded_at"] and prov["replayed_from"].endswith(".jsonl")
    assert replayed["replayed_from"] == "rec.jsonl"

    # `make demo` (tools/run_notebooks.py) prints the transcripts it finds by that metadata.
    import runpy

    transcripts = runpy.run_path(str(ROOT / "tools" / "run_notebooks.py"))["_transcripts"](nb)
    assert len(transcripts) == 3 and all("summarise `sales`" in t for t in transcripts)
