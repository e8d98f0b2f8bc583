"""The one place HTML is made safe: agent markdown -> sanitized HTML, and `escape()`.

Agent text is untrusted. Markdown is rendered by markdown-it-py ("commonmark" + tables
and strikethrough) with raw HTML disabled, then the result goes through nh3 (ammonia)
with a small allow-list: no scripts, styles, frames, forms or event-handler attributes;
links and images only with absolute http/https URLs (and mailto for links). Everything
else the view shows is passed through `escape()`.
"""

from __future__ import annotations

import html as _html
from functools import lru_cache
from typing import Any

__all__ = ["markdown_to_html", "escape", "clean_html"]

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
