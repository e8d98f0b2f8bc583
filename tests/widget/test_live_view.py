"""LiveView: trait values, throttling, thread safety, the static fallback and text mode."""

from __future__ import annotations

import json
import threading
import time

import pytest
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from nb_agents.events import event_from_json
from nb_agents.transcript import empty, fold, fold_all
from nb_agents.view import LiveView, detect_mode
from nb_agents.view import widget as widget_mod
from nb_agents.view.html import ROOT_CLASS, render_body, render_footer, render_html

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class Events:
    """Wire-JSON event builder with increasing ids and times."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, type_: str, **fields) -> object:
        self.n += 1
        sec = self.n  # one second per event
        stamp = f"2026-11-25T{4 + sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z"
        return event_from_json({"type": type_, "id": f"sevt_{self.n:05d}", "processed_at": stamp, **fields})

    def text(self, s: str) -> list[dict]:
        return [{"type": "text", "text": s}]


@pytest.fixture(scope="module")
def shell():
    return start_ipython()


def basic_turn():
    e = Events()
    use = e("agent.tool_use", name="bash", input={"command": "ls"}, evaluated_permission="allow")
    return e, [
        e("session.status_running"),
        e("user.message", content=e.text("List the files")),
        use,
        e("agent.tool_result", tool_use_id=use.id, content=e.text("sales.csv")),
        e("agent.message", content=e.text("There is **one** file.")),
        e("session.status_idle", stop_reason={"type": "end_turn"}),
    ]


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_update_sets_trait_values_from_the_flusher():
    _, events = basic_turn()
    view = LiveView(empty(offline=True), mode="widget", title="Files")
    t = fold_all(empty(offline=True), events[:4])
    view.update(t)
    assert wait_for(lambda: "sales.csv" in view._settled.value)
    assert (
        "running" in view._header.value
        and "offline emulator" in view._header.value
        and "Files" in view._header.value
    )
    assert view._live.value == ""
    final = fold_all(t, events[4:])
    view.finish(final)
    assert "<strong>one</strong>" in view._settled.value and ">idle<" in view._header.value
    assert (
        view._footer.value
        == f'<div class="{ROOT_CLASS}">{render_footer(view.transcript, now=time.time())}</div>'
    )
    assert view._settled.value == f'<div class="{ROOT_CLASS}">{render_body(view.transcript)}</div>'
    assert "mathjax_ignore" in view._header.value  # "$5 of $10" must not become LaTeX
    assert "nba-static-" in view._style.value and view.static_class in view._style.value


def test_a_streaming_message_lives_in_the_live_part():
    e = Events()
    t = fold_all(
        empty(),
        [
            e("session.status_running"),
            event_from_json({"type": "event_start", "event": {"type": "agent.message", "id": "sevt_m"}}),
        ],
    )
    t = fold(
        t,
        event_from_json(
            {
                "type": "event_delta",
                "event_id": "sevt_m",
                "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "Typing"}},
            }
        ),
    )
    view = LiveView(empty(), mode="widget")
    view.finish(t)
    assert "Typing" in view._live.value and "nba-cur" in view._live.value and view._settled.value == ""


def test_throttled_to_about_ten_syncs_per_second_and_final_state_flushed():
    e = Events()
    view = LiveView(empty(), mode="widget")
    state = {"t": fold(empty(), e("session.status_running"))}

    def feed():
        t = state["t"]
        end = time.monotonic() + 1.0
        i = 0
        while time.monotonic() < end:  # ~1,000 events per second
            t = fold(t, e("agent.message", content=e.text(f"message {i}")))
            view.update(t)
            i += 1
            time.sleep(0.001)
        state["t"], state["n"] = t, i

    worker = threading.Thread(target=feed)
    worker.start()
    worker.join(timeout=30)
    assert state["n"] > 300
    time.sleep(0.3)  # let the flusher show the last fed state
    syncs = view.sync_count
    assert 3 <= syncs <= 14  # 1.3 s at <= 10 syncs per second (+ the first)
    final = fold(state["t"], e("session.status_idle", stop_reason={"type": "end_turn"}))
    view.finish(final)
    assert view.sync_count <= syncs + 1
    assert f"message {state['n'] - 1}" in view._settled.value and ">idle<" in view._header.value


def test_updates_from_many_threads_are_safe():
    e = Events()
    base = fold(empty(), e("session.status_running"))
    transcripts = [fold(base, e("agent.message", content=e.text(f"from thread {k}"))) for k in range(8)]
    view = LiveView(empty(), mode="widget", min_interval=0.01)
    errors: list[BaseException] = []

    def hammer(t):
        try:
            for _ in range(200):
                view.update(t)
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(t,)) for t in transcripts]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    final = fold(transcripts[0], e("session.status_idle", stop_reason={"type": "end_turn"}))
    view.finish(final)
    assert not errors
    assert "from thread 0" in view._settled.value and ">idle<" in view._header.value
    assert view._flusher.thread is not None and not view._flusher.thread.is_alive()


def test_elapsed_time_ticks_while_running(monkeypatch):
    monkeypatch.setattr(widget_mod, "TICK", 0.1)
    e = Events()
    view = LiveView(empty(), mode="widget")
    running = fold(empty(started_at=time.time() - 5), e("session.status_running"))
    view.update(running)
    assert wait_for(lambda: view.sync_count >= 1)
    first = view.sync_count
    assert wait_for(lambda: view.sync_count >= first + 2, timeout=3.0)  # header re-rendered, no new events
    view.finish(running)


def test_display_once_then_static_fallback_with_both_mimetypes(shell):
    _, events = basic_turn()
    view = LiveView(empty(offline=True), mode="widget")
    with capture_output() as cap:
        view.display()
        view.display()  # once
        view.update(fold_all(empty(offline=True), events[:3]))
        final = fold_all(empty(offline=True), events)
        view.finish(final)
        view.finish(final)  # idempotent: no second static copy
    live, static = cap.outputs
    assert live.data[WIDGET_MIME]["model_id"] == view.widget.model_id
    assert live.transient == {"display_id": view.display_id}
    assert set(static.data) == {"text/plain", "text/html"}
    assert "There is **one** file." in static.data["text/plain"] and "sales.csv" in static.data["text/plain"]
    html = static.data["text/html"]
    assert html.startswith(f'<div class="nba-static {view.static_class}">') and "<strong>one</strong>" in html
    assert html.endswith(render_html(final) + "</div>")
    # the widget's own stylesheet hides this copy while the widget renders
    assert f".{view.static_class}{{display:none!important}}" in view._style.value


def test_display_off_the_main_thread_is_refused():
    view = LiveView(empty(), mode="widget")
    errors = []
    th = threading.Thread(target=lambda: errors.append(pytest.raises(RuntimeError, view.display)))
    th.start()
    th.join()
    assert errors


def test_finish_from_a_worker_thread_flushes_but_never_displays(shell):
    _, events = basic_turn()
    view = LiveView(empty(), mode="widget")
    with capture_output() as cap:
        view.display()
        worker = threading.Thread(target=view.finish, args=(fold_all(empty(), events),))
        worker.start()
        worker.join(timeout=10)
    assert len(cap.outputs) == 1 and ">idle<" in view._header.value
    assert cap.stdout == ""
    with capture_output() as cap:
        assert view.show_static()  # the main thread may show the copy later
    assert "text/html" in cap.outputs[0].data


def test_stop_button_calls_back():
    view = LiveView(empty(), mode="widget")
    assert view._button is None  # a foreground view makes no button
    clicked = []
    view.on_stop(lambda: clicked.append(True))
    assert view._button.layout.display is None
    view._button.click()
    assert clicked == [True] and view._button.disabled and view._button.description == "Stopping…"
    assert view._button in view.widget.children
    view.finish(empty())
    assert view._button.layout.display == "none"


def test_the_parts_of_every_view_share_one_layout_and_style():
    """Each widget is a comm opened and a state sent: a view's HTML parts share one Layout and
    one HTMLStyle (kernel-wide) instead of making a pair each, and a closed pair is made again."""
    first, second = LiveView(empty(), mode="widget"), LiveView(empty(), mode="widget")
    parts = [*first.widget.children, *second.widget.children]
    assert len({id(p.layout) for p in parts}) == 1 and len({id(p.style) for p in parts}) == 1
    assert first.widget.layout is parts[0].layout
    parts[0].layout.close()
    third = LiveView(empty(), mode="widget")
    assert third.widget.children[0].layout is not parts[0].layout
    assert third.widget.children[0].layout.comm is not None


def test_text_mode_prints_completed_items_on_the_main_thread_only(capsys):
    _, events = basic_turn()
    view = LiveView(empty(), mode="text")
    assert view.widget is None
    view.display()
    t = fold_all(empty(), events[:3])  # the tool call is still running: not printed yet
    view.update(t)
    assert capsys.readouterr().out == "you: List the files\n"
    t = fold_all(t, events[3:5])
    th = threading.Thread(target=view.update, args=(t,))
    th.start()
    th.join()
    assert capsys.readouterr().out == ""  # a worker thread never prints
    view.finish(fold_all(t, events[5:]))
    out = capsys.readouterr().out
    assert "> bash ls" in out and "There is **one** file." in out and "-- 0 in · 0 out tokens" in out
    assert "you: List the files" not in out


def test_text_mode_finish_on_a_worker_prints_later_on_the_main_thread(capsys):
    _, events = basic_turn()
    view = LiveView(empty(), mode="text")
    worker = threading.Thread(target=view.finish, args=(fold_all(empty(), events),))
    worker.start()
    worker.join(timeout=10)
    assert capsys.readouterr().out == ""
    assert view.show_static()
    out = capsys.readouterr().out
    assert out.startswith("you: List the files") and "-- 0 in" in out


def test_text_mode_quiet_prints_only_the_answer(capsys):
    _, events = basic_turn()
    view = LiveView(empty(), mode="text", quiet=True)
    view.update(fold_all(empty(), events[:5]))
    view.finish(fold_all(empty(), events))
    assert capsys.readouterr().out == "There is **one** file.\n"


def test_detect_mode(monkeypatch, shell):
    monkeypatch.delenv("NB_AGENTS_VIEW", raising=False)
    assert detect_mode() == "text"  # globalipapp's shell is a TerminalInteractiveShell
    assert detect_mode("widget") == "widget"
    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")
    assert detect_mode() == "widget"


def big_transcript_events():
    """~2,000 events of a long analysis: tool calls with big outputs and streamed messages."""
    e = Events()
    card = "sales.csv: 10,000 rows x 12 columns\n" + "col_%d: float64\n" * 12
    events = [
        e("session.status_running"),
        e("user.message", content=e.text("Profile {{sales}}\n" + card * 5)),
    ]
    k = 0
    while len(events) < 2000:
        k += 1
        use = e(
            "agent.tool_use",
            name="bash",
            input={
                "command": f"python - <<'EOF'\nimport pandas as pd\ndf = pd.read_csv('/mnt/session/uploads/sales.csv')\nprint(df.describe())  # step {k}\nEOF"
            },
            evaluated_permission="allow",
        )
        usage = {
            "input_tokens": 900,
            "output_tokens": 120,
            "cache_read_input_tokens": 5000,
            "cache_creation_input_tokens": 0,
        }
        events += [
            e("span.model_request_start"),
            event_from_json(
                {"type": "event_start", "event": {"type": "agent.thinking", "id": f"sevt_th{k}"}}
            ),
            e("agent.thinking", id=f"sevt_th{k}"),
            use,
            e("span.model_request_end", model_request_start_id="x", model_usage=usage),
            e(
                "agent.tool_result",
                tool_use_id=use.id,
                content=e.text("       revenue     units   price\n" * 120),
            ),
        ]
        if k % 3 == 0:
            mid = f"sevt_msg{k}"
            events += [
                e("span.model_request_start"),
                event_from_json({"type": "event_start", "event": {"type": "agent.message", "id": mid}}),
            ]
            events += [
                event_from_json(
                    {
                        "type": "event_delta",
                        "event_id": mid,
                        "delta": {
                            "type": "content_delta",
                            "index": 0,
                            "content": {"type": "text", "text": "Revenue grows "},
                        },
                    }
                )
                for _ in range(20)
            ]
            events += [
                e("agent.message", id=mid, content=e.text("Revenue grows **12%** month over month; " * 8)),
                e("span.model_request_end", model_request_start_id="x", model_usage=usage),
            ]
            events += [
                e(
                    "session.usage",
                    usage={
                        "input_tokens": 900 * k,
                        "output_tokens": 120 * k,
                        "list_cost": {"amount": str(k), "currency": "USD"},
                    },
                )
            ]
    events += [
        e("agent.message", content=e.text("Done.")),
        e("session.status_idle", stop_reason={"type": "end_turn"}),
    ]
    return events


def test_saved_size_of_a_two_thousand_event_run_stays_small(shell):
    events = big_transcript_events()
    assert len(events) >= 2000
    view = LiveView(empty(offline=True), mode="widget")
    t = empty(offline=True)
    with capture_output() as cap:
        view.display()
        for ev in events:
            t = fold(t, ev)
            view.update(t)
        view.finish(t)
    assert len(t.tool_calls) > 100
    widgets = [view.widget, *view.widget.children]
    state = {w.model_id: w.get_state() for w in widgets}
    state.update({w.layout.model_id: w.layout.get_state() for w in widgets})
    # nbformat writes JSON with ensure_ascii=False
    saved = len(json.dumps(state, ensure_ascii=False).encode()) + len(
        json.dumps([o.data for o in cap.outputs], ensure_ascii=False).encode()
    )
    print("saved bytes", saved)
    assert saved < 150_000, saved
