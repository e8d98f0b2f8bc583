"""Small shared steps of the transcript fold: timestamps, item upserts.

Used by the handlers in `conversation.py` and `fold.py`; pure functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..events import get_field
from .items import AgentMessage, Item, Thinking

if TYPE_CHECKING:
    from .model import Transcript

__all__ = ["Handler", "stamp", "put", "put_last", "append", "close_previews"]

Handler = Callable[["Transcript", Any], "Transcript"]


def stamp(event: Any) -> float | None:
    value = get_field(event, "processed_at")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        stamp = value.timestamp()
        return stamp if stamp > 0 else None  # the accumulate helper's epoch placeholder
    return None


def put(t: Transcript, key: str, item: Item) -> Transcript:
    """Insert or replace the item stored under `key`, keeping its position."""
    pos = t.index.get(key)
    if pos is None:
        index = dict(t.index)
        index[key] = len(t.items)
        return replace(t, items=t.items + (item,), index=index)
    return replace(t, items=t.items[:pos] + (item,) + t.items[pos + 1 :])


def put_last(t: Transcript, key: str, item: Item) -> Transcript:
    """Store `item` under `key` as the last item (moved there if `key` was elsewhere)."""
    pos = t.index.get(key)
    if pos is None:
        return put(t, key, item)
    items = t.items[:pos] + t.items[pos + 1 :] + (item,)
    index = {k: (p - 1 if p > pos else p) for k, p in t.index.items()}
    index[key] = len(items) - 1
    return replace(t, items=items, index=index)


def append(t: Transcript, item: Item) -> Transcript:
    return replace(t, items=t.items + (item,))


def close_previews(t: Transcript) -> Transcript:
    """A model request ended (or the turn did) without the buffered events: close previews."""
    for pos, item in enumerate(t.items):
        if isinstance(item, AgentMessage) and item.streaming:
            closed: Item = replace(item, streaming=False, interrupted=True, snapshot=None)
        elif isinstance(item, Thinking) and item.pending:
            closed = replace(item, pending=False)
        else:
            continue
        t = replace(t, items=t.items[:pos] + (closed,) + t.items[pos + 1 :])
    return t
