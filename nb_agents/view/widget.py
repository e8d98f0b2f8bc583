"""The live view of a run: built once, displayed once, then only trait values change.

`LiveView.update(t)` may be called from any thread; it only stores the latest
Transcript. One flusher thread (the one writer, under a lock) renders it at most ~10
times a second, batching each sync with `hold_sync`, and re-renders only the parts that
changed: status line, settled items, live tail, footer. `finish(t)` flushes the final
state synchronously, stops the flusher and (on the main thread) displays a static copy
(`text/plain` + `text/html`) so a notebook saved without widget state still shows the
transcript; the widget's stylesheet hides that copy while the widget itself renders. A long
transcript is then handed over: the widget is emptied and the copy shown in its place, so the
notebook saves it once (`_hand_over`). `update` also takes a callable, called when rendering.
The storing, throttling and final flush are the shared `Flusher` (`flusher.py`).

Without a widget frontend (terminal IPython, no kernel) there are no widgets: updates on
the main thread print newly completed items as text, `finish` prints the rest. A worker
thread never prints or displays anything: output from a thread that is not the cell's lands in
whatever cell runs then.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ..transcript import Transcript
from . import common as c
from .flusher import MIN_INTERVAL, FlushedView, Flusher, on_main_thread, set_values
from .html import ROOT_CLASS, render_body, render_footer, render_header, render_html, render_quiet
from .style import hide_rule, style_tag
from .text import footer_line, render_compact, render_items, render_text

__all__ = ["LiveView", "box", "detect_mode", "html_part", "static_bundle", "stop_button"]

HAND_OVER = 16_000  # chars of widget HTML above which the finished widget hands over to the static copy
TICK = 1.0  # while running, refresh the elapsed time this often even without events


def detect_mode(mode: str | None = None) -> str:
    """The view mode: `widget` in a kernel with a frontend, `text` in terminal IPython
    or plain Python. The environment variable `NB_AGENTS_VIEW=widget|text` overrides it."""
    if mode in ("widget", "text"):
        return mode
    env = os.environ.get("NB_AGENTS_VIEW", "").strip().lower()
    if env in ("widget", "text"):
        return env
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return "text"
    shell = get_ipython()
    if shell is None or type(shell).__name__ == "TerminalInteractiveShell":
        return "text"
    return "widget" if getattr(shell, "kernel", None) is not None else "text"


def static_bundle(
    t: Transcript, *, verbose: bool = False, quiet: bool = False, css_class: str = ""
) -> dict[str, str]:
    """The `text/plain` + `text/html` representation of a whole transcript."""
    cls = f"nba-static {css_class}".strip()
    return {
        "text/plain": render_compact(t, verbose=verbose, quiet=quiet),
        "text/html": f'<div class="{cls}">{render_html(t, verbose=verbose, quiet=quiet)}</div>',
    }


_shared_lock = threading.Lock()
_shared_parts: dict[str, Any] = {}


def _shared(kind: str) -> Any:
    """The one `Layout` (kind "layout") or `HTMLStyle` ("style") every view's parts share. They
    are never changed, and each widget made is a comm opened and a state sent: by default every
    HTML part would make its own pair, two of its three widgets. Made again if it was closed."""
    import ipywidgets as w
    from ipywidgets.widgets.widget_string import HTMLStyle

    with _shared_lock:
        part = _shared_parts.get(kind)
        if part is None or part.comm is None:  # closed (`Widget.close_all()`)
            part = _shared_parts[kind] = w.Layout() if kind == "layout" else HTMLStyle()
        return part


def html_part(value: str = "") -> Any:
    """An `ipywidgets.HTML` for a view, on the shared layout and style."""
    import ipywidgets as w

    return w.HTML(value=value, layout=_shared("layout"), style=_shared("style"))


def box(children: list[Any]) -> Any:
    """The `VBox` holding a view's parts, on the shared layout."""
    import ipywidgets as w

    return w.VBox(children, layout=_shared("layout"))


def stop_button(on_click: Callable[[Any], Any], description: str = "Stop") -> Any:
    """The red Stop button of a background run (made only when one is shown)."""
    import ipywidgets as w

    button = w.Button(description=description, icon="stop", button_style="danger")
    button.on_click(on_click)
    return button


class LiveView(FlushedView):
    """See the module docstring. `mode` is "widget", "text" or None (detect)."""

    def __init__(
        self,
        t0: Transcript,
        *,
        verbose: bool = False,
        quiet: bool = False,
        title: str | None = None,
        mode: str | None = None,
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        self.verbose, self.quiet, self.title = verbose, quiet, title
        self.mode = detect_mode(mode)
        uid = uuid.uuid4().hex[:12]
        self.display_id = f"nba-{uid}"
        self.static_class = f"nba-static-{uid}"
        self.hand_over = HAND_OVER
        self.handed_over = False  # True once the static copy replaced the widget's content
        self._flusher: Flusher[Transcript | Callable[[], Transcript]] = Flusher(
            self._write, self._titled(t0), min_interval=min_interval, tick=TICK,
            name=f"nb_agents-view-{self.display_id}",
        )
        self._lock = threading.Lock()  # the one writer of widget traits
        self._values: dict[str, str] = {}
        self._printed = 0
        self._displayed = self._finished = False
        self._stop_callback: Callable[[], Any] | None = None
        self.widget: Any = None
        self._button: Any = None  # the Stop button, made by `on_stop`
        if self.mode == "widget":
            self._build()

    # -- public ---------------------------------------------------------------------
    @property
    def transcript(self) -> Transcript:
        latest = self._flusher.latest
        # a source callable is called outside the lock: it may fold (a turn's queued deltas)
        return latest if isinstance(latest, Transcript) else self._titled(latest())

    def display(self) -> None:
        """Show the view below the running cell (main thread, once)."""
        if self._displayed:
            return
        if not on_main_thread():
            raise RuntimeError("LiveView.display() must be called on the main thread")
        self._displayed = True
        if self.mode != "widget":
            return
        from IPython.display import display

        self._flusher.flush()
        bundle = {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.widget.model_id,
            },
            "text/plain": "",  # the static copy shown at the end is the readable fallback
        }
        display(bundle, raw=True, display_id=self.display_id)
        self._flusher.start()

    def update(self, t: Transcript | Callable[[], Transcript]) -> None:
        """Store the latest transcript (any thread); the flusher shows it soon. `t` may be a
        callable returning it, called only when the view renders (≤ 10×/s), so a caller can
        defer work per event (turn.py folds its queued deltas then)."""
        self._flusher.put(self._titled(t) if isinstance(t, Transcript) else t)
        if self._finished:
            return
        if self.mode == "widget":
            self._flusher.start()
        elif on_main_thread():
            self._print_settled(self.transcript)

    def finish(self, t: Transcript | None = None, *, metadata: dict[str, Any] | None = None) -> None:
        """Flush the final state synchronously, stop the flusher, show the static copy
        (`metadata`: the run's provenance, stored in that output's display_data metadata)."""
        final = self.transcript if t is None else self._titled(t)
        self._flusher.put(final)  # resolved: a source callable is not called again
        already = self._finished
        self._finished = True
        self._flusher.stop()  # the final state is always flushed
        if self.mode == "widget":
            self._set_button(visible=False)
            if not already and self._displayed and on_main_thread():
                self.show_static(final, metadata=metadata)
                self._hand_over()
        elif on_main_thread() and not already:
            self._print_rest(final)

    close = finish

    def show_static(self, t: Transcript | None = None, *, metadata: dict[str, Any] | None = None) -> bool:
        """Display the static copy (main thread only); it is hidden while the widget renders.
        In text mode, print what was not printed yet (e.g. after `finish` on a worker)."""
        if not on_main_thread():
            return False
        if self.mode != "widget":
            self._print_rest(self.transcript if t is None else t)
            return True
        from IPython.display import display

        display(self.static_bundle(t), raw=True, metadata=metadata or None)
        return True

    def static_bundle(self, t: Transcript | None = None) -> dict[str, str]:
        t = self.transcript if t is None else self._titled(t)
        return static_bundle(t, verbose=self.verbose, quiet=self.quiet, css_class=self.static_class)

    def on_stop(self, callback: Callable[[], Any]) -> None:
        """Show a Stop button (background runs); clicking it calls `callback()`."""
        self._stop_callback = callback
        if self.mode == "widget" and not self._finished:
            self._set_button(visible=True)

    # -- widget mode --------------------------------------------------------------------
    def _build(self) -> None:
        self._style = html_part(style_tag() + hide_rule(self.static_class))
        self._header, self._settled, self._live, self._footer = (html_part() for _ in range(4))
        self.widget = box([self._style, self._header, self._settled, self._live, self._footer])
        self.widget.add_class("nba")
        self.widget.add_class("nba-live")

    def _clicked(self, _button: Any) -> None:
        with self._lock:
            self._button.disabled = True
            self._button.description = "Stopping…"
        if self._stop_callback is not None:
            self._stop_callback()

    def _set_button(self, *, visible: bool) -> None:
        with self._lock:
            if self._button is None:
                if not visible:
                    return
                self._button = stop_button(self._clicked)
                self.widget.children = (*self.widget.children, self._button)
            self._button.layout.display = None if visible else "none"

    def _render(self, t: Transcript) -> dict[str, str]:
        now = time.time()
        header = render_header(t, now=now)
        if self.quiet:
            live = render_quiet(t)
            return {
                "header": f'<div class="{ROOT_CLASS}">{header}</div>',
                "settled": "",
                "live": f'<div class="{ROOT_CLASS}">{live}</div>' if live else "",
                "footer": "",
            }
        settled = c.settled_count(t)
        parts = {
            "header": header,
            "settled": render_body(t, verbose=self.verbose, stop=settled),
            "live": render_body(t, verbose=self.verbose, start=settled),
            "footer": render_footer(t, now=now),
        }
        return {k: f'<div class="{ROOT_CLASS}">{v}</div>' if v else "" for k, v in parts.items()}

    def _hand_over(self) -> None:
        """A long transcript is saved once, not twice. Its static copy (the same HTML) was just
        displayed below the widget, hidden by the widget's stylesheet: empty the widget and drop
        that rule, so the copy takes the widget's place — in this page, and in the notebook
        reopened with or without the widget state (docs/benchmarks.md, saved size). A short
        transcript stays in the widget: duplicating it costs little."""
        with self._lock:
            if sum(len(v) for v in self._values.values()) <= self.hand_over:
                return
            parts = (self._style, self._header, self._settled, self._live, self._footer)
            set_values((widget, "") for widget in parts)
            self._values = dict.fromkeys(self._values, "")
            self.handed_over = True

    def _apply(self, t: Transcript) -> bool:
        """Render `t` and set the traits that changed, in one batch. The one writer."""
        with self._lock:
            if self.handed_over:
                return False  # the static copy shows the transcript now
            values = self._render(t)
            targets = {
                "header": self._header,
                "settled": self._settled,
                "live": self._live,
                "footer": self._footer,
            }
            changed = [(targets[k], v) for k, v in values.items() if self._values.get(k) != v]
            if not changed:
                return False
            set_values(changed)
            self._values = values
            return True

    def _write(self, latest: Transcript | Callable[[], Transcript], news: bool) -> bool:
        """The flusher's callback: show the latest transcript (a source callable is called here)."""
        if self.widget is None:
            return False  # text mode prints from update/finish instead
        t = latest if isinstance(latest, Transcript) else self._titled(latest())
        if not news and not t.is_running:
            return False  # a clock tick, and no clock to advance
        return self._apply(t)

    # -- text mode ----------------------------------------------------------------------
    def _print_settled(self, t: Transcript) -> None:
        settled = c.settled_count(t)
        if settled > self._printed:
            text = render_items(t, verbose=self.verbose, start=self._printed, stop=settled)
            self._printed = settled
            if text and not self.quiet:
                print(text, flush=True)

    def _print_rest(self, t: Transcript) -> None:
        if self.quiet:
            print(render_text(t, quiet=True), flush=True)
            return
        rest = render_items(t, verbose=self.verbose, start=self._printed)
        self._printed = len(t.items)
        print("\n".join(p for p in (rest, footer_line(t)) if p), flush=True)

    def _titled(self, t: Transcript) -> Transcript:
        if self.title and not t.title:
            return dataclasses.replace(t, title=self.title)
        return t
