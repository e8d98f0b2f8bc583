"""`%%agent` in a real JupyterLab, in headless Chromium, on the built-in emulator.

The prompts carry a `[[emulator: scenario FILE]]` directive: scripted turns (docs/emulator.md)
whose text streams with pauses, so the test can see the view grow while the cell is `[*]`,
see the tool row and the footer, and interrupt a long turn from the toolbar.
The screenshot the README shows is written to build/e2e/agent_cell.png.
"""

from __future__ import annotations

import json
import time

import pytest

from .conftest import ARTIFACTS
from .notebook_page import NotebookPage, wait_until

PARAGRAPH = (
    "Streaming is the point of this view: each word arrives from the emulator as a delta, "
    "is folded into the transcript and shows up in the notebook while the cell is still running. "
)
STREAM_STEPS = [
    {"say": "Reading the question first. " + PARAGRAPH * 3},
    {"delay": 1.0},
    {"tool": "bash", "input": {"command": "echo hello from the sandbox"}, "say": "Let me check the sandbox."},
    {"delay": 1.0},
    {"say": "The sandbox answered. " + PARAGRAPH * 4},
    {"delay": 1.0},
    {"say": "**Summary**: the command printed `hello from the sandbox`."},
]
LONG_STEPS = [
    {"say": "Starting a long job now."},
    {"delay": 120},
    {"say": "THIS TEXT MUST NEVER APPEAR."},
]
SETUP = "%load_ext nb_agents\n%agent offline"
STREAM_CELL = "%%agent\n[[emulator: scenario e2e_stream.json]]\nCheck the sandbox and explain what you did."
LONG_CELL = "%%agent\n[[emulator: scenario e2e_long.json]]\nStart the long job."


def _watch_streaming(nb: NotebookPage, index: int, timeout: float) -> list[int]:
    """Lengths of the view's text seen while the cell showed `[*]`, until it finished."""
    lengths: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prompt, text = nb.snapshot(index)
        if "[*]" not in prompt and prompt.startswith("[") and prompt.strip("[]: "):
            return lengths
        if "[*]" in prompt and text.strip() and (not lengths or len(text) != lengths[-1]):
            lengths.append(len(text))
        time.sleep(0.1)
    raise AssertionError(f"cell {index} still running after {timeout:.0f} s; seen lengths {lengths}")


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_agent_cell_streams_shows_tools_and_footer_and_interrupts(lab, open_notebook) -> None:  # type: ignore[no-untyped-def]
    (lab.root_dir / "e2e_stream.json").write_text(json.dumps({"name": "e2e_stream", "steps": STREAM_STEPS}))
    (lab.root_dir / "e2e_long.json").write_text(json.dumps({"name": "e2e_long", "steps": LONG_STEPS}))
    nb = open_notebook("agent.ipynb", [SETUP, STREAM_CELL, LONG_CELL])

    nb.run(0)
    assert "offline emulator running" in nb.wait_done(0, timeout=60)

    nb.run(1)
    lengths = _watch_streaming(nb, 1, timeout=90)
    # the view changed at least three times while the cell was still [*], and grew: text streamed in
    # (not required to be monotonic: a status label may get shorter, e.g. "running" -> "done")
    assert len(set(lengths)) >= 3 and max(lengths) > lengths[0] + 500, lengths
    view = nb.cell(1).locator(".nba-live")
    assert view.count() == 1
    # the static fallback (for saved notebooks) is in the output but hidden while the widget shows
    static = nb.cell(1).locator(".nba-static")
    assert all(not static.nth(i).is_visible() for i in range(static.count()))
    tool_rows = view.locator(".nba-t")
    assert tool_rows.count() == 1 and "bash" in tool_rows.first.inner_text()
    assert "tokens" in view.locator(".nba-f").inner_text()
    assert "offline emulator" in view.inner_text() and "hello from the sandbox" in view.inner_text()
    nb.screenshot(ARTIFACTS / "agent_cell.png", index=1)

    nb.run(2)
    wait_until(
        lambda: nb.running(2) and "Starting a long job" in nb.output_text(2), 60, "the long turn to start"
    )
    how = nb.interrupt()
    started = time.monotonic()
    out = nb.wait_done(2, timeout=30)
    stopped_in = time.monotonic() - started
    assert "interrupted" in out.lower(), out
    assert "THIS TEXT MUST NEVER APPEAR" not in out and "Traceback" not in out
    assert how == "toolbar" and stopped_in < 15, (how, stopped_in)
    nb.screenshot(ARTIFACTS / "agent_interrupted.png", index=2)
