"""Benchmark: bytes a 2,000-event agent transcript adds to a saved .ipynb.

nbclient executes two small notebooks in a real kernel with `store_widget_state=True` (what
JupyterLab saves with "save widget state"): both load the extension and start the in-kernel
emulator; one also runs an `%%agent` cell whose scenario produces about 2,000 persisted events
(400 model requests, each a short markdown message plus a real `bash` call and its result).
The figure is the size difference of the two saved files: the widget state (the live view's
models) plus the cell's outputs (the static text/plain + text/html copy). Target <= 150 KB.

    python bench/bench_saved_size.py [--steps 400]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_KB = 150.0


def result_line(metric: str, value: float, unit: str, **extra: Any) -> str:
    return "RESULT " + json.dumps(
        {"bench": "saved_size", "metric": metric, "value": value, "unit": unit, **extra}
    )


def scenario(steps: int) -> dict[str, Any]:
    body = [
        {
            "tool": "bash",  # the first key is the step's kind; "say" rides along in the same request
            "input": {"command": f"echo 'row {i}: fine'"},
            "say": f"Step {i}: checking **column {i % 17}** of the table; the values look `ok` so far.",
        }
        for i in range(steps)
    ]
    body.append({"say": "## Summary\n\nEvery step passed. | step | ok |\n|---|---|\n| all | yes |"})
    return {"name": "saved_size", "steps": body}


COUNT_CELL = "'EVENTS %d' % (len(run.events) if 'run' in globals() else 0)"


def notebook(agent_cell: str | None) -> Any:
    """Set-up cell, [the agent cell], a cell reporting the run's persisted event count."""
    import nbformat

    cells = [nbformat.v4.new_code_cell("%load_ext nb_agents\n%agent offline")]
    if agent_cell is not None:
        cells.append(nbformat.v4.new_code_cell(agent_cell))
    cells.append(nbformat.v4.new_code_cell(COUNT_CELL))
    return nbformat.v4.new_notebook(cells=cells)


def execute(nb: Any, cwd: Path) -> bytes:
    import nbformat
    from nbclient import NotebookClient

    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()
    return nbformat.writes(nb).encode()


def parts(nb_bytes: bytes) -> dict[str, int]:
    nb = json.loads(nb_bytes)
    widgets = nb.get("metadata", {}).get("widgets", {})
    outputs = nb["cells"][1].get("outputs", [])
    sizes = {"widget_state": len(json.dumps(widgets)), "agent_outputs": len(json.dumps(outputs))}
    for mime in ("text/plain", "text/html"):  # the static copy, by representation
        sizes[f"static {mime}"] = sum(len(json.dumps(o.get("data", {}).get(mime, ""))) for o in outputs)
    return sizes


def event_count(nb_bytes: bytes) -> int:
    out = json.loads(nb_bytes)["cells"][-1]["outputs"][0]
    text = out["data"]["text/plain"]
    text = "".join(text) if isinstance(text, list) else text
    return int(text.strip("'").split()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nba-saved-size-") as tmp:
        cwd = Path(tmp)
        path = cwd / "saved_size.json"
        path.write_text(json.dumps(scenario(args.steps)))
        cell = f"%%agent -o run\n[[emulator: scenario {path}]]\nCheck the table step by step."
        with_agent = execute(notebook(cell), cwd)
        baseline = execute(notebook(None), cwd)  # the same notebook without the agent cell
    events = event_count(with_agent)
    added = len(with_agent) - len(baseline)
    detail = parts(with_agent)
    print(f"saved_size: agent cell with {events} persisted events")
    print(f"  notebook without the agent cell {len(baseline):,} B, with it {len(with_agent):,} B")
    print(f"  added {added / 1024:.1f} KB, target <= {TARGET_KB:g} KB; of which (JSON-encoded):")
    for key, size in detail.items():
        print(f"    {key:<18} {size / 1024:8.1f} KB")
    print(result_line("events", events, "events", target=">= 2000", met=events >= 2000))
    print(
        result_line(
            "added",
            round(added / 1024, 1),
            "KB",
            target=f"<= {TARGET_KB:g}",
            met=added / 1024 <= TARGET_KB,
            detail={k: round(v / 1024, 1) for k, v in detail.items()},
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
