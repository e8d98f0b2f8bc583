"""The one place HTML is made safe: agent markdown -> sanitized HTML, and `escape()`.

Agent text is untrusted. Markdown is rendered by markdown-it-py ("commonmark" + tables
and strikethrough) with raw HTML disabled, then the result goes through nh3 (ammonia)
with a small allow-list: no scripts, styles, frames, forms or event-handler attributes;
links and images only with absolute http/https URLs (and mailto for links). Everything
else the view shows is passed through `escape()`. `neutralize_controls()` is applied to every
rendered piece (HTML and text): tool output may hold NUL, terminal escapes, \r or BEL.
"""

from __future__ import annotations

import html as _html
import re
from functools import lru_cache
from typing import Any

__all__ = ["markdown_to_html", "escape", "clean_html", "neutralize_controls"]

_TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
_SCHEMES = frozenset({"http", "https", "mailto"})


# C0 controls except \t and \n, DEL, and the C1 range (\x9b is a one-byte CSI on some terminals)
_CONTROLS = re.compile(r"\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _picture(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\r\n":
        return "\n"
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
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


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
