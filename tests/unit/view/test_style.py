"""Every colour of the view comes from a JupyterLab theme variable or from the text colour,
so that the view follows light and dark themes and still reads where no `--jp-*` variables
exist (measured in a real browser by tests/e2e/test_theme.py and test_nbconvert_render.py)."""

from __future__ import annotations

import re

from nb_agents.view.progress import Progress
from nb_agents.view.style import CSS

_LITERAL = re.compile(
    r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(|(?<![\w-])(?:white|black|red|green|blue|gray|grey|orange)(?![\w-])"
)
_COLOUR_PROPS = re.compile(
    r"(?:^|[;{])\s*(color|background(?:-color)?|border(?:-(?:left|right|top|bottom))?(?:-color)?)\s*:\s*([^;}]+)"
)


def _literals_outside_theme_fallbacks(css: str) -> list[str]:
    """Colour literals that are not the fallback of a `var(--jp-…, …)`."""
    bad = []
    for m in _LITERAL.finditer(css):
        before = css[: m.start()]
        if not re.search(r"var\(--jp-[\w-]+,\s*$", before):
            bad.append(css[max(0, m.start() - 40) : m.end() + 10])
    return bad


def test_view_css_colours_come_from_theme_variables_or_the_text_colour():
    assert _literals_outside_theme_fallbacks(CSS) == []
    decls = _COLOUR_PROPS.findall(CSS)
    assert len(decls) > 20
    for prop, value in decls:
        value = value.strip()
        assert "var(" in value or "currentColor" in value or value == "inherit", (prop, value)


def test_accents_are_mixed_with_the_text_colour_so_they_read_on_light_and_dark_pages():
    for name in ("err", "warn", "ok", "run"):
        decl = re.search(rf"--nba-{name}:([^;]+);", CSS).group(1)
        assert decl.startswith("color-mix(in srgb,var(--jp-") and decl.endswith("currentColor)"), decl
    assert "prefers-color-scheme" not in CSS  # the page's colours decide, not the reader's system
    assert "opacity:.6" not in CSS  # secondary text is a colour, not a faded element


def test_map_progress_bar_uses_theme_colours():
    html = Progress(total=4, done=2, failed=1, running=1, skipped=0, interrupted=0, spent_usd=0.1, elapsed=3.0, eta=None).html()
    assert _literals_outside_theme_fallbacks(html) == []
