"""The threads of a live view: the one flusher that writes its widget, and the main-thread check.

Both live views (`LiveView`, `ProgressView`) follow one rule: `put(state)` may be called from
any thread, as often as events come, and only stores the latest state; one flusher thread writes
it at most once per `min_interval` (~10 syncs/s) through the view's `write` callback, which sets
the widget's traits in one batch (`set_values`, with `hold_sync`). `stop()` ends that thread and
always writes the final state, synchronously, on the caller's thread. Whatever a view shows, it
shows through its `Flusher`: `sync_count` counts every write that changed something.

A view displays and prints only on the main thread (`on_main_thread`): a worker thread never
calls `print`, `display`, `clear_output` or `with out:`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

__all__ = ["COALESCE", "MIN_INTERVAL", "FlushedView", "Flusher", "on_main_thread", "set_values"]

MIN_INTERVAL = 0.1  # seconds between two syncs: at most ~10 per second
COALESCE = 0.02  # seconds the first sync after a quiet spell waits for the rest of the burst

S = TypeVar("S")


def on_main_thread() -> bool:
    """True on the main thread: the only one that may display or print."""
    return threading.current_thread() is threading.main_thread()


def set_values(changes: Iterable[tuple[Any, str]]) -> None:
    """Set `value` on each widget, sending all the changes as one batch (`hold_sync`)."""
    changes = list(changes)
    with contextlib.ExitStack() as stack:
        for widget, _ in changes:
            stack.enter_context(widget.hold_sync())
        for widget, value in changes:
            widget.value = value


class Flusher(Generic[S]):
    """Holds the latest state of a view and writes it from one thread, throttled.

    `write(state, news)` renders `state` and sets the traits that changed; it returns whether it
    changed any. `news` is False when the flusher woke for the clock (`tick` seconds without a
    `put`, for a view that shows elapsed time), True otherwise. The view keeps its own lock
    around trait writes (its buttons are written too, from the kernel's thread).
    """

    def __init__(
        self,
        write: Callable[[S, bool], bool],
        first: S,
        *,
        min_interval: float = MIN_INTERVAL,
        tick: float | None = None,
        name: str = "nb_agents-view",
    ) -> None:
        self.write = write
        self.min_interval = min_interval
        self.tick = tick
        self.name = name
        self.sync_count = 0
        self._latest = first
        self._last_sync = 0.0  # time.monotonic() of the thread's last sync (the throttle's reference)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()  # two first `put`s from two threads start one thread

    @property
    def latest(self) -> S:
        return self._latest

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def put(self, state: S) -> None:
        """Store the latest state (any thread, once per event): the thread writes it soon."""
        self._latest = state  # one reference store: atomic, no lock on this per-event path
        if not self._wake.is_set():  # skip the Condition when already set
            self._wake.set()

    def start(self) -> None:
        """Start the thread (once; never after `stop`)."""
        if self._thread is None and not self._stop.is_set():  # the per-event path: no lock
            with self._starting:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()

    def flush(self) -> bool:
        """Write the latest state now, on the caller's thread. It does not move the throttle's
        clock: a view's first sync (at display) does not delay the first change after it."""
        return self._write(self._latest, True)

    def stop(self) -> bool:
        """End the thread, then write the final state synchronously (idempotent)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        return self.flush()

    def _write(self, state: S, news: bool) -> bool:
        changed = self.write(state, news)
        if changed:
            self.sync_count += 1
        return changed

    def _run(self) -> None:
        while not self._stop.is_set():
            news = self._wake.wait(self.tick)  # a timeout is the clock's tick
            if self._stop.is_set():
                break
            # Throttle (≤ 1 / min_interval syncs per second) by waiting only what is left of the
            # interval since the last sync. After a quiet spell, wait a few ms for the rest of
            # the burst (e.g. the deltas read right after a backfill), so the first sync has them.
            left = self.min_interval - (time.monotonic() - self._last_sync)
            if self._stop.wait(left if left > 0 else COALESCE):
                break
            self._wake.clear()
            if self._write(self._latest, news):
                self._last_sync = time.monotonic()


class FlushedView:
    """What both live views say about their flushing (`_flusher` is set by the view)."""

    _flusher: Flusher[Any]

    @property
    def min_interval(self) -> float:
        return self._flusher.min_interval

    @property
    def sync_count(self) -> int:
        return self._flusher.sync_count
