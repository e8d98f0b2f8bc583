"""The immutable `Transcript` of a session and its client-side additions.

The fold that builds it from events is in `fold.py`; its items are in `items.py`.
Client-side additions (notices, pulled images, input summaries) are the `with_*` helpers;
a notice's text is scrubbed of secrets (it can quote an API or tool error).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..scrub import scrub_text
from .items import (
    AgentMessage,
    ErrorItem,
    ImageItem,
    InputRow,
    InputsItem,
    Item,
    Notice,
    ToolCall,
    Usage,
    UserMessage,
)

__all__ = ["Transcript", "empty", "with_image", "with_inputs", "with_notice"]

_TERMINAL_STATUSES = ("terminated", "deleted")


@dataclass(frozen=True)
class Transcript:
    """Everything a view or a Run needs to know about one conversation so far."""

    items: tuple[Item, ...] = ()
    # item key -> position in `items` (event id, "thread:<id>" or "outcome:<id>")
    index: Mapping[str, int] = field(default_factory=dict, repr=False)
    status: str = "starting"  # starting | running | idle | rescheduling | terminated | deleted
    stop_reason: str | None = None
    stop_details: Mapping[str, Any] | None = None
    pending_action_ids: tuple[str, ...] = ()
    interrupted: bool = False
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    budget_usd: float | None = None
    active_seconds: float | None = None
    seen: frozenset[str] = frozenset()
    queued: frozenset[str] = frozenset()  # user event ids seen only with processed_at=None
    event_count: int = 0
    unknown_count: int = 0
    model_requests: int = 0
    started_at: float | None = None
    ended_at: float | None = None
    offline: bool = False
    session_id: str | None = None
    title: str | None = None
    model: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict, repr=False)

    # -- derived views ------------------------------------------------------------
    @property
    def messages(self) -> tuple[AgentMessage, ...]:
        return tuple(i for i in self.items if isinstance(i, AgentMessage))

    @property
    def user_messages(self) -> tuple[UserMessage, ...]:
        return tuple(i for i in self.items if isinstance(i, UserMessage) and i.role == "user")

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(i for i in self.items if isinstance(i, ToolCall))

    @property
    def errors(self) -> tuple[ErrorItem, ...]:
        return tuple(i for i in self.items if isinstance(i, ErrorItem))

    @property
    def images(self) -> tuple[ImageItem, ...]:
        return tuple(i for i in self.items if isinstance(i, ImageItem))

    @property
    def text(self) -> str:
        """The final answer: primary-thread agent messages since the last user message."""
        parts: list[str] = []
        for item in self.items:
            if isinstance(item, UserMessage) and item.role == "user":
                parts = []
            elif isinstance(item, AgentMessage) and item.thread_id is None and item.text:
                parts.append(item.text)
        return "\n\n".join(parts)

    @property
    def is_terminal(self) -> bool:
        """The turn is over: idle (not waiting on us), terminated or deleted."""
        if self.status in _TERMINAL_STATUSES:
            return True
        return self.status == "idle" and self.stop_reason not in (None, "requires_action")

    @property
    def requires_action(self) -> bool:
        return self.status == "idle" and self.stop_reason == "requires_action"

    @property
    def is_running(self) -> bool:
        return self.status in ("starting", "running", "rescheduling")

    @property
    def last_error(self) -> ErrorItem | None:
        errors = self.errors
        return errors[-1] if errors else None

    @property
    def elapsed(self) -> float:
        """Wall time of the run: start to end, or to now while it runs."""
        if self.started_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else time.time()
        return max(0.0, end - self.started_at)

    def get(self, key: str) -> Item | None:
        pos = self.index.get(key)
        return None if pos is None else self.items[pos]


def empty(**meta: Any) -> Transcript:
    """A fresh transcript; known keys (offline, session_id, title, model, started_at,
    budget_usd) become fields, anything else is kept in `meta`."""
    known = {k: meta.pop(k) for k in list(meta) if k in _META_FIELDS}
    return Transcript(meta=dict(meta), **known)


_META_FIELDS = frozenset({"offline", "session_id", "title", "model", "started_at", "budget_usd"})


def with_notice(t: Transcript, text: str, level: str = "info") -> Transcript:
    """Append a client-side note (retries, interrupted, uploads, budget…)."""
    return replace(t, items=t.items + (Notice(scrub_text(text), level),))


def with_image(t: Transcript, name: str, mime: str, data: bytes) -> Transcript:
    """Append an image (a pulled output) to be shown inline."""
    return replace(t, items=t.items + (ImageItem(str(name), str(mime), bytes(data)),))


def with_inputs(t: Transcript, rows: Iterable[Any]) -> Transcript:
    """Append the summary of uploaded inputs; a row is an InputRow, a (name, size, status)
    tuple, a mapping with those keys, or any object with those attributes."""
    parsed = tuple(_input_row(r) for r in rows)
    if not parsed:
        return t
    return replace(t, items=t.items + (InputsItem(parsed),))


def _input_row(row: Any) -> InputRow:
    if isinstance(row, InputRow):
        return row
    if isinstance(row, Mapping):
        return InputRow(str(row["name"]), row.get("size"), str(row.get("status", "uploaded")))
    if isinstance(row, tuple):
        name, size, status = row
        return InputRow(str(name), size, str(status))
    return InputRow(str(row.name), getattr(row, "size", None), str(getattr(row, "status", "uploaded")))
