"""A saved notebook's static copy of the view, converted by nbconvert (HTMLExporter, `lab` and
`classic` templates): the transcript is there without widget state, nothing in it loads from
the network, and nothing hides it once the widget is gone.

The browser half (the converted pages rendered in headless Chromium, their colours measured
without any `--jp-*` variables, screenshots) is tests/e2e/test_nbconvert_render.py.
"""

from __future__ import annotations

import re

import pytest
from demo_turn import TEXTS, executed_demo, to_html, without_widgets
from html_checks import tags_of
from notebook_kit import WIDGET

pytest.importorskip("nbconvert")

TEMPLATES = ("lab", "classic")
_LOADS = {"script": "src", "img": "src", "link": "href", "iframe": "src", "source": "src", "video": "src",
          "audio": "src", "object": "data", "embed": "src"}  # fmt: skip


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return executed_demo(tmp_path_factory.mktemp("nbconvert"))


def _static_outputs(nb) -> list[str]:
    return [
        o["data"]["text/html"]
        for cell in nb.cells if cell.cell_type == "code"
        for o in cell.outputs
        if "text/html" in o.get("data", {}) and "nba-static" in o["data"]["text/html"]
    ]  # fmt: skip


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.notebook
def test_saved_notebook_holds_a_self_contained_static_copy(saved):
    [static] = _static_outputs(saved)
    assert all(t in _text(static) for t in TEXTS), static
    assert 'class="nba-chip"' in static and "<details" in static  # the {{sales}} chip, the folded text
    for tag, attrs in tags_of(static):
        url = attrs.get(_LOADS.get(tag, ""), None)
        assert url is None or url.startswith("data:"), (tag, attrs)  # nothing is fetched
    assert not re.search(r"url\(|@import", static), "the stylesheet loads nothing"
    # the rule that hides the copy while the widget shows lives in the widget, not in the copy
    uid = re.search(r"nba-static-[0-9a-f]+", static).group(0)
    assert f".{uid}{{display:none" not in static


@pytest.mark.notebook
@pytest.mark.parametrize("template", TEMPLATES)
def test_nbconvert_html_shows_the_transcript_without_widget_state(saved, template):
    bare = to_html(without_widgets(saved), template)
    assert WIDGET not in bare and "widget-state" not in bare
    # with no widget state left, the transcript on the page can only come from the static copy
    shown = _text(bare[bare.index('class="nba-static '):])
    assert all(t in shown for t in TEXTS), shown
    assert "display:none" not in bare[bare.index('class="nba-static '):]  # and nothing hides it
    # with the widget state, the same copy is there too (a viewer that cannot load widget JS shows it)
    with_state = to_html(saved, template)
    assert 'class="nba-static ' in with_state and WIDGET in with_state
    if template == "classic":  # the page a classic viewer shows has no JupyterLab theme variables
        assert "--jp-layout-color0:" not in bare
