"""Export a conversation as a notebook (.ipynb), Markdown (.md) or a self-contained HTML page.

A source (events, a Transcript, a Run/ReplayRun, a Cassette or a cassette path) is first
flattened into `Part`s (`parts.py`); the writers (`writers.py`) only see Parts. In the notebook,
bash calls become code cells whose outputs are the tool's result; other tools are collapsible
markdown. Images are inline everywhere. Every text written (messages, tool inputs and results,
title, provenance) is scrubbed of secrets by `nb_agents.scrub` first: exports are the files
people share.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from .. import provenance
from ..errors import ConfigError
from ..scrub import scrub, scrub_text
from . import writers as w
from .cassette import load_cassette
from .parts import ExportError, Part, parts_of
from .paths import check_writable

__all__ = ["export"]

FORMATS = (".ipynb", ".md", ".html")



def export(source: Any, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Write the conversation in `source` to `path`; the format follows the suffix."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"Cannot export to {target.name}: use a .ipynb, .md or .html path")
    try:
        target = check_writable(target, "export")
    except ConfigError as exc:
        raise ExportError(str(exc)) from None
    if isinstance(source, (str, os.PathLike)):
        source = load_cassette(source)
    parts = parts_of(source)
    if not parts:
        raise ExportError("Nothing to export: the conversation has no messages yet")
    title = scrub_text(title or _title_of(source))
    writer = {".ipynb": w.write_ipynb, ".md": w.write_markdown, ".html": w.write_html}[suffix]
    target.parent.mkdir(parents=True, exist_ok=True)
    writer([_scrubbed(p) for p in parts], target, title=title, metadata=scrub(_provenance_of(source)))
    return target


def _scrubbed(part: Part) -> Part:
    """The Part with its texts and tool input scrubbed (images are left as they are)."""
    return dataclasses.replace(part, text=scrub_text(part.text), name=scrub_text(part.name),
                               input=scrub(part.input), output=scrub_text(part.output))


def _title_of(source: Any) -> str:
    sid = getattr(source, "session_id", None)
    if sid is None and hasattr(source, "summary"):
        sid = source.summary.get("session_id")
    return f"Agent session {sid}" if sid else "Agent session"


def _provenance_of(source: Any) -> dict[str, Any]:
    if hasattr(source, "header") and hasattr(source, "summary"):
        return provenance.provenance_from_cassette(source)
    if hasattr(source, "events") and hasattr(source, "text"):
        return provenance.provenance_from_run(source)
    return {}


