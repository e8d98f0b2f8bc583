"""Batched folding of message-preview deltas (`event_delta`): `PendingDeltas` and `fold_deltas`.

A long streamed message arrives as thousands of `event_delta`s. Folding each one through the
SDK's `accumulate_managed_agents_event` copies the whole snapshot per delta (O(n²) over a
message). The reading thread therefore only queues deltas (`PendingDeltas.add`: a lock and a
list append); whoever needs the transcript — the view's flusher (≤ 10×/s), the next event that
is not a delta, the end of the turn — folds the batch at once. Consecutive text fragments of the
same message and content index are merged into ONE delta first, so the SDK helper still does
the folding (design.md) but once per message per batch. The result equals folding every delta
one by one, `event_count` included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .transcript import Transcript

__all__ = ["PendingDeltas", "fold_deltas", "is_delta"]


def is_delta(event: Any) -> bool:
    kind = event.get("type") if isinstance(event, dict) else getattr(event, "type", None)
    return kind == "event_delta"


def _text_key(event: Any) -> tuple[str, int] | None:
    """(message id, content index) of a text delta that can be merged; None otherwise."""
    delta = getattr(event, "delta", None)
    fragment = getattr(delta, "content", None)
    if getattr(fragment, "type", None) != "text" or not isinstance(getattr(fragment, "text", None), str):
        return None
    return (str(getattr(event, "event_id", "")), getattr(delta, "index", None) or 0)


def _groups(deltas: Iterable[Any]) -> Iterator[list[Any]]:
    """Runs of consecutive deltas that merge (same message and index, text fragments)."""
    group: list[Any] = []
    key: tuple[str, int] | None = None
    for event in deltas:
        this = _text_key(event)
        if group and (this is None or this != key):
            yield group
            group = []
        group.append(event)
        key = this
    if group:
        yield group


def _merge(group: list[Any]) -> Any:
    first = group[0]
    if len(group) == 1:
        return first
    text = "".join(e.delta.content.text for e in group)
    content = first.delta.content.model_copy(update={"text": text})
    return first.model_copy(update={"delta": first.delta.model_copy(update={"content": content})})


def fold_deltas(t: Transcript, deltas: Iterable[Any]) -> Transcript:
    """`t` with `deltas` folded in, merged per message and index (same result as one by one)."""
    from .transcript import fold

    for group in _groups(deltas):
        t = fold(t, _merge(group))
        if len(group) > 1:  # each delta counts as one event, as when folded one by one
            t = replace(t, event_count=t.event_count + len(group) - 1)
    return t


class PendingDeltas:
    """Deltas received but not folded yet; thread-safe (the reader adds, any thread folds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Any] = []

    def __len__(self) -> int:
        return len(self._events)

    def add(self, event: Any) -> None:
        with self._lock:
            self._events.append(event)

    def take(self) -> list[Any]:
        with self._lock:
            events, self._events = self._events, []
        return events
