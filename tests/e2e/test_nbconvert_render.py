"""A saved notebook converted by nbconvert, rendered in headless Chromium with the network cut
off: the static copy of the view shows the whole transcript and its text keeps WCAG AA contrast
(4.5:1) in the `lab` template (light and dark) and in the `classic` one, which defines no
`--jp-*` variables at all, and as a bare fragment on a dark and a light page (a viewer that keeps
our markup but not JupyterLab's stylesheet). Screenshots: build/e2e/nbconvert_<case>.png, the
measured figures beside them (.txt).

The checks that need no browser (self-contained copy, no widget-state dependency) are in
tests/notebooks/test_nbconvert_static.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from demo_turn import TEXTS, executed_demo, to_html, without_widgets

from .conftest import ARTIFACTS
from .contrast import AA, measure, table

# case -> (template, theme) for nbconvert, or a bare page's (background, text colour)
CASES = {
    "lab-light": ("lab", "light"),
    "lab-dark": ("lab", "dark"),
    "classic": ("classic", "light"),
    "bare-dark": ("#0d1117", "#e6edf3"),
    "bare-light": ("#ffffff", "#1f2328"),
}
_EXTERNAL = re.compile(r"^(https?|wss?)://")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return executed_demo(tmp_path_factory.mktemp("nbconvert_render"))


def _page_html(saved: Any, case: str) -> str:
    first, second = CASES[case]
    if not case.startswith("bare"):
        return to_html(without_widgets(saved), first, second)
    fragments = [
        o["data"]["text/html"] for c in saved.cells if c.cell_type == "code" for o in c.outputs
        if "nba-static" in o.get("data", {}).get("text/html", "")
    ]  # fmt: skip
    body = f"background:{first};color:{second};font-family:sans-serif;margin:16px"
    return f'<!DOCTYPE html><html><body style="{body}">{"".join(fragments)}</body></html>'


@pytest.mark.e2e
@pytest.mark.timeout(180)
@pytest.mark.parametrize("case", list(CASES))
def test_converted_notebook_is_readable_offline(saved: Any, case: str, browser_context: Any, tmp_path: Any) -> None:
    path = tmp_path / f"{case}.html"
    path.write_text(_page_html(saved, case))
    blocked: list[str] = []
    page = browser_context.new_page()
    try:
        page.route(_EXTERNAL, lambda route: (blocked.append(route.request.url), route.abort()))
        page.goto(path.as_uri(), wait_until="load", timeout=60_000)
        view = page.locator(".nba-static").first
        view.wait_for(state="visible", timeout=30_000)
        text = view.inner_text()
        assert all(t in text for t in TEXTS), text
        view.evaluate("el => el.querySelectorAll('details').forEach(d => d.open = true)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        view.screenshot(path=str(ARTIFACTS / f"nbconvert_{case}.png"), timeout=30_000)
        samples = measure(page, ".nba-static")
        report = table(samples)
        (ARTIFACTS / f"nbconvert_{case}.txt").write_text(report + f"\nblocked: {blocked}\n")
        assert len(samples) > 20 and min(s.ratio for s in samples) >= AA, report
        if case.startswith("bare"):
            assert blocked == []  # the static copy itself loads nothing (nbconvert's pages load their JS)
        if case in ("lab-dark", "bare-dark"):
            footer = next(s for s in samples if "nba-f" in s.where)
            assert sum(footer.bg) / 3 < 60, footer
    finally:
        page.close()
