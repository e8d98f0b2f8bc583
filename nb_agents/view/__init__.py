"""The views: pure HTML/text renderers of a Transcript, the sanitizer, the live view of a run,
the progress view of a fan-out and the one flusher behind both.

Importing this package is cheap; ipywidgets is imported only when a LiveView is built
in widget mode.
"""

from __future__ import annotations

from .common import fmt_size
from .flusher import Flusher, on_main_thread
from .html import render_html
from .progress import Progress, ProgressView
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
    "Flusher",
    "on_main_thread",
    "Progress",
    "ProgressView",
]
