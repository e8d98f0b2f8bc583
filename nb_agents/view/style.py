"""The view's stylesheet: one small block of CSS, scoped to `nba-*` classes, sent once.

Every colour is a JupyterLab theme variable or derived from one, so the view follows the
light, dark and high-contrast themes (JupyterLab and Notebook 7). Accent colours (status,
errors, warnings, links) are the theme's colour mixed with the surrounding text colour
(`color-mix(…, currentColor)`): on a light page that darkens them, on a dark page it lightens
them, so their text stays readable (WCAG ≥ 4.5:1, checked by tests/e2e/test_theme.py) even
where the theme's own colour is too pale (the light theme's orange is 2.7:1 on white).
Secondary text is the text colour at 70 % alpha, never a fixed grey. Where no `--jp-*`
variables exist (a notebook converted by nbconvert's classic template, a page elsewhere)
the fallbacks are translucent or currentColor-based, so they adapt to whatever page the
static copy lands on; `prefers-color-scheme` is deliberately not used: it describes the
reader's system, not the page the copy is on (nbconvert's pages are white either way).
A browser without `color-mix` (before 2023) drops those declarations and shows plain text.
"""

from __future__ import annotations

__all__ = ["CSS", "style_tag", "hide_rule"]

# accent = 60 % theme colour + 40 % text colour (see the module docstring). Rules for `pre` are
# prefixed with `.nba` to outrank the host page's own (nbconvert classic: `div.output_area pre`).
_ACCENTS = {
    "err": "var(--jp-error-color1,#d32f2f)",
    "warn": "var(--jp-warn-color1,#f57c00)",
    "ok": "var(--jp-success-color1,#388e3c)",
    "run": "var(--jp-brand-color1,#1976d2)",
}
_VARS = "".join(f"--nba-{k}:color-mix(in srgb,{v} 60%,currentColor);" for k, v in _ACCENTS.items())

CSS = (
    """
.nba{"""
    + _VARS
    + """--nba-dim:color-mix(in srgb,currentColor 70%,transparent);
--nba-line:var(--jp-border-color1,color-mix(in srgb,currentColor 35%,transparent));
--nba-code-bg:var(--jp-cell-editor-background,color-mix(in srgb,currentColor 7%,transparent));
font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:var(--jp-content-font-size1,13px);
color:var(--jp-content-font-color1);line-height:1.45;max-width:100%;overflow-wrap:anywhere}
.nba a{color:var(--jp-content-link-color,var(--nba-run))}
.nba-h{display:flex;gap:.6em;align-items:center;flex-wrap:wrap;padding:2px 0}
.nba-st{font-weight:600}
.nba-st::before{content:"\\25CF";margin-right:.3em}
.nba-running::before{color:var(--nba-run)}.nba-idle::before{color:var(--nba-ok)}.nba-waiting::before{color:var(--nba-warn)}
.nba-rescheduling::before{color:var(--nba-warn)}.nba-error::before,.nba-interrupted::before,.nba-stopped::before{color:var(--nba-err)}
.nba-badge{border:1px solid currentColor;border-radius:3px;padding:0 .35em;font-size:85%;color:var(--nba-dim)}
.nba-dim{color:var(--nba-dim)}
.nba-dim .nba-dim,.nba-e .nba-dim,.nba-n .nba-dim,.nba-tl .nba-dim,.nba-th .nba-dim,.nba-f .nba-dim,.nba-sent summary .nba-dim{color:inherit}
.nba-u,.nba-m,.nba-tm,.nba-o,.nba-thr,.nba-n,.nba-e,.nba-in,.nba-img{margin:.35em 0}
.nba-u{border-left:3px solid var(--nba-line);padding-left:.6em;white-space:pre-wrap}
.nba-chip{display:inline-block;white-space:nowrap;font-family:var(--jp-code-font-family,monospace);font-size:90%;
padding:0 .4em;border-radius:var(--jp-border-radius,3px);border:1px solid var(--nba-line);
background:var(--jp-layout-color2,color-mix(in srgb,currentColor 12%,transparent));color:var(--jp-content-font-color1)}
.nba-sent{margin:.2em 0 0;white-space:normal;font-size:90%}.nba-sent summary{cursor:pointer;color:var(--nba-dim)}
.nba .nba-sent pre{background:var(--nba-code-bg);padding:4px 6px;max-height:16em;overflow:auto;white-space:pre-wrap;margin:.2em 0}
.nba-ins{margin:.2em 0;padding-left:1.4em}
.nba-m>:first-child{margin-top:0}.nba-m>:last-child{margin-bottom:0}
.nba-m table{border-collapse:collapse}.nba-m td,.nba-m th{border:1px solid var(--nba-line);padding:2px 6px}
.nba .nba-m pre,.nba .nba-t pre{background:var(--nba-code-bg);padding:4px 6px;overflow-x:auto;max-height:24em;white-space:pre-wrap;margin:.2em 0}
.nba pre,.nba code{color:inherit;font-family:var(--jp-code-font-family,monospace)}
.nba-cur::after{content:"\\258D";animation:nba-blink 1s steps(2) infinite}
@keyframes nba-blink{50%{opacity:0}}
.nba-t{margin:.15em 0;font-size:95%}.nba-tl{font-size:90%;margin:.15em 0;color:var(--nba-dim)}.nba-t summary{cursor:pointer}
.nba-tn{font-weight:600;font-family:var(--jp-code-font-family,monospace)}
.nba-t-error .nba-tn,.nba-t-denied .nba-tn,.nba-e{color:var(--nba-err)}
.nba-t-waiting .nba-tn{color:var(--nba-warn)}
.nba-t-done .nba-tn::before{content:"\\2713  ";color:var(--nba-ok)}
.nba-t-error .nba-tn::before,.nba-t-denied .nba-tn::before{content:"\\2717  "}
.nba-th{color:var(--nba-dim);font-style:italic;margin:.15em 0}
.nba-n-warning{color:var(--nba-warn)}.nba-n-error{color:var(--nba-err)}
.nba-sub{margin-left:1.2em;border-left:2px dotted var(--nba-line);padding-left:.5em}
.nba-f{color:var(--nba-dim);font-size:90%;border-top:1px solid var(--nba-line);padding-top:2px;margin-top:.3em}
.nba-stop{font-weight:600;margin:.3em 0}
.nba-img img{max-width:100%}.nba-img figcaption{color:var(--nba-dim);font-size:90%}
.nba-img{margin-left:0}
"""
)


def style_tag() -> str:
    return "<style>" + " ".join(line.strip() for line in CSS.strip().splitlines()) + "</style>"


def hide_rule(static_class: str) -> str:
    """CSS that hides a static copy of the transcript while the live widget is rendered
    (and, where `:has` is supported, the empty output row that would hold it)."""
    rows = f".jp-OutputArea-child:has(.{static_class}),.output_area:has(.{static_class})"
    return f"<style>.{static_class}{{display:none!important}}{rows}{{display:none!important}}</style>"
