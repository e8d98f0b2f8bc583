"""The transcript of a session: a pure fold of SDK events into an immutable `Transcript`.

`fold(t, event)` returns a new Transcript and never mutates `t` (`fold.py`, with the
conversation handlers in `conversation.py`); the items are frozen dataclasses (`items.py`);
long streamed messages fold in batches (`deltas.py`). Nothing here does I/O.
"""

from . import items
from .deltas import PendingDeltas, fold_deltas, is_delta
from .fold import fold, fold_all
from .items import *  # noqa: F403  (the item classes: `items.__all__`)
from .model import Transcript, empty, with_image, with_inputs, with_notice

__all__ = [
    "PendingDeltas",
    "Transcript",
    "empty",
    "fold",
    "fold_all",
    "fold_deltas",
    "is_delta",
    "with_image",
    "with_inputs",
    "with_notice",
    *items.__all__,
]
