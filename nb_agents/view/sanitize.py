"""The one place HTML is made safe: agent markdown -> sanitized HTML, and `escape()`.

Agent text is untrusted. Markdown is rendered by markdown-it-py ("commonmark" + tables
and strikethrough) with raw HTML disabled, then the result goes through nh3 (ammonia)
with a small allow-list: no scripts, styles, frames, forms or event-handler attributes;
links only with absolute http/https/mailto URLs. Nothing loads from the network: an image in
agent markdown (`![alt](https://…)`, which could carry data out in its URL) becomes a link
`🖼 alt` the reader may click. Everything else the view shows is passed through `escape()`.
`inert_markdown()` does the same to markdown *source* kept as markdown (the `.md` and `.ipynb`
exports): raw HTML is escaped and images become links, so no renderer runs or loads anything. `neutralize_controls()` is applied to every
rendered piece (HTML and text): tool output may hold NUL, terminal escapes, \r or BEL.
"""

from __future__ import annotations

import html as _html
import re
from functools import lru_cache
from typing import Any

__all__ = ["markdown_to_html", "escape", "clean_html", "neutralize_controls", "inert_markdown"]

_TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
_SCHEMES = frozenset({"http", "https", "mailto"})


# C0 controls except \t and \n, DEL, and the C1 range (\x9b is a one-byte CSI on some terminals).
# One character class and nothing else: the regex engine then scans for it at memory speed (an
# alternation such as `\r\n|[...]` made every render ~3x slower: it runs on every piece shown).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _picture(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\r" and match.string.startswith("\n", match.end()):
        return ""  # CR LF becomes LF
    code = ord(ch)
    # U+2400..U+2421 "control pictures" show which control it was (␀ ␛ ␍ ␇ …); C1 has none
    return chr(0x2400 + code) if code < 0x20 else ("\u2421" if code == 0x7F else "\ufffd")


def neutralize_controls(text: str) -> str:
    """Control characters made visible and harmless: a tool's output must not clear, retitle
    or ring the user's terminal, nor put NUL into a saved notebook. CR LF becomes LF."""
    return _CONTROLS.sub(_picture, text)


def escape(value: Any, quote: bool = True) -> str:
    """HTML-escape any value; `quote=False` only for text nodes (never attributes)."""
    return _html.escape(str(value), quote=quote)


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # html=False: raw HTML in the source is rendered as text, never as markup
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_link)
    return md


def _image_as_link(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """An image is never loaded: it becomes a link to its URL (nh3 then keeps only http(s))."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    return f'<a href="{escape(token.attrGet("src") or "")}">\N{FRAME WITH PICTURE} {escape(alt, quote=False)}</a>'


@lru_cache(maxsize=1)
def _markdown_with_html() -> Any:
    from markdown_it import MarkdownIt

    # what a permissive renderer (Jupyter, an editor's preview) would take as raw HTML
    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])


def inert_markdown(text: str) -> str:
    """Markdown source that stays markdown but renders inert anywhere: raw HTML (blocks and inline
    tags) has its `<` escaped as `&lt;` (it shows as text) and images become links (`![a](u)` ->
    `[🖼 a](u)`), so nothing runs and nothing loads. Code blocks are left as they are."""
    for _ in range(8):  # to a fixed point: an edit never leaves a new construct behind
        done = _inert_once(text)
        if done == text:
            break
        text = done
    return text


def _inert_once(text: str) -> str:
    if not text or ("<" not in text and "![" not in text):
        return text
    lines = text.splitlines(keepends=True)
    for tok in _markdown_with_html().parse(text):
        if tok.map is None or tok.type not in ("html_block", "inline"):
            continue
        a, b = tok.map
        chunk = "".join(lines[a:b])
        if tok.type == "html_block":
            chunk = chunk.replace("<", "&lt;")
        else:
            children = tok.children or []
            for raw in {c.content for c in children if c.type == "html_inline"}:
                chunk = chunk.replace(raw, raw.replace("<", "&lt;"))
            if any(c.type == "image" for c in _walk(children)):
                chunk = chunk.replace("![", "[\N{FRAME WITH PICTURE} ")
        lines[a:b] = [chunk] + [""] * (b - a - 1)
    return "".join(lines)


def _walk(tokens: list[Any]) -> Any:
    for tok in tokens:
        yield tok
        yield from _walk(tok.children or [])


def clean_html(fragment: str) -> str:
    """Sanitize an HTML fragment with the view's allow-list."""
    import nh3

    return nh3.clean(
        fragment,
        tags=set(_TAGS),
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        url_schemes=set(_SCHEMES),
        # scripts and styles disappear with their content, not just their tags
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
        strip_comments=True,
        url_relative="deny",  # only absolute http(s)/mailto URLs; sandbox paths mean nothing here
        # open links outside the notebook
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


def markdown_to_html(text: str) -> str:
    """Untrusted markdown -> safe HTML."""
    if not text:
        return ""
    return clean_html(_markdown().render(str(text)))
