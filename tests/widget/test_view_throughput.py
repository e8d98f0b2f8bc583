"""LiveView under load: lazy sources, the throttle's timing, the hand-over of a long transcript
to its static copy, and the bounded plain-text copy (docs/benchmarks.md)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from nb_agents.events import event_from_json
from nb_agents.transcript import empty, fold_all
from nb_agents.view import LiveView, render_html
from nb_agents.view.text import render_compact, render_text


@pytest.fixture(scope="module")
def shell() -> Any:
    return start_ipython()


def _turn(messages: int) -> list[Any]:
    """A finished turn: the prompt, `messages` (message, bash call, result) rounds, a summary."""
    n = [0]

    def ev(type_: str, **fields: Any) -> Any:
        n[0] += 1
        stamp = f"2026-11-25T05:{n[0] // 60 % 60:02d}:{n[0] % 60:02d}Z"
        return event_from_json({"type": type_, "id": f"sevt_{n[0]:05d}", "processed_at": stamp, **fields})

    events = [ev("session.status_running"), ev("user.message", content=[{"type": "text", "text": "go"}])]
    for i in range(messages):
        events.append(ev("agent.message", content=[{"type": "text", "text": f"Step {i}: checking **column {i}**."}]))
        use = ev("agent.tool_use", name="bash", input={"command": f"echo row {i}"}, evaluated_permission="allow")
        events += [use, ev("agent.tool_result", tool_use_id=use.id, content=[{"type": "text", "text": f"row {i}"}])]
    events.append(ev("agent.message", content=[{"type": "text", "text": "All **done**."}]))
    return events + [ev("session.status_idle", stop_reason={"type": "end_turn"})]


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_a_source_callable_is_called_only_when_the_view_renders() -> None:
    t = fold_all(empty(), _turn(2)[:4])
    calls: list[int] = []

    def source() -> Any:
        calls.append(1)
        return t

    view = LiveView(empty(), mode="widget", min_interval=0.05)
    for _ in range(2000):
        view.update(source)
    assert wait_for(lambda: view.sync_count >= 1 and "Step 0" in view._settled.value)
    time.sleep(0.15)
    assert 1 <= len(calls) <= 5  # 2,000 updates, a handful of renders
    view.finish(t)


def test_the_throttle_waits_only_what_is_left_and_batches_a_burst() -> None:
    events = _turn(3)
    view = LiveView(empty(), mode="widget", min_interval=0.3)
    started = time.monotonic()
    view.update(fold_all(empty(), events[:3]))
    assert wait_for(lambda: view.sync_count == 1, timeout=1.0)
    first = time.monotonic() - started
    assert first < 0.2  # the first change after a quiet spell: at once (after a few ms of coalescing)
    view.update(fold_all(empty(), events[:6]))
    view.update(fold_all(empty(), events[:9]))  # same interval: one sync shows both
    assert wait_for(lambda: view.sync_count == 2, timeout=2.0)
    gap = time.monotonic() - started - first
    assert gap >= 0.25 and "Step 2" in view._settled.value
    time.sleep(0.35)
    assert view.sync_count == 2  # nothing new (and the 1 s clock tick has not come yet)
    view.finish(fold_all(empty(), events))


def test_a_long_transcript_is_handed_over_to_the_static_copy(shell: Any) -> None:
    final = fold_all(empty(offline=True), _turn(200))
    view = LiveView(empty(offline=True), mode="widget")
    with capture_output() as cap:
        view.display()
        view.update(fold_all(empty(offline=True), _turn(200)[:50]))
        view.finish(final)
    live, static = cap.outputs
    html = static.data["text/html"]
    assert html.endswith(render_html(final) + "</div>") and "Step 199" in html and "Step 0:" in html
    # the widget is emptied, and no longer hides the copy: the copy takes its place
    assert view.handed_over and view.static_class not in view._style.value
    values = [w.value for w in (view._style, view._header, view._settled, view._live, view._footer)]
    assert values == ["", "", "", "", ""]
    view.finish(final)  # idempotent: nothing is rendered into the widget again
    assert view._settled.value == "" and len(cap.outputs) == 2


def test_a_short_transcript_stays_in_the_widget(shell: Any) -> None:
    final = fold_all(empty(), _turn(2))
    view = LiveView(empty(), mode="widget")
    with capture_output():
        view.display()
        view.finish(final)
    assert not view.handed_over and "All <strong>done</strong>" in view._settled.value
    assert f".{view.static_class}{{display:none!important}}" in view._style.value


def test_the_plain_text_copy_is_bounded() -> None:
    t = fold_all(empty(), _turn(400))
    full = render_text(t)
    text = render_compact(t, limit=4000)
    assert len(full) > 20_000 and len(text) < 4000 + 600
    lines = text.splitlines()
    assert lines[0].startswith("[idle]") and lines[-1].startswith("-- ")
    assert "you: go" in text and "All **done**." in text and "> bash echo row 399" in text
    assert "> bash echo row 390" not in text  # only the last few tool calls get a line
    assert "Step 399: checking **column 399**." in text and "Step 0:" not in text
    assert "not listed here:" in lines[1] and "tool calls" in lines[1]
    small = fold_all(empty(), _turn(2))
    assert render_compact(small) == render_text(small)
