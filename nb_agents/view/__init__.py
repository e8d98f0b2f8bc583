"""The views of a Transcript: pure HTML/text renderers, the sanitizer, the live widget.

Importing this package is cheap; ipywidgets is imported only when a LiveView is built
in widget mode.
"""

from __future__ import annotations

from .common import fmt_size
from .html import render_html
from .sanitize import escape, markdown_to_html
from .text import render_text
from .widget import LiveView, detect_mode, static_bundle

__all__ = [
    "render_html",
    "render_text",
    "escape",
    "markdown_to_html",
    "LiveView",
    "detect_mode",
    "static_bundle",
    "fmt_size",
]
