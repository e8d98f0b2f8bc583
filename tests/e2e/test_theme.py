"""The view is readable in JupyterLab's dark and light themes and in Notebook 7.

Each case starts its own server (the theme is set in its private user settings, not by
clicking), runs a demo-like `%%agent` cell on the emulator (tests/helpers/demo_turn.py), opens
every folded detail, screenshots the cell (build/e2e/theme_<app>_<theme>.png) and measures,
in the page, the contrast of every piece of text in the view against its real background
(tests/e2e/contrast.py): all of it must reach WCAG AA (4.5:1). The measured figures are
written beside the screenshot (theme_<app>_<theme>.txt).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from demo_turn import AGENT_CELL, CELLS, TEXTS, write_scenario

from .conftest import ARTIFACTS
from .contrast import AA, measure, table
from .lab import THEMES, LabServer
from .notebook_page import NotebookPage, write_notebook

CASES = [("lab", "dark"), ("lab", "light"), ("notebook", "light")]
# every part of the view the issue names must have been measured
MUST_MEASURE = ("nba-st", "nba-badge", "nba-chip", "nba-sent", "nba-t-done", "nba-t-error", "nba-e",
                "nba-m", "nba-f", "nba-dim")  # fmt: skip
_THEME = "() => [document.body.dataset.jpThemeName, document.body.dataset.jpThemeLight]"


@pytest.fixture(scope="module", params=CASES, ids=[f"{a}-{t}" for a, t in CASES])
def themed(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    app, theme = request.param
    root = tmp_path_factory.mktemp(f"{app}_{theme}_root")
    state = tmp_path_factory.mktemp(f"{app}_{theme}_state")
    write_scenario(root)
    write_notebook(root / "demo.ipynb", CELLS)
    with LabServer(root, state, app=app, theme=theme) as server:
        yield server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{app}_{theme}.log").write_text(server.log_path.read_text(errors="replace"))


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_view_is_readable_in_theme(themed: LabServer, browser_context: Any) -> None:
    page = browser_context.new_page()
    try:
        nb = NotebookPage(page)
        nb.open(themed.url("demo.ipynb"))
        expected = THEMES[themed.theme]
        with contextlib.suppress(Exception):  # bounded wait; the assert below says what was seen
            page.wait_for_function(f"() => document.body.dataset.jpThemeName === {expected!r}", timeout=30_000)
        assert page.evaluate(_THEME) == [expected, "false" if themed.theme == "dark" else "true"]
        for index in range(len(CELLS)):
            nb.run(index)
            out = nb.wait_done(index, timeout=90)
        assert all(text in out for text in TEXTS), out
        cell = nb.cell(AGENT_CELL)
        cell.evaluate("el => { el.setAttribute('data-nba-e2e', ''); el.querySelectorAll('details').forEach(d => d.open = true); }")
        case = f"theme_{themed.app}_{themed.theme}"
        nb.screenshot(ARTIFACTS / f"{case}.png", index=AGENT_CELL)
        samples = measure(page, "[data-nba-e2e] .nba-live, [data-nba-e2e] .nba-static")
        report = table(samples)
        (ARTIFACTS / f"{case}.txt").write_text(report + "\n")
        seen = " ".join(s.where for s in samples)
        assert all(part in seen for part in MUST_MEASURE), ([p for p in MUST_MEASURE if p not in seen], report)
        assert min(s.ratio for s in samples) >= AA, report
        # the theme really is the page's: a dark theme gives the view a dark background
        footer = next(s for s in samples if "nba-f" in s.where)
        assert (sum(footer.bg) / 3 < 60) == (themed.theme == "dark"), footer
    finally:
        page.close()
