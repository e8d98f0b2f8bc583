"""The progress view of a fan-out: done / failed / running counts, cost so far, ETA, a Stop button.

Same rules as `view.widget.LiveView`, through the same `Flusher`: built and
displayed once on the main thread; `update(progress)` from any thread only stores the latest
`Progress`; the flusher's one thread sets the widget's value at most ~10 times a second; `finish()`
flushes synchronously and, on the main thread, displays a static `text/plain` + `text/html` copy.
In text mode (terminal, no kernel) nothing is printed from a worker: the waiting main thread
calls `tick()`, which prints a progress line at most every few seconds.
"""

from __future__ import annotations

import html
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .flusher import MIN_INTERVAL, FlushedView, Flusher, on_main_thread
from .style import hide_rule
from .widget import box, detect_mode, html_part, stop_button

__all__ = ["Progress", "ProgressView"]

TEXT_EVERY = 5.0  # seconds between two progress lines in text mode


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    failed: int
    running: int
    skipped: int
    interrupted: int
    spent_usd: float
    elapsed: float
    eta: float | None
    max_usd: float | None = None

    @classmethod
    def of(cls, items: Iterable[Any], *, spent: float, elapsed: float, concurrency: int, max_usd: float | None) -> Progress:
        items = list(items)
        counts = Counter(i.status.split(":")[0] for i in items)
        durations = [i.finished - i.started for i in items if i.finished is not None and i.started is not None]
        left = counts["pending"] + counts["running"]
        eta = None
        if durations and left:
            # remaining items run `concurrency` at a time at the mean duration seen so far
            eta = sum(durations) / len(durations) * -(-left // max(1, concurrency))
        return cls(
            total=len(items), done=counts["done"], failed=counts["failed"], running=counts["running"],
            skipped=counts["skipped"], interrupted=counts["interrupted"], spent_usd=spent, elapsed=elapsed,
            eta=eta, max_usd=max_usd,
        )

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped + self.interrupted

    def line(self) -> str:
        parts = [f"{self.finished}/{self.total} finished", f"{self.done} done", f"{self.failed} failed",
                 f"{self.running} running"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        if self.interrupted:
            parts.append(f"{self.interrupted} interrupted")
        cost = f"${self.spent_usd:.4f}" + (f" of ${self.max_usd:g}" if self.max_usd is not None else "")
        parts += [cost, f"{self.elapsed:.0f}s elapsed"]
        if self.eta is not None and self.running:
            parts.append(f"ETA {self.eta:.0f}s")
        return "map: " + ", ".join(parts)

    def html(self) -> str:
        share = 100.0 * self.finished / self.total if self.total else 100.0
        bad = 100.0 * (self.failed + self.interrupted) / self.total if self.total else 0.0
        return (
            '<div class="nba-map" style="font-family:var(--jp-ui-font-family,sans-serif);font-size:13px">'
            # theme colours (see style.py), with fallbacks that read on light and dark pages
            '<div style="background:var(--jp-layout-color3,#8884);height:8px;border-radius:4px;'
            'overflow:hidden;display:flex">'
            f'<div style="width:{share - bad:.1f}%;background:var(--jp-success-color1,#388e3c)"></div>'
            f'<div style="width:{bad:.1f}%;background:var(--jp-error-color1,#d32f2f)"></div></div>'
            f"<div>{html.escape(self.line())}</div></div>"
        )


class ProgressView(FlushedView):
    """See the module docstring. `.widget` is an ipywidgets VBox (None in text mode)."""

    def __init__(self, first: Progress, *, mode: str | None = None, min_interval: float = MIN_INTERVAL) -> None:
        self.mode = detect_mode(mode)
        self._flusher = Flusher(self._write, first, min_interval=min_interval, name="nb_agents-map-view")
        self._lock = threading.Lock()  # the one writer of widget traits
        self._finished = False
        self._printed_at = 0.0
        self._callback: Callable[[], Any] | None = None
        self.widget: Any = None
        if self.mode == "widget":
            self.static_class = f"nba-map-static-{uuid.uuid4().hex[:12]}"
            # the static copy left by finish() is hidden wherever the live widget renders
            self._style = html_part(hide_rule(self.static_class))
            self._html = html_part(first.html())
            self._button = stop_button(self._clicked, "Stop all")
            self._button.layout.display = "none"
            self.widget = box([self._style, self._html, self._button])

    def display(self) -> None:
        if self.mode != "widget":
            return
        from IPython.display import display

        bundle = {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id,
            },
            "text/plain": "",  # the static copy shown by finish() is the readable fallback
        }
        display(bundle, raw=True)
        self._flusher.start()

    def on_stop(self, callback: Callable[[], Any]) -> None:
        self._callback = callback
        if self.widget is not None:
            with self._lock:
                self._button.layout.display = None

    def _clicked(self, _button: Any) -> None:
        with self._lock:
            self._button.disabled, self._button.description = True, "Stopping…"
        if self._callback is not None:
            self._callback()

    def update(self, progress: Progress) -> None:
        self._flusher.put(progress)

    def tick(self) -> None:
        """Main thread, text mode: a progress line now and then."""
        if self.mode == "widget" or not on_main_thread():
            return
        now = time.monotonic()
        if now - self._printed_at >= TEXT_EVERY:
            self._printed_at = now
            print(self._flusher.latest.line(), flush=True)

    def _write(self, progress: Progress, _news: bool) -> bool:
        """The flusher's callback: set the bar's HTML if it changed."""
        if self.widget is None:
            return False
        with self._lock:
            value = progress.html()
            if self._html.value == value:
                return False
            self._html.value = value
            return True

    def finish(self, progress: Progress) -> None:
        """Final state (synchronous); on the main thread also the static copy (or the last line)."""
        self._flusher.put(progress)
        if self._finished:
            return
        self._finished = True
        self._flusher.stop()  # the final state is always flushed
        on_main = on_main_thread()
        if self.widget is not None:
            with self._lock:
                self._button.layout.display = "none"
            if on_main:
                from IPython.display import display

                static = f'<div class="{self.static_class}">{progress.html()}</div>'
                display({"text/plain": progress.line(), "text/html": static}, raw=True)
        elif on_main:
            print(progress.line(), flush=True)
