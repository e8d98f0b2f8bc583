"""A conversation flattened into `Part`s for export: user and agent messages, tool calls with
their results, images; from events, a Transcript, a Run/ReplayRun, a Cassette or a cassette path.
In a notebook export, bash calls become code cells (`%%bash`, or plain Python when the command is
`python -c '…'` or a python heredoc): `bash_to_python` decides.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import NbAgentsError
from ..events import event_to_json, event_type
from .cassette import load_cassette

__all__ = ["ExportError", "Part", "bash_to_python", "input_json", "parts_of", "tool_summary"]

_HEREDOC = re.compile(
    r"\A\s*(?:python3?(?:\.\d+)?)\s+(?:-\s+)?<<-?\s*(['\"]?)(\w+)\1[ \t]*\n(?P<code>.*?)\n\2\s*\Z", re.S)


class ExportError(NbAgentsError):
    """Nothing to export, or an export path we cannot write."""


@dataclasses.dataclass
class Part:
    kind: str  # "user" | "agent" | "tool" | "image"
    text: str = ""
    name: str = ""
    input: dict[str, Any] = dataclasses.field(default_factory=dict)
    output: str = ""
    is_error: bool = False
    images: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (mime, base64)


def parts_of(source: Any) -> list[Part]:
    """The conversation in any supported source, as Parts in order."""
    if isinstance(source, (str, os.PathLike)):
        source = load_cassette(source)
    if hasattr(source, "items") and hasattr(source, "tool_calls"):
        return _parts_of_transcript(source)
    if hasattr(source, "header") and hasattr(source, "events"):  # Cassette
        return _parts_of_events(r.event for r in source.events)
    if hasattr(source, "events") and not isinstance(source, Iterable):  # Run / ReplayRun
        parts = _parts_of_events(source.events)
        return parts + _output_images(getattr(source, "outputs", None) or {})
    if isinstance(source, Iterable):
        return _parts_of_events(source)
    raise ExportError(f"Cannot export a {type(source).__name__}: pass events, a Transcript, a Run or a cassette")


def _block(b: Any) -> dict[str, Any]:
    return b if isinstance(b, dict) else b.model_dump(mode="json", exclude_none=True)


def _text_and_images(blocks: Iterable[Any]) -> tuple[str, list[tuple[str, str]]]:
    texts, images = [], []
    for raw in blocks or ():
        b = _block(raw)
        if b.get("type") == "text":
            texts.append(b.get("text", ""))
        elif b.get("type") == "image" and (b.get("source") or {}).get("type") == "base64":
            images.append((b["source"].get("media_type", "image/png"), b["source"].get("data", "")))
    return "\n".join(texts), images


def _parts_of_events(events: Iterable[Any]) -> list[Part]:
    parts: list[Part] = []
    by_id: dict[str, Part] = {}
    seen: set[str] = set()
    for event in events:
        data, kind = event_to_json(event), event_type(event)
        eid = str(data.get("id") or "")
        if kind in ("user.message", "agent.message", "agent.tool_use", "agent.mcp_tool_use",
                    "agent.custom_tool_use"):
            if eid in seen:
                continue  # a queued echo and its processed copy are one message
            seen.add(eid)
        if kind in ("user.message", "agent.message"):
            text, images = _text_and_images(data.get("content") or ())
            parts.append(Part("user" if kind == "user.message" else "agent", text=text, images=images))
        elif kind in ("agent.tool_use", "agent.mcp_tool_use", "agent.custom_tool_use"):
            part = Part("tool", name=str(data.get("name", "")), input=dict(data.get("input") or {}))
            parts.append(part)
            by_id[eid] = part
        elif kind in ("agent.tool_result", "agent.mcp_tool_result", "user.custom_tool_result"):
            key = str(data.get("tool_use_id") or data.get("mcp_tool_use_id") or data.get("custom_tool_use_id"))
            if key in by_id:
                part = by_id[key]
                part.output, part.images = _text_and_images(data.get("content") or ())
                part.is_error = bool(data.get("is_error"))
    return parts


def _parts_of_transcript(t: Any) -> list[Part]:
    parts: list[Part] = []
    for item in t.items:
        kind = type(item).__name__
        if kind in ("UserMessage", "AgentMessage"):
            _, images = _text_and_images(getattr(item, "blocks", ()))
            role = "user" if kind == "UserMessage" else "agent"
            parts.append(Part(role, text=item.text, images=images))
        elif kind == "ToolCall":
            text, images = _text_and_images(item.result_blocks)
            parts.append(Part("tool", name=item.name, input=dict(item.input or {}),
                              output=item.result_text or text, is_error=bool(item.is_error), images=images))
        elif kind == "ImageItem" and str(item.mime).startswith("image/"):
            parts.append(Part("image", name=item.name,
                              images=[(item.mime, base64.b64encode(item.data).decode("ascii"))]))
    return parts


def _output_images(outputs: Mapping[str, Any]) -> list[Part]:
    parts = []
    for name, art in outputs.items():
        mime = str(getattr(art, "mime", ""))
        path = Path(getattr(art, "path", ""))
        if mime in ("image/png", "image/jpeg", "image/gif") and path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(Part("image", name=str(name), images=[(mime, data)]))
    return parts


def bash_to_python(command: str) -> str | None:
    """The Python source when a bash command only runs Python (`python -c`, heredoc), else None."""
    m = _HEREDOC.match(command)
    if m:
        return m.group("code")
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if len(argv) == 3 and re.fullmatch(r"(?:.*/)?python3?(?:\.\d+)?", argv[0]) and argv[1] == "-c":
        return argv[2]
    return None


def tool_summary(part: Part) -> str:
    """One line naming a tool call: `read /mnt/data/x.csv`, `grep pattern`…"""
    for key in ("command", "file_path", "path", "pattern", "url", "query"):
        if key in part.input:
            value = " ".join(str(part.input[key]).split())
            return f"{part.name} {value[:80]}{'…' if len(value) > 80 else ''}"
    return part.name


def input_json(part: Part) -> str:
    return json.dumps(part.input, indent=2, ensure_ascii=False, default=str)
