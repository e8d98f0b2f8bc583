"""The streaming loop through the shell: stream cuts, interrupts, timeouts, requires_action."""

from __future__ import annotations

import time

import pytest

from nb_agents.transcript import Notice

ECHO = "[[emulator: echo]]\n"

TOOLS_SCENARIO = [
    {"think": True, "say": "Let me look."},
    {"tool": "bash", "input": {"command": "echo hi"}, "say": "Running a command."},
    {"say": "The answer is **42**.\n\nDone."},
]


def shape(t):
    """What a transcript shows, minus client-side notices (ids included: same session)."""
    out = []
    for item in t.items:
        if isinstance(item, Notice):
            continue
        out.append((type(item).__name__, getattr(item, "id", None), getattr(item, "text", None),
                    getattr(item, "status", None), getattr(item, "result_text", None)))
    return out


def rebuilt_turn(run):
    """The same turn folded from events.list only (what an uncut stream would have shown)."""
    from nb_agents.api import make_client
    from nb_agents.transcript import empty, fold_all

    listed = list(make_client().beta.sessions.events.list(run.session_id, limit=1000, order="asc"))
    first = next(i for i, e in enumerate(listed) if e.id == run.events[0].id)
    last = next(i for i, e in enumerate(listed) if e.id == run.events[-1].id)
    return fold_all(empty(offline=True), listed[first:last + 1])


@pytest.mark.parametrize("mode, cut_after", [("abort", 3), ("eof", 5), ("abort", 1)])
def test_transcript_after_stream_cuts_equals_an_uncut_run(ip, emu, scenario, mode, cut_after):
    emu.faults.update(stream_cut_after=cut_after, stream_cut_mode=mode)
    ip.run_cell_magic("agent", "-o r", scenario(TOOLS_SCENARIO) + "go")
    run = ip.user_ns["r"]
    emu.faults.reset()
    assert run.stop_reason == "end_turn" and "42" in run.text
    notices = [i.text for i in run.transcript.items if isinstance(i, Notice)]
    assert any(n.startswith("reconnecting") for n in notices)
    assert shape(run.transcript) == shape(rebuilt_turn(run))
    ids = [e.id for e in run.events]
    assert len(ids) == len(set((e.id, e.processed_at is None) for e in run.events))


def test_failed_sends_are_retried_once_never_doubled(ip, emu, monkeypatch):
    import nb_agents.api.retry
    from nb_agents.api import make_client

    monkeypatch.setattr(nb_agents.api.retry, "BACKOFF_START", 0.01)
    from nb_agents.errors import AgentAPIError

    ip.run_cell_magic("agent", "-o first", ECHO + "warm up")  # creates the session
    sid = ip.user_ns["first"].session_id
    emu.faults.fail_next(2, 503, route="POST /v1/sessions/*/events")
    ip.run_cell_magic("agent", "-o r", ECHO + "once")
    assert ip.user_ns["r"].text == "once"
    emu.faults.fail_next(10, 503, route="POST /v1/sessions/*/events")
    with pytest.raises(AgentAPIError, match="after 4 attempts.*503"):
        ip.run_cell_magic("agent", "-o r", ECHO + "never")
    emu.faults.reset()
    texts = [e.content[0].text for e in make_client().beta.sessions.events.list(sid, limit=1000)
             if e.type == "user.message"]
    assert texts == [ECHO + "warm up", ECHO + "once"]


def test_a_send_applied_before_a_lost_response_is_not_resent(ip, emu, monkeypatch):
    """The server took the message but the response was lost: the echo is found, no resend."""
    import anthropic

    from nb_agents.sessions import get_session

    ip.run_cell_magic("agent", "-o first", ECHO + "warm up")
    sess = get_session("default")
    real_with_options = sess.client.with_options

    def losing_with_options(**kw):
        client = real_with_options(**kw)
        real_send = client.beta.sessions.events.send

        def send(session_id, **params):
            real_send(session_id, **params)
            raise anthropic.APIConnectionError(request=None)  # type: ignore[arg-type]

        client.beta.sessions.events.send = send
        return client

    monkeypatch.setattr(sess.client, "with_options", losing_with_options)
    ip.run_cell_magic("agent", "-o r", ECHO + "exactly once")
    assert ip.user_ns["r"].text == "exactly once"
    from nb_agents.api import make_client

    texts = [e.content[0].text for e in make_client().beta.sessions.events.list(sess.session_id, limit=1000)
             if e.type == "user.message"]
    assert texts.count(ECHO + "exactly once") == 1


def test_interrupt_mid_turn_keeps_what_arrived(ip, scenario):
    from nb_agents.sessions import get_session

    steps = [{"say": "Starting the long job."}, {"delay": 20}, {"say": "never shown"}]
    sess = get_session("default")
    fired = []

    def stop_on_first_message(event):
        if event.type == "agent.message" and not fired:
            fired.append(event.id)
            raise KeyboardInterrupt

    sess.listeners.append(stop_on_first_message)
    t0 = time.monotonic()
    ip.run_cell_magic("agent", "-o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert time.monotonic() - t0 < 15
    assert run.interrupted and run.stop_reason == "interrupted"
    assert [m.text for m in run.messages] == ["Starting the long job."]
    assert run.transcript.interrupted and run.transcript.status == "idle"
    assert any(e.type == "user.interrupt" for e in run.events)
    # the next cell continues the same session
    sess.listeners.remove(stop_on_first_message)
    ip.run_cell_magic("agent", "-o n", ECHO + "after")
    assert ip.user_ns["n"].session_id == run.session_id and ip.user_ns["n"].text == "after"


def test_a_real_kernel_interrupt_while_blocked_on_the_stream(ip, scenario):
    """SIGINT to the process (what the notebook's stop button does) while the main thread waits
    inside the SSE read: Linux gives a process-directed signal to the main thread first, so the
    blocking recv returns EINTR and KeyboardInterrupt is raised in the loop at once."""
    import os
    import signal
    import threading

    steps = [{"say": "Working on it."}, {"delay": 20}, {"say": "never shown"}]
    timer = threading.Timer(1.0, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        ip.run_cell_magic("agent", "-o r", scenario(steps) + "go")
    finally:
        timer.cancel()
    run = ip.user_ns["r"]
    assert time.monotonic() - t0 < 8
    assert run.interrupted and [m.text for m in run.messages] == ["Working on it."]
    assert run.transcript.status == "idle"


def test_timeout_holds_while_events_keep_coming(ip, scenario):
    """A stream that never pauses (an event every 0.2 s) never hits a read timeout: only the
    check on every event ends it at `--timeout`."""
    steps = [step for n in range(60) for step in ({"say": f"tick {n}"}, {"delay": 0.2})] + [{"say": "never"}]
    t0 = time.monotonic()
    ip.run_cell_magic("agent", "--timeout 1.5 -o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert time.monotonic() - t0 < 8  # the whole script takes 12 s
    assert run.interrupted and "never" not in run.text and 1 <= len(run.messages) < 40
    assert any("timed out after 1.5 s" in i.text for i in run.transcript.items if isinstance(i, Notice))
    ip.run_cell_magic("agent", "-o n", ECHO + "next")  # the next cell works as if nothing happened
    assert ip.user_ns["n"].text == "next" and not ip.user_ns["n"].interrupted


def test_timeout_interrupts_the_same_way(ip, scenario):
    steps = [{"say": "begin"}, {"delay": 20}, {"say": "never"}]
    t0 = time.monotonic()
    ip.run_cell_magic("agent", "--timeout 1 -o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert 0.9 < time.monotonic() - t0 < 15
    assert run.interrupted and run.text != "never"
    assert any("timed out after 1 s" in i.text for i in run.transcript.items if isinstance(i, Notice))


def test_unanswered_custom_tool_is_shown_waiting_never_hangs(ip, scenario):
    steps = [{"custom_tool": "get_weather", "input": {"city": "Paris"}, "say": "Checking."}]
    t0 = time.monotonic()
    ip.run_cell_magic("agent", "-o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert time.monotonic() - t0 < 10
    assert run.stop_reason == "requires_action" and run.waiting
    notes = [i.text for i in run.transcript.items if isinstance(i, Notice)]
    assert any("waiting" in n and "get_weather" in n for n in notes)


def test_action_handler_seam_answers_and_the_loop_continues(ip, scenario):
    from nb_agents.sessions import get_session

    class Answer:
        def resolve(self, pending, ctx):
            answered = {getattr(e, "custom_tool_use_id", None) for e in ctx.history}
            return [
                {"type": "user.custom_tool_result", "custom_tool_use_id": e.id,
                 "content": [{"type": "text", "text": "sunny"}]}
                for e in pending if e.id not in answered
            ]

    steps = [{"custom_tool": "get_weather", "input": {"city": "Paris"}}, {"say": "It is sunny."}]
    get_session("default").action_handler = Answer()
    ip.run_cell_magic("agent", "-o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert run.stop_reason == "end_turn" and run.text == "It is sunny."
    assert [c.status for c in run.tool_calls] == ["done"]


def test_python_api_mirrors_the_magic(ip):
    import nb_agents

    s = nb_agents.session("api", verbose=True)
    run = s.ask(ECHO + "from python {{n}}", namespace={"n": 7}, live=False)
    assert run.text == "from python 7" and run.verbose and run.session_name == "api"
    again = s.ask(ECHO + "second", live=False)
    assert again.session_id == run.session_id and len(s.runs) == 2
    other = nb_agents.attach(run.session_id, name="api-copy")
    assert [m.text for m in other.history.messages] == ["from python 7", "second"]
    assert s.ask("x {{y}}", dry_run=True, namespace={"y": 1}).prompt == "x 1"


def test_record_dir_writes_a_cassette(ip, tmp_path):
    ip.run_line_magic("config", f"AgentMagic.record_dir = {str(tmp_path)!r}")
    try:
        ip.run_cell_magic("agent", "-o r", ECHO + "recorded")
    finally:
        ip.run_line_magic("config", "AgentMagic.record_dir = ''")
    files = list(tmp_path.glob("*.jsonl"))
    assert len(files) == 1 and "recorded" in files[0].read_text()


def test_tools_flag_answers_custom_tools_in_the_kernel(ip, emu, scenario):
    calls = []

    def get_weather(city: str) -> str:
        """Weather of a city."""
        calls.append(city)
        return f"sunny in {city}"

    ip.user_ns["get_weather"] = get_weather
    steps = [{"custom_tool": "get_weather", "input": {"city": "Paris"}}, {"say": "Done."}]
    ip.run_cell_magic("agent", "--tools get_weather --max-usd 2 -o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert calls == ["Paris"] and run.stop_reason == "end_turn" and run.text == "Done."
    assert [(c.name, c.status, c.result_text) for c in run.tool_calls] == [("get_weather", "done", "sunny in Paris")]
    from nb_agents.api import make_client

    remote = make_client().beta.sessions.retrieve(run.session_id)
    assert remote.budget.max_list_cost.amount == "200"
    assert any(t.type == "custom" and t.name == "get_weather" for t in remote.agent.tools)


def test_a_later_cells_handler_never_reruns_an_earlier_cells_call(ip, emu, scenario):
    """The exactly-once ledger is kernel-wide: each cell builds a new handler, and the new one
    knows what the earlier one ran even when the history it is shown does not say so yet."""
    from nb_agents.sessions import get_session
    from nb_agents.tools.ledger import ActionContext

    calls = []

    def get_weather(city: str) -> str:
        """Weather of a city."""
        calls.append(city)
        return f"sunny in {city}"

    ip.user_ns["get_weather"] = get_weather
    steps = [{"custom_tool": "get_weather", "input": {"city": "Oslo"}}, {"say": "Done."}]
    ip.run_cell_magic("agent", "--tools get_weather -o r", scenario(steps) + "go")
    first = get_session("default").action_handler
    [call] = [e for e in ip.user_ns["r"].events if e.type == "agent.custom_tool_use"]
    ip.run_cell_magic("agent", "--tools get_weather -o r2", ECHO + "next")
    later = get_session("default").action_handler
    assert later is not first and ip.user_ns["r2"].text == "next"
    # the call re-delivered with a history that lags (no result in it): answered already, not re-run
    assert later.resolve([call], ActionContext(history=())) == [] and later.unanswered([call]) == []
    assert calls == ["Oslo"] and later.executions["get_weather"] == 0


def test_unknown_tool_name_is_one_line(ip):
    from nb_agents.errors import ToolSetupError

    ip.user_ns["get_weather"] = lambda city: city
    with pytest.raises(ToolSetupError, match="did you mean 'get_weather'"):
        ip.run_cell_magic("agent", "--tools get_wether", "hi")


def test_a_new_cell_after_an_unanswered_tool_does_not_hang(ip, scenario):
    steps = [{"custom_tool": "get_weather", "input": {"city": "Paris"}}, {"say": "never"}]
    ip.run_cell_magic("agent", "-o r", scenario(steps) + "go")
    assert ip.user_ns["r"].stop_reason == "requires_action"
    t0 = time.monotonic()
    ip.run_cell_magic("agent", "--timeout 20 -o n", ECHO + "next question")
    run = ip.user_ns["n"]
    assert time.monotonic() - t0 < 10
    assert run.stop_reason == "end_turn" and run.text == "next question"
    notes = [i.text for i in run.transcript.items if isinstance(i, Notice)]
    assert any("still waiting for custom tool `get_weather`" in n for n in notes)


def test_tools_given_later_answer_the_waiting_call(ip, scenario):
    steps = [{"custom_tool": "get_weather", "input": {"city": "Oslo"}}, {"say": "It is cold."}]
    ip.run_cell_magic("agent", "-o r", scenario(steps) + "go")
    assert ip.user_ns["r"].stop_reason == "requires_action"
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return f"cold in {city}"

    ip.user_ns["get_weather"] = get_weather
    ip.run_cell_magic("agent", "--tools get_weather --timeout 20 -o n", ECHO + "and now?")
    run = ip.user_ns["n"]
    assert run.stop_reason == "end_turn" and not run.interrupted
    texts = [m.text for m in run.messages]
    assert "It is cold." in texts and texts[-1] == "and now?"


def test_approval_and_kernel_tool_flags_reach_the_session(ip):
    from nb_agents.api import make_client

    ip.run_cell_magic("agent", "--new --ask bash --kernel-tools -o r", ECHO + "x")
    remote = make_client().beta.sessions.retrieve(ip.user_ns["r"].session_id)
    toolset = next(t for t in remote.agent.tools if t.type == "agent_toolset_20260401")
    policies = {c.name: c.permission_policy.type for c in toolset.configs if c.permission_policy}
    assert policies.get("bash") == "always_ask"
    assert [t.name for t in remote.agent.tools if t.type == "custom"]
    ip.run_cell_magic("agent", "--new --auto bash -o s", ECHO + "y")
    remote = make_client().beta.sessions.retrieve(ip.user_ns["s"].session_id)
    toolset = next(t for t in remote.agent.tools if t.type == "agent_toolset_20260401")
    assert {c.name: c.permission_policy.type for c in toolset.configs if c.permission_policy}.get("bash") == "auto"


def test_sample_zero_sends_no_sample_rows(ip):
    import pandas as pd

    ip.user_ns["tiny"] = pd.DataFrame({"a": [111111, 222222]})
    ip.run_cell_magic("agent", "--sample 0 -o r", ECHO + "look at {{tiny}}")
    sent = ip.user_ns["r"].transcript.user_messages[0].text
    assert "### Input `tiny`" in sent and "111111" not in sent
    ip.run_cell_magic("agent", "--new --sample 2 -o s", ECHO + "look at {{tiny}}")
    assert "111111" in ip.user_ns["s"].transcript.user_messages[0].text
