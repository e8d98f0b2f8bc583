"""The transcript of a session: a pure fold of SDK events into an immutable `Transcript`.

`fold(t, event)` returns a new Transcript and never mutates `t` (`fold.py`, with the
conversation handlers in `conversation.py`); the items are frozen dataclasses (`items.py`);
long streamed messages fold in batches (`deltas.py`). Nothing here does I/O.
"""

from .deltas import PendingDeltas, fold_deltas, is_delta
from .fold import fold, fold_all
from .items import (
    AgentMessage,
    ErrorItem,
    ImageItem,
    InputRow,
    InputsItem,
    Item,
    Notice,
    OutcomeItem,
    Thinking,
    ThreadItem,
    ThreadMessage,
    ToolCall,
    Usage,
    UserMessage,
    blocks_text,
)
from .model import Transcript, empty, with_image, with_inputs, with_notice

__all__ = [
    "AgentMessage",
    "ErrorItem",
    "ImageItem",
    "InputRow",
    "InputsItem",
    "Item",
    "Notice",
    "OutcomeItem",
    "PendingDeltas",
    "Thinking",
    "ThreadItem",
    "ThreadMessage",
    "ToolCall",
    "Transcript",
    "Usage",
    "UserMessage",
    "blocks_text",
    "empty",
    "fold",
    "fold_all",
    "fold_deltas",
    "is_delta",
    "with_image",
    "with_inputs",
    "with_notice",
]
