"""LiveView in a real kernel (nbclient): what a saved notebook holds — the widget view with its
state, and a static text/plain + text/html copy of the transcript for viewers without widgets."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")

CELL = r"""
import threading, time
from nb_agents.events import event_from_json as E
from nb_agents.transcript import empty, fold
from nb_agents.view import LiveView

def ev(n, type_, **kw):
    return E({"type": type_, "id": f"sevt_{n}", "processed_at": f"2026-11-25T04:00:{n:02d}Z", **kw})

view = LiveView(empty(offline=True), title="kernel test")
print("mode", view.mode)
view.display()
t = fold(empty(offline=True), ev(1, "session.status_running"))

def worker():  # events arrive on a worker thread, as from the stream loop
    global t
    t = fold(t, ev(2, "user.message", content=[{"type": "text", "text": "Count rows"}]))
    use = ev(3, "agent.tool_use", name="bash", input={"command": "wc -l sales.csv"}, evaluated_permission="allow")
    t = fold(t, use)
    view.update(t)
    time.sleep(0.3)
    t = fold(t, ev(4, "agent.tool_result", tool_use_id=use.id, content=[{"type": "text", "text": "1001 sales.csv"}]))
    t = fold(t, ev(5, "agent.message", content=[{"type": "text", "text": "The file has **1,000** rows."}]))
    view.update(t)

th = threading.Thread(target=worker)
th.start()
th.join()
view.finish(fold(t, ev(6, "session.status_idle", stop_reason={"type": "end_turn"})))
"""


@pytest.mark.notebook
@pytest.mark.timeout(120)
def test_saved_notebook_holds_the_widget_and_the_static_copy():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(CELL))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    root = str(Path(__file__).resolve().parents[2])
    client = nbclient.NotebookClient(
        nb, timeout=60, kernel_name="python3", store_widget_state=True, resources={"metadata": {"path": root}}
    )
    client.execute()
    outputs = nb.cells[0].outputs
    assert outputs[0].output_type == "stream" and "mode widget" in outputs[0].text
    live = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    static = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(live) == 1 and len(static) == 1
    html, text = static[0].data["text/html"], static[0].data["text/plain"]
    assert "nba-static" in html and "<strong>1,000</strong>" in html and "kernel test" in html
    assert "The file has **1,000** rows." in text and "wc -l sales.csv" in text
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    values = " ".join(str(s["state"].get("value", "")) for s in state.values())
    assert "<strong>1,000</strong>" in values and ">idle<" in values and "1001 sales.csv" in values
    static_class = html.split('class="nba-static ', 1)[1].split('"', 1)[0]
    assert f".{static_class}{{display:none!important}}" in values
