"""notebooks/03_custom_tools_and_approvals.ipynb runs headless (nbclient) on the emulator: the
agent calls kernel functions on a DataFrame, a raising tool answers is_error, an approval with
nobody to ask is denied, and a one-cent budget stops a run that resumes once raised."""

from __future__ import annotations

import nbformat
import pytest
from notebook_kit import NOTEBOOKS, code_cell, execute_notebook

NOTEBOOK = NOTEBOOKS / "03_custom_tools_and_approvals.ipynb"

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute_notebook(nbformat.read(NOTEBOOK, as_version=4), tmp_path_factory.mktemp("custom_tools"), timeout=120)


def _text(nb, needle):
    cell = code_cell(nb, needle)
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def test_no_cell_errors(executed):
    errors = [
        o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []


def test_tools_were_called_on_the_dataframe(executed):
    calls = _text(executed, "[(call.name, call.input, call.status) for call in run.tool_calls]")
    assert "('top_products', {'month': 3}, 'done')" in calls
    assert "('monthly_total', {'month': 3}, 'done')" in calls
    assert "'required': ['month']" in _text(executed, "as_tool(top_products).definition()")


def test_raising_tool_is_an_error_result(executed):
    out = _text(executed, "call = failed.tool_calls[0]")
    assert "error True" in out and "ValueError: no sales recorded for month 7" in out
    assert "Traceback" not in out


def test_kernel_tools_listed_the_variables(executed):
    out = _text(executed, "print(peek.tool_calls[0].result_text)")
    assert "sales\tpandas.DataFrame\t9 x 4" in out


def test_headless_approval_is_denied(executed):
    out = _text(executed, "[(call.name, call.status, call.deny_message) for call in asked.tool_calls]")
    assert "('bash', 'denied'" in out and "Could not ask for approval" in out


def test_budget_reached_then_resumed(executed):
    assert "'budget_reached'" in _text(executed, "capped.stop_reason")
    report = _text(executed, "raise_budget(budget_session.client")
    assert "budget              $1.00" in report and "cost (list price)" in report
