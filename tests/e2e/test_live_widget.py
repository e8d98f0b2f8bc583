"""The browser harness itself: a widget updated from a thread streams while the cell runs.

This is the baseline the `%%agent` test builds on; it needs nothing from nb_agents.
"""

from __future__ import annotations

import pytest

from .conftest import ARTIFACTS
from .notebook_page import wait_until

TICKER = """
import threading, time
import ipywidgets as w
box = w.HTML("<b>tick -1</b>")
display(box)
stop = threading.Event()
def work():
    for i in range(600):
        if stop.is_set():
            return
        box.value = f"<b>tick {i}</b>"
        time.sleep(0.05)
t = threading.Thread(target=work, daemon=True)
t.start()
try:
    while t.is_alive():
        t.join(0.1)
except KeyboardInterrupt:
    stop.set()
    box.value = "<b>interrupted</b>"
"""


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_thread_updated_widget_streams_and_interrupt_stops_it(open_notebook) -> None:  # type: ignore[no-untyped-def]
    nb = open_notebook("ticker.ipynb", [TICKER])
    nb.run(0)
    seen = set()

    def ticks() -> bool:
        text = nb.output_text(0)
        if "tick" in text and nb.running(0):
            seen.add(text.strip())
        return len(seen) >= 3

    wait_until(ticks, 60, "three different tick values while the cell shows [*]")
    assert nb.interrupt() in ("toolbar", "command")
    out = nb.wait_done(0, timeout=30)
    assert "interrupted" in out
    nb.screenshot(ARTIFACTS / "live_widget.png", index=0)
