"""A LONG `%%agent` run in a real JupyterLab: after the view's hand-over (nb_agents/view/widget.py,
`LiveView._hand_over`) the transcript must show exactly once — the widget empties and the static
copy, hidden while the widget rendered, takes its place — both live and after save + reload.
Screenshots: build/e2e/long_run_after.png and build/e2e/long_run_reloaded.png.
"""

from __future__ import annotations

import json
import time

import pytest

from .conftest import ARTIFACTS
from .notebook_page import NotebookPage, wait_until

MARKER = "Zanzibar-quokka-7731"  # appears once in the transcript, in the last message
PARAGRAPH = (
    "This long run exists to push the transcript past the hand-over threshold, so that the finished "
    "view is saved once as static HTML instead of twice. "
)
STEPS: list[dict[str, object]] = [{"say": "Starting the long survey. " + PARAGRAPH * 3}, {"delay": 0.5}]
for i in range(12):
    STEPS.append({"tool": "bash", "input": {"command": f"echo step {i}"}, "say": f"Step {i}: checking."})
    STEPS.append({"say": f"Step {i} done. " + PARAGRAPH * 10})
    STEPS.append({"delay": 0.15})
STEPS.append({"say": f"**Final summary** {MARKER}: all twelve steps ran."})
SETUP = "%load_ext nb_agents\n%agent offline"
CELL = "%%agent\n[[emulator: scenario e2e_long_run.json]]\nRun the long survey."

# visible text nodes containing the marker, inside the cell's output area
_COUNT_VISIBLE = """([index, marker]) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
  const out = cell && cell.querySelector('.jp-OutputArea');
  if (!out) return -1;
  const walker = document.createTreeWalker(out, NodeFilter.SHOW_TEXT);
  let n = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.nodeValue.includes(marker)) continue;
    const el = node.parentElement;
    const r = el.getBoundingClientRect();
    if (el.checkVisibility({checkVisibilityCSS: true, checkOpacity: true}) && r.width > 0 && r.height > 0) n++;
  }
  return n;
}"""


def _visible_marker_count(nb: NotebookPage, index: int) -> int:
    return int(nb.page.evaluate(_COUNT_VISIBLE, [index, MARKER]))


def _visible_footers(nb: NotebookPage, index: int) -> list[str]:
    footers = nb.cell(index).locator(".nba-f")
    return [footers.nth(i).inner_text() for i in range(footers.count()) if footers.nth(i).is_visible()]


def _watch_widget(nb: NotebookPage, index: int, timeout: float) -> list[int]:
    """Lengths of the live widget's text seen while the cell showed `[*]`."""
    lengths: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prompt = nb.prompt(index)
        if "[*]" not in prompt and prompt.strip("[]: "):
            return lengths
        live = nb.cell(index).locator(".nba-live")
        if "[*]" in prompt and live.count():
            size = len(live.first.inner_text())
            if size and (not lengths or size != lengths[-1]):
                lengths.append(size)
        time.sleep(0.1)
    raise AssertionError(f"cell {index} still running after {timeout:.0f} s; seen {lengths}")


def _assert_shown_once(nb: NotebookPage, index: int) -> None:
    wait_until(lambda: _visible_marker_count(nb, index) >= 1, 20, "the transcript to show")
    assert _visible_marker_count(nb, index) == 1
    footers = _visible_footers(nb, index)
    assert len(footers) == 1 and "tokens" in footers[0], footers
    # handed over: the static copy shows, the widget is empty
    static = nb.cell(index).locator(".nba-static")
    assert [static.nth(i).is_visible() for i in range(static.count())] == [True]
    live = nb.cell(index).locator(".nba-live")
    assert all(MARKER not in live.nth(i).inner_text() for i in range(live.count()))
    text = nb.output_text(index)
    assert "Starting the long survey" in text and "Step 11 done" in text


def _save_widget_state(lab) -> None:  # type: ignore[no-untyped-def]
    """Turn on the widget manager's "save widget state" (off by default), read at page load,
    so that the reload below has the widget state, as a user who saved it would."""
    folder = lab.log_path.parent / "settings" / "@jupyter-widgets" / "jupyterlab-manager"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plugin.jupyterlab-settings").write_text(json.dumps({"saveState": True}))


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_long_run_hands_over_and_shows_once_live_and_after_reload(lab, open_notebook) -> None:  # type: ignore[no-untyped-def]
    _save_widget_state(lab)
    (lab.root_dir / "e2e_long_run.json").write_text(json.dumps({"name": "e2e_long_run", "steps": STEPS}))
    nb = open_notebook("long_run.ipynb", [SETUP, CELL])
    nb.run(0)
    assert "offline emulator running" in nb.wait_done(0, timeout=60)

    nb.run(1)
    lengths = _watch_widget(nb, 1, timeout=90)
    # the widget streamed: it grew while the cell ran (its last sample may come after the hand-over
    # to the static copy, which empties the widget before the prompt leaves `[*]`)
    assert len(set(lengths)) >= 3 and max(lengths) > lengths[0] + 1000, lengths
    _assert_shown_once(nb, 1)
    nb.screenshot(ARTIFACTS / "long_run_after.png", index=1)

    nb.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    saved = lab.root_dir / "long_run.ipynb"
    wait_until(lambda: MARKER in saved.read_text(), 20, "the notebook to be saved")
    state = json.loads(saved.read_text())["metadata"].get("widgets", {})
    assert "application/vnd.jupyter.widget-state+json" in state
    # saved once: the transcript is in the static copy only, the widget state holds none of it
    assert MARKER not in json.dumps(state)

    nb.page.reload(wait_until="domcontentloaded")
    nb.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    _assert_shown_once(nb, 1)
    # the saved widget state restores the (empty) widget: no lingering "Loading widget..."
    wait_until(lambda: "Loading widget" not in nb.output_text(1), 20, "the widget to load from saved state")
    _assert_shown_once(nb, 1)
    nb.screenshot(ARTIFACTS / "long_run_reloaded.png", index=1)
