"""Measuring text contrast in the page, as the reader sees it (WCAG 2 contrast ratio).

`measure(page, selector)` runs in the browser: for every visible element under the matches
of `selector` that holds text of its own (and for the glyphs the view draws with `::before`),
it takes the computed `color`, composites it (alpha × every ancestor's opacity) over the
element's effective background (the ancestors' computed backgrounds composited from the page's
canvas down), and returns the WCAG ratio. Colours are read through a 1×1 canvas, so any CSS
colour syntax the browser computes (`rgb()`, `color(srgb …)`, `color-mix` results) is understood.
Elements with a background image are skipped (their background is not one colour).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Sample", "measure", "worst", "table"]

AA = 4.5  # WCAG 2 AA for normal-size text

_MEASURE = r"""(selector) => {
  const ctx = (() => { const c = document.createElement('canvas'); c.width = c.height = 1;
                       return c.getContext('2d', {willReadFrequently: true}); })();
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data; return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, below) => {  // both [r,g,b,a]; `below` opaque
    const a = top[3]; return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                       return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const chain = (el) => { const out = []; for (let e = el; e && e.nodeType === 1; e = e.parentElement) out.unshift(e); return out; };
  const background = (el) => {  // canvas colour: the root's (or body's) background, else white
    let bg = [255, 255, 255, 1]; let bgImage = false;
    for (const e of chain(el)) {
      const s = getComputedStyle(e);
      if (s.backgroundImage && s.backgroundImage !== 'none') bgImage = true;
      bg = over(rgba(s.backgroundColor), bg);
    }
    return [bg, bgImage];
  };
  const opacity = (el) => chain(el).reduce((o, e) => o * parseFloat(getComputedStyle(e).opacity || '1'), 1);
  const visible = (el) => el.checkVisibility ? el.checkVisibility({visibilityProperty: true, opacityProperty: true})
                                              : !!el.getClientRects().length;
  const label = (el) => (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : el.tagName.toLowerCase());
  const path = (el, root) => { const p = []; for (let e = el; e && e !== root.parentElement; e = e.parentElement) p.unshift(label(e)); return p.slice(-3).join(' > '); };
  const out = [];
  for (const root of document.querySelectorAll(selector)) {
    if (!visible(root)) continue;
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (!visible(el) || ['STYLE', 'SCRIPT', 'IMG', 'svg'].includes(el.tagName)) continue;
      const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
      const [bg, bgImage] = background(el);
      if (bgImage) continue;
      const sample = (text, color, kind) => {
        const fg = rgba(color); fg[3] *= opacity(el);
        out.push({where: path(el, root), kind, text: text.slice(0, 40), color,
                  fg: over(fg, bg).slice(0, 3).map(Math.round), bg: bg.slice(0, 3).map(Math.round),
                  ratio: Math.round(ratio(over(fg, bg), bg) * 100) / 100});
      };
      if (own) sample(own, getComputedStyle(el).color, 'text');
      const before = getComputedStyle(el, '::before');
      const content = before.content;
      if (content && content !== 'none' && content !== 'normal' && content.replace(/["'\s]/g, ''))
        sample(content, before.color, '::before');
    }
  }
  return out;
}"""


@dataclass(frozen=True)
class Sample:
    where: str  # the element's last three class paths
    kind: str  # "text" or "::before"
    text: str
    color: str  # computed CSS colour
    fg: tuple[int, int, int]  # as seen (composited)
    bg: tuple[int, int, int]
    ratio: float


def measure(page: Any, selector: str) -> list[Sample]:
    raw = page.evaluate(_MEASURE, selector)
    return [
        Sample(r["where"], r["kind"], r["text"], r["color"], tuple(r["fg"]), tuple(r["bg"]), r["ratio"])
        for r in raw
    ]


def worst(samples: list[Sample], n: int = 5) -> list[Sample]:
    return sorted(samples, key=lambda s: s.ratio)[:n]


def table(samples: list[Sample]) -> str:
    """One line per sample, lowest ratio first: for the report and for failure messages."""
    rows = [f"{s.ratio:6.2f}  {s.kind:8} {s.where[:70]:70} {s.text[:30]!r}" for s in worst(samples, len(samples))]
    return "\n".join(rows)
