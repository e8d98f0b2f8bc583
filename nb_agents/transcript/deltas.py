"""Batched folding of message-preview deltas (`event_delta`): `PendingDeltas` and `fold_deltas`.

A long streamed message arrives as thousands of `event_delta`s. Folding each one through the
SDK's `accumulate_managed_agents_event` copies the whole snapshot per delta (O(n²) over a
message). The reading thread therefore only queues deltas (`PendingDeltas.add`: a lock and a
list append); whoever needs the transcript — the view's flusher (≤ 10×/s), the next event that
is not a delta, the end of the turn — folds the batch at once. Consecutive text fragments of the
same message and content index are merged into ONE delta first, so the SDK helper still does
the folding, but once per message per batch. The result equals folding every delta
one by one, `event_count` included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .fold import fold

if TYPE_CHECKING:
    from .model import Transcript

__all__ = ["PendingDeltas", "fold_deltas", "is_delta"]


def is_delta(event: Any) -> bool:
    if isinstance(event, dict):
        return event.get("type") == "event_delta"
    return getattr(event, "type", None) == "event_delta"


def _merged(first: Any, text: str) -> Any:
    content = first.delta.content.model_copy(update={"text": text})
    return first.model_copy(update={"delta": first.delta.model_copy(update={"content": content})})


def fold_deltas(t: Transcript, deltas: Iterable[Any]) -> Transcript:
    """`t` with `deltas` folded in, merged per message and index (same result as one by one)."""
    pending = PendingDeltas()
    for event in deltas:
        pending.add(event)
    return pending.fold(t)


class PendingDeltas:
    """Deltas received but not folded yet; thread-safe (the reader adds, any thread folds).

    Runs of mergeable deltas are kept as their first event plus the text of each: the other
    delta objects are dropped at once, so a long message does not keep thousands of pydantic
    models alive (and in the garbage collector's way) until the next fold."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (merge key or None, the run's first event, the text of each delta of the run)
        self._runs: list[tuple[tuple[str, int] | None, Any, list[str]]] = []
        # the last run's merge key and texts, kept apart: a delta that continues the run appends
        # its text and does nothing else (no indexing into `_runs`: this is the per-delta path)
        self._key: tuple[str, int] | None = None
        self._texts: list[str] = []

    def __len__(self) -> int:
        return len(self._runs)

    def add(self, event: Any) -> bool:
        """Queue one delta (the reading thread's per-delta path: plain attribute reads, one lock).
        True when the queue was empty: the first delta since the last fold, the only one that
        needs to wake whoever shows the transcript (a fold empties the queue, so every later
        delta is folded by the same wake's render)."""
        try:  # a text delta of the SDK's shape merges with the run before it (same message, index)
            delta = event.delta
            fragment = delta.content
            text = fragment.text if fragment.type == "text" else None
            key = (event.event_id, delta.index)
        except AttributeError:
            text = key = None
        if text.__class__ is not str:
            key = None  # not merged: folded as it is
        with self._lock:
            if key is not None and key == self._key:
                self._texts.append(text)
                return False
            self._key, self._texts = key, [text] if key is not None else [""]
            self._runs.append((key, event, self._texts))
            return len(self._runs) == 1

    def fold(self, t: Transcript) -> Transcript:
        """`t` with everything queued folded in (and the queue emptied)."""
        with self._lock:
            runs, self._runs, self._key = self._runs, [], None  # the next delta starts a run
        for key, first, texts in runs:
            t = fold(t, first if key is None or len(texts) == 1 else _merged(first, "".join(texts)))
            if len(texts) > 1:  # each delta counts as one event, as when folded one by one
                t = replace(t, event_count=t.event_count + len(texts) - 1)
        return t
