"""HTML checks shared by the view tests: which tags and attributes a sanitized page may hold."""

from __future__ import annotations

from html.parser import HTMLParser

SAFE_SCHEMES = ("http://", "https://", "mailto:")
FORBIDDEN_TAGS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "link",
    "meta",
    "base",
    "details",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_safe(html: str, allow: tuple[str, ...] = ()) -> None:
    for tag, attrs in tags_of(html):
        assert tag not in FORBIDDEN_TAGS - set(allow), (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, html)
            assert name not in ("style", "srcdoc", "formaction") or (
                name == "style" and tag in ("td", "th")
            ), html
            if name in ("href", "src"):
                # what a browser sees after entity decoding, case- and whitespace-insensitive
                url = "".join((value or "").split()).lower()
                assert url.startswith(SAFE_SCHEMES), (url, html)
