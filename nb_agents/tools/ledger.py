"""What an `ActionHandler` is handed and what it keeps between calls.

`ActionContext` is the stream loop's view when it asks for answers (history, deadline, notices);
`Ledger` holds the answered call ids and their cached answers, shared kernel-wide through
`KERNEL_LEDGER` so a later cell's handler never re-runs a call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["KERNEL_LEDGER", "ActionContext", "Ledger"]


@dataclass
class ActionContext:
    """What the loop knows when it asks for answers."""

    history: Iterable[Any] = ()
    deadline: float | None = None  # time.monotonic() by which everything must be answered
    on_notice: Callable[[str, str], Any] | None = None
    background: bool = False  # informational: the prompter is chosen when the handler is built

    def remaining(self, limit: float | None) -> float | None:
        if self.deadline is None:
            return limit
        left = max(0.0, self.deadline - time.monotonic())
        return left if limit is None else min(limit, left)

    def notice(self, text: str, level: str = "info") -> None:
        if self.on_notice is not None:
            self.on_notice(text, level)


class Ledger:
    """Answered call ids and their cached answers, shared by the handlers that use it.

    `tool_setup` gives every session handler the kernel-wide `KERNEL_LEDGER`: a later cell builds
    a new handler, and it must still know what an earlier one ran (call ids are unique event ids).
    """

    def __init__(self, max_results: int = 1000) -> None:
        self.lock = threading.RLock()
        self.results: dict[str, dict[str, Any]] = {}
        self.delivered: set[str] = set()
        self.max_results = max_results

    def trim(self) -> None:
        """Forget the oldest cached answers (their ids stay delivered: never re-run)."""
        with self.lock:
            while len(self.results) > self.max_results:
                self.results.pop(next(iter(self.results)))


KERNEL_LEDGER = Ledger()
