"""A demo-like notebook turn that puts every part of the view on screen, for the theme and
nbconvert tests: a DataFrame attached with `{{sales}}` (a chip, and the text added for the
agent folded under one line), thinking, a tool call that succeeds and one that fails, an error
row the session survives, markdown with a link, a code block and a table, the status and the
footer. Runs on the built-in emulator through a scripted scenario (docs/emulator.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from notebook_kit import WIDGET

__all__ = ["SCENARIO", "CELLS", "AGENT_CELL", "TEXTS", "write_scenario", "executed_demo", "without_widgets", "to_html"]

SCENARIO = {
    "name": "theme_demo",
    "steps": [
        {"say": "I will profile the frame first.", "think": True},
        {"tool": "bash", "input": {"command": "echo rows=3 cols=2"}},
        {"tool": "read", "input": {"file_path": "/mnt/session/missing.csv"}},
        {"error": "repository_access_error", "retry_status": "retrying",
         "message": "could not clone the example repository"},
        {"say": "**Summary**: the frame has 3 rows. See [the docs](https://example.com/docs).\n\n"
                "```python\nsales.describe()\n```\n\n| month | revenue |\n|---|---|\n| Jan | 100 |"},
    ],
}  # fmt: skip

CELLS = [
    "%load_ext nb_agents\n%agent offline",
    "import pandas as pd\nsales = pd.DataFrame({'month': ['Jan', 'Feb', 'Mar'], 'revenue': [100, 120, 90]})",
    "%%agent --out run\n[[emulator: scenario theme_demo.json]]\nProfile {{sales}} and say what you find.",
]
AGENT_CELL = 2

# what the transcript must show, wherever it is rendered
TEXTS = ("offline emulator", "sales", "echo rows=3", "repository_access_error", "Summary", "sales.describe()")


def write_scenario(directory: Path) -> Path:
    """The scenario file the agent cell names, in the kernel's working directory."""
    path = directory / "theme_demo.json"
    path.write_text(json.dumps(SCENARIO))
    return path


def executed_demo(workdir: Path, *, timeout: int = 120) -> Any:
    """The demo notebook executed headless (nbclient, widget state stored), as saved."""
    import nbformat
    from notebook_kit import execute_notebook

    write_scenario(workdir)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    return execute_notebook(nb, workdir, timeout=timeout)


def without_widgets(nb: Any) -> Any:
    """A copy of `nb` as a viewer without widget support sees it: no widget state, no widget views."""
    out = copy.deepcopy(nb)
    out.metadata.pop("widgets", None)
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET not in o.get("data", {})]
    return out


def to_html(nb: Any, template: str, theme: str = "light") -> str:
    """`nb` converted by nbconvert's HTMLExporter (`lab` or `classic` template)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=template, theme=theme) if template == "lab" else HTMLExporter(
        template_name=template
    )
    return str(exporter.from_notebook_node(nb)[0])
