"""The view's stylesheet: one small block of CSS, scoped to `nba-*` classes, sent once.

Colours come from JupyterLab's theme variables (with fallbacks) or are translucent, so
the transcript reads well in light and dark themes alike.
"""

from __future__ import annotations

__all__ = ["CSS", "style_tag", "hide_rule"]

CSS = """
.nba{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:var(--jp-content-font-size1,13px);
color:var(--jp-content-font-color1,inherit);line-height:1.45;max-width:100%;overflow-wrap:anywhere}
.nba-h{display:flex;gap:.6em;align-items:center;flex-wrap:wrap;padding:2px 0}
.nba-st{font-weight:600}
.nba-st::before{content:"\\25CF";margin-right:.3em}
.nba-running::before{color:#2f8fdd}.nba-idle::before{color:#3a9c4a}.nba-waiting::before{color:#d29922}
.nba-rescheduling::before{color:#d29922}.nba-error::before,.nba-interrupted::before,.nba-stopped::before{color:#d9534f}
.nba-badge{border:1px solid currentColor;border-radius:3px;padding:0 .35em;font-size:85%;opacity:.75}
.nba-dim{opacity:.65}
.nba-u,.nba-m,.nba-tm,.nba-o,.nba-thr,.nba-n,.nba-e,.nba-in,.nba-img{margin:.35em 0}
.nba-u{border-left:3px solid #8884;padding-left:.6em;white-space:pre-wrap}
.nba-chip{display:inline-block;white-space:nowrap;font-family:var(--jp-code-font-family,monospace);font-size:90%;
padding:0 .4em;border-radius:var(--jp-border-radius,3px);border:1px solid var(--jp-border-color1,#8886);
background:var(--jp-layout-color2,#8882);color:var(--jp-content-font-color1,inherit)}
.nba-sent{margin:.2em 0 0;white-space:normal;font-size:90%}.nba-sent summary{cursor:pointer;opacity:.7}
.nba-sent pre{background:var(--jp-layout-color2,#8881);padding:4px 6px;max-height:16em;overflow:auto;white-space:pre-wrap;margin:.2em 0}
.nba-ins{margin:.2em 0;padding-left:1.4em}
.nba-m>:first-child{margin-top:0}.nba-m>:last-child{margin-bottom:0}
.nba-m table{border-collapse:collapse}.nba-m td,.nba-m th{border:1px solid #8886;padding:2px 6px}
.nba-m pre,.nba-t pre{background:#8881;padding:4px 6px;overflow-x:auto;max-height:24em;white-space:pre-wrap;margin:.2em 0}
.nba-cur::after{content:"\\258D";animation:nba-blink 1s steps(2) infinite}
@keyframes nba-blink{50%{opacity:0}}
.nba-t{margin:.15em 0;font-size:95%}.nba-tl{font-size:90%;opacity:.8;margin:.15em 0}.nba-tl code{opacity:.85}.nba-t summary{cursor:pointer}
.nba-tn{font-weight:600;font-family:var(--jp-code-font-family,monospace)}
.nba-t code{opacity:.85}
.nba-t-error .nba-tn,.nba-t-denied .nba-tn,.nba-e{color:#d9534f}
.nba-t-waiting .nba-tn{color:#d29922}
.nba-t-done .nba-tn::before{content:"\\2713  ";color:#3a9c4a}
.nba-t-error .nba-tn::before,.nba-t-denied .nba-tn::before{content:"\\2717  "}
.nba-th{opacity:.6;font-style:italic;margin:.15em 0}
.nba-n{opacity:.85}.nba-n-warning{color:#d29922}.nba-n-error{color:#d9534f}
.nba-sub{margin-left:1.2em;border-left:2px dotted #8886;padding-left:.5em}
.nba-f{opacity:.7;font-size:90%;border-top:1px solid #8884;padding-top:2px;margin-top:.3em}
.nba-stop{font-weight:600;margin:.3em 0}
.nba-img img{max-width:100%}.nba-img figcaption{opacity:.65;font-size:90%}
.nba-img{margin-left:0}
"""


def style_tag() -> str:
    return "<style>" + " ".join(line.strip() for line in CSS.strip().splitlines()) + "</style>"


def hide_rule(static_class: str) -> str:
    """CSS that hides a static copy of the transcript while the live widget is rendered
    (and, where `:has` is supported, the empty output row that would hold it)."""
    rows = f".jp-OutputArea-child:has(.{static_class}),.output_area:has(.{static_class})"
    return f"<style>.{static_class}{{display:none!important}}{rows}{{display:none!important}}</style>"
