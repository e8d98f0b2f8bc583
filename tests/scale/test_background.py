"""Background runs (`%%agent --bg`, `ask(background=True)`) in a real IPython shell on the emulator."""

from __future__ import annotations

import time

import pytest

from nb_agents.errors import SessionError
from nb_agents.sessions import BackgroundRun, StillRunning, get_session

from .conftest import user_messages

SLOW = "[[emulator: scenario slow]]\nrun the long job"
ECHO = "[[emulator: echo]]\n"


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_bg_cell_returns_at_once_and_other_cells_run(ip, capsys):
    t0 = time.monotonic()
    ip.run_cell_magic("agent", "--bg --out job", SLOW)
    assert time.monotonic() - t0 < 5  # the slow scenario waits 30 s inside the turn
    job = ip.user_ns["job"]
    assert isinstance(job, BackgroundRun) and ip.user_ns["_agent"] is job and not job.done
    ip.run_cell("x = 40 + 2")  # the kernel is free
    assert ip.user_ns["x"] == 42
    with pytest.raises(StillRunning):
        job.text  # noqa: B018 - a result before the end is a one-line error
    with pytest.raises(StillRunning):
        job.wait(0.05)
    _wait_for(lambda: len(job.transcript.messages) >= 1)  # the worker keeps folding events
    ip.run_line_magic("agent", "interrupt default")
    ip.run_line_magic("agent", "wait default")
    run = ip.user_ns["_agent"]
    assert run.stop_reason == "interrupted" and run.interrupted
    assert "Starting a long job." in run.text and "finished" not in run.text
    out = capsys.readouterr().out
    assert "stopping the background run" in out
    assert "Starting a long job." in out  # the static copy, shown by the waiting cell
    assert get_session("default").info()["status"] == "idle"


def test_second_bg_on_a_busy_session_is_one_line_error(ip):
    job = get_session("busy").ask(SLOW, background=True)
    try:
        with pytest.raises(SessionError, match="still running in the background"):
            get_session("busy").ask(ECHO + "again", background=True)
        with pytest.raises(SessionError, match="%agent wait busy"):
            get_session("busy").ask(ECHO + "foreground too")
    finally:
        job.interrupt()
        job.wait(20)


def test_several_named_sessions_run_at_once(ip, emu):
    jobs = [get_session(name).ask(SLOW, background=True) for name in ("a", "b", "c")]
    _wait_for(lambda: all(emu.store.sessions[j.session_id].session["status"] == "running" for j in jobs))
    for job in jobs:
        job.interrupt()
    runs = [job.wait(20) for job in jobs]
    assert [r.stop_reason for r in runs] == ["interrupted"] * 3
    assert len({r.session_id for r in runs}) == 3
    assert all(user_messages(emu, r.session_id) == 1 for r in runs)


def test_stop_button_interrupts_a_background_run(ip, emu, monkeypatch):
    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")  # a real widget (no frontend needed)
    job = get_session("btn").ask(SLOW, background=True, live=True)
    view = job.turn.view
    assert view.widget is not None and view._button.layout.display is None  # Stop is shown
    _wait_for(lambda: len(job.transcript.messages) >= 1)
    view._button.click()  # what the frontend's click does, on the kernel's comm handler
    run = job.wait(20)
    assert run.stop_reason == "interrupted"
    assert emu.store.sessions[run.session_id].session["status"] == "idle"
    assert view._button.layout.display == "none"  # hidden once finished
    _wait_for(lambda: "interrupted" in view._values.get("live", "").lower()
              + view._values.get("settled", "").lower())


def test_stop_before_the_message_reached_the_server(ip, emu):
    job = get_session("early").ask(SLOW, background=True, live=False)
    job.interrupt()  # most likely before the worker sent the message: sent on its echo
    run = job.wait(20)
    assert run.stop_reason == "interrupted"
    assert "finished" not in run.text
    assert user_messages(emu, run.session_id) == 1


def test_background_run_without_stop_and_next_cell_collects_it(ip, capsys):
    ip.run_cell_magic("agent", "--bg -s quick", ECHO + "hello from the background")
    job = ip.user_ns["_agent"]
    _wait_for(lambda: job.done)
    assert capsys.readouterr().out == ""  # a worker prints nothing
    ip.run_cell_magic("agent", "-s quick", ECHO + "next turn")
    out = capsys.readouterr().out
    assert out.index("hello from the background") < out.index("next turn")
    assert job.text == "hello from the background" and job.stop_reason == "end_turn"
    assert len(get_session("quick").runs) == 2


def test_files_are_pulled_in_the_background(ip):
    import pandas as pd

    ip.user_ns["sales"] = pd.DataFrame({"month": [1, 2, 3], "revenue": [10.0, 12.5, 9.0]})
    ip.run_cell_magic("agent", "--bg -s files --out job", "Profile {{sales}}")
    run = ip.user_ns["job"].wait(60)
    assert run.stop_reason == "end_turn"
    assert "sales_profile.csv" in run.outputs and run.outputs["sales_profile.csv"].path.is_file()


def test_custom_tools_answer_in_the_background(ip):
    calls = []

    def lookup_price(sku: str = "A1") -> str:
        """Price of a product."""
        calls.append(sku)
        return "4.20 EUR"

    ip.user_ns["lookup_price"] = lookup_price
    ip.run_cell_magic("agent", "--bg -s tools --tools lookup_price --out job", "Use lookup_price for 'A1'")
    run = ip.user_ns["job"].wait(60)
    assert calls == ["A1"]
    assert run.stop_reason == "end_turn" and "4.20 EUR" in run.text


def test_wait_without_background_runs(ip, capsys):
    ip.run_line_magic("agent", "wait")
    assert "no background runs" in capsys.readouterr().out


@pytest.mark.anyio
async def test_background_run_is_awaitable(ip):
    job = get_session("aw").ask(ECHO + "awaited", background=True, live=False)
    run = await job
    assert run.text == "awaited" and job.done and job.status == "idle"


def test_approval_buttons_in_a_background_view(ip, monkeypatch):
    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")
    job = get_session("approve").ask("[[emulator: scenario confirm]]\nclean up", background=True, live=True,
                                     ask_all=True)
    prompter = get_session("approve").action_handler.prompter
    assert prompter.widget in job.turn.view.widget.children  # the rows live inside the run's view
    _wait_for(lambda: prompter.rows, timeout=20)
    (row,) = prompter.rows.values()
    row.allow_button.click()  # the kernel is free: the click is handled while the run goes on
    run = job.wait(30)
    assert run.stop_reason == "end_turn"
    confirmations = [e for e in run.events if e.type == "user.tool_confirmation"]
    assert [c.result for c in confirmations] == ["allow"]
