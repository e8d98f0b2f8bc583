"""The immutable items of a Transcript (see transcript.py for the fold that builds them).

Every item is a frozen dataclass; the fold replaces an item by a new one instead of
changing it, so a renderer may cache its output per item object. Content blocks are kept
as the SDK models they arrived as (`blocks`), with a plain-text digest beside them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..events import event_type, get_field

__all__ = [
    "Usage",
    "UserMessage",
    "AgentMessage",
    "Thinking",
    "ToolCall",
    "ErrorItem",
    "Notice",
    "ThreadItem",
    "ThreadMessage",
    "OutcomeItem",
    "ImageItem",
    "InputRow",
    "InputsItem",
    "Item",
    "blocks_text",
]

# "ended": no result came before the session stopped (fold.py closes such calls)
TOOL_FINAL = frozenset({"done", "error", "denied", "ended"})


@dataclass(frozen=True)
class Usage:
    """Token counts: summed from model requests, replaced by cumulative `session.usage` snapshots."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_input_tokens
            + self.cache_creation_input_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
        }


@dataclass(frozen=True)
class UserMessage:
    id: str
    text: str
    blocks: tuple[Any, ...] = ()
    queued: bool = False  # echoed with processed_at=None, not yet taken by the agent
    role: str = "user"  # "system" for system.message events

    @property
    def final(self) -> bool:
        return True


@dataclass(frozen=True)
class AgentMessage:
    id: str
    text: str
    blocks: tuple[Any, ...] = ()
    streaming: bool = False
    thread_id: str | None = None
    interrupted: bool = False  # a preview whose model request ended without the buffered message
    # the SDK accumulate snapshot while streaming (never compared: it mirrors `blocks`)
    snapshot: Any = field(default=None, compare=False, repr=False)

    @property
    def final(self) -> bool:
        return not self.streaming


@dataclass(frozen=True)
class Thinking:
    id: str
    thread_id: str | None = None
    pending: bool = False  # opened by event_start, the agent.thinking event not yet arrived

    @property
    def final(self) -> bool:
        return not self.pending


@dataclass(frozen=True)
class ToolCall:
    id: str
    kind: str  # "builtin" | "mcp" | "custom"
    name: str
    input: dict[str, Any] = field(default_factory=dict)
    server: str | None = None
    status: str = "running"  # "running" | "waiting" | "done" | "error" | "denied" | "ended"
    result_blocks: tuple[Any, ...] = ()
    result_text: str = ""
    is_error: bool = False
    permission: str | None = None  # evaluated_permission, then the user's "allow"/"deny"
    started_at: float | None = None
    finished_at: float | None = None
    thread_id: str | None = None
    deny_message: str | None = None

    @property
    def final(self) -> bool:
        return self.status in TOOL_FINAL

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    @property
    def input_json(self) -> str:
        return json.dumps(self.input, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class ErrorItem:
    id: str
    error_type: str
    message: str
    retry_status: str | None = None  # "retrying" | "exhausted" | "terminal"

    @property
    def final(self) -> bool:
        return True


@dataclass(frozen=True)
class Notice:
    text: str
    level: str = "info"  # "info" | "warning" | "error"

    @property
    def final(self) -> bool:
        return True


@dataclass(frozen=True)
class ThreadItem:
    """A child thread (multiagent): its lifecycle; its messages are ThreadMessage items."""

    thread_id: str
    agent_name: str
    status: str = "created"  # created | running | idle | rescheduling | terminated
    stop_reason: str | None = None

    @property
    def final(self) -> bool:
        # the status line of a thread keeps changing; never freeze it while it runs
        return self.status in ("idle", "terminated")


@dataclass(frozen=True)
class ThreadMessage:
    id: str
    thread_id: str
    agent_name: str | None
    direction: str  # "sent" (to the thread) | "received" (from the thread)
    text: str

    @property
    def final(self) -> bool:
        return True


@dataclass(frozen=True)
class OutcomeItem:
    outcome_id: str
    description: str
    max_iterations: int | None = None
    iterations: int = 0  # evaluations finished so far
    result: str = "pending"  # pending | evaluating | satisfied | needs_revision | ...
    explanation: str | None = None

    @property
    def final(self) -> bool:
        return self.result in ("satisfied", "max_iterations_reached", "failed", "interrupted")


@dataclass(frozen=True)
class ImageItem:
    name: str
    mime: str
    data: bytes = field(repr=False)

    @property
    def final(self) -> bool:
        return True


@dataclass(frozen=True)
class InputRow:
    name: str
    size: int | None
    status: str  # "uploaded" | "unchanged"


@dataclass(frozen=True)
class InputsItem:
    rows: tuple[InputRow, ...]

    @property
    def final(self) -> bool:
        return True


Item = (
    UserMessage
    | AgentMessage
    | Thinking
    | ToolCall
    | ErrorItem
    | Notice
    | ThreadItem
    | ThreadMessage
    | OutcomeItem
    | ImageItem
    | InputsItem
)


def blocks_text(blocks: Any) -> str:
    """The text of a content list: text blocks joined; other blocks as a short marker."""
    parts: list[str] = []
    for block in blocks or ():
        kind = event_type(block)
        if kind == "text":
            text = get_field(block, "text", "")
            parts.append(str(text or ""))
        elif kind == "redacted":
            continue
        elif kind:
            parts.append(f"[{kind}]")
    return "".join(parts) if all(_is_text(b) for b in blocks or ()) else "\n".join(parts)


def _is_text(block: Any) -> bool:
    return event_type(block) in ("text", "redacted")
