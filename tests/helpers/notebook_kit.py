"""Executing notebooks headless for the notebook tests (nbclient on a fresh python3 kernel) and
finding their cells by a piece of source."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
WIDGET = "application/vnd.jupyter.widget-view+json"


def execute_notebook(nb: Any, workdir: Path, *, timeout: int = 90, store_widget_state: bool = True) -> Any:
    """Run `nb` (in place; returned) top to bottom with `workdir` as its cwd and no API key.

    The kernel inherits the environment: PYTHONPATH makes this checkout importable even without
    `pip install -e`. Both variables are put back afterwards.
    """
    from nbclient import NotebookClient

    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "ANTHROPIC_API_KEY")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved["PYTHONPATH"]]))
    os.environ.pop("ANTHROPIC_API_KEY", None)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=store_widget_state,
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return nb


def execute_and_save(path: Path, workdir: Path) -> Any:
    """`execute_notebook` on the notebook at `path`, saved with its outputs into `workdir` as a
    user would save it, and read back from there."""
    import nbformat

    nb = execute_notebook(nbformat.read(path, as_version=4), workdir)
    nbformat.write(nb, workdir / path.name)
    return nbformat.read(workdir / path.name, as_version=4)


def cell_text(cell: Any) -> str:
    """What a cell printed: its streams and the `text/plain` of its other outputs."""
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)


def code_cell(nb: Any, needle: str) -> Any:
    """The first code cell whose source contains `needle`."""
    return next(c for c in nb.cells if c.cell_type == "code" and needle in c.source)
