"""Bad input, part 6: a cell fails — and the next cell works as if the failed one never ran.

Each test makes one failure happen (an answer that cannot be sent, a silent agent past its
`--timeout`, a bad `--record` path, a failed background run, `%agent new` during a run, a `--new`
whose set-up fails, a rejected option value), checks what the user sees, then runs the next cell
and checks it is unaffected: nothing hangs, nothing sticks, nothing escapes."""

from __future__ import annotations

import time
from typing import Any

import pytest

import nb_agents.api.stream as stream_module
from nb_agents.api.stream import SEND_ATTEMPTS

ECHO = "[[emulator: echo]]\n"


def cell(ip: Any, line: str, body: str) -> Any:
    return ip.run_cell_magic("agent", line, body)


def notes(run: Any) -> list[str]:
    return [i.text for i in run.transcript.items if type(i).__name__ == "Notice"]


def next_cell_works(ip: Any, line: str = "", *, within: float = 15.0) -> Any:
    """The next cell on the same session: an ordinary turn that ends on its own, quickly."""
    t0 = time.monotonic()
    cell(ip, f"--timeout 30 -o nxt {line}", ECHO + "next question")
    run = ip.user_ns["nxt"]
    assert time.monotonic() - t0 < within
    assert run.stop_reason == "end_turn" and not run.interrupted and run.text == "next question"
    assert ip.user_ns["_agent"] is run
    return run


# -- 1. a custom-tool answer that fails to send ---------------------------------------------------
def test_a_tool_answer_that_fails_to_send_is_sent_by_the_next_cell(ip: Any, emu: Any, scenario: Any,
                                                                   monkeypatch: Any) -> None:
    monkeypatch.setattr(stream_module, "retry_wait", lambda *a, **k: 0.01)
    calls: list[str] = []

    def get_weather(city: str) -> str:
        """Weather of a city."""
        calls.append(city)
        emu.faults.fail_next(SEND_ATTEMPTS, 503, "POST /v1/sessions/*/events")  # the answer's every attempt
        return f"sunny in {city}"

    ip.user_ns["get_weather"] = get_weather
    steps = [{"custom_tool": "get_weather", "input": {"city": "Paris"}}, {"say": "It is sunny."}]
    cell(ip, "--tools get_weather --timeout 30 -o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert run.stop_reason == "requires_action"
    assert any(n.startswith("could not send the answers: could not send the message after") for n in notes(run))
    nxt = next_cell_works(ip)
    assert calls == ["Paris"]  # sent again, not run again
    assert "It is sunny." in [m.text for m in nxt.messages]


def test_records_that_look_like_content_blocks_are_sent_as_data(ip: Any, scenario: Any) -> None:
    def find_images() -> list[dict[str, str]]:
        """Image records."""
        return [{"type": "image", "path": "x.png"}]

    ip.user_ns["find_images"] = find_images
    steps = [{"custom_tool": "find_images", "input": {}}, {"say": "Found one."}]
    cell(ip, "--tools find_images --timeout 30 -o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert run.stop_reason == "end_turn" and run.text == "Found one."
    assert [(c.status, c.result_text) for c in run.tool_calls] == [("done", '[{"type": "image", "path": "x.png"}]')]
    next_cell_works(ip)


def test_answers_the_api_refuses_become_an_error_the_agent_sees(ip: Any, scenario: Any, monkeypatch: Any) -> None:
    import nb_agents.tools.handler as handler_module

    monkeypatch.setattr(handler_module, "to_content", lambda value: [{"type": "text", "text": 1}])  # a 400
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "sunny"

    ip.user_ns["get_weather"] = get_weather
    steps = [{"custom_tool": "get_weather", "input": {"city": "Paris"}}, {"say": "Understood."}]
    cell(ip, "--tools get_weather --timeout 30 -o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert run.stop_reason == "end_turn" and run.text == "Understood."
    assert any(n.startswith("the API refused the tool answers (API error 400") for n in notes(run))
    (call,) = run.tool_calls
    assert call.is_error and "its result could not be sent: API error 400" in call.result_text
    next_cell_works(ip)


# -- 2. --timeout on a silent agent ---------------------------------------------------------------
@pytest.fixture()
def pinging(make_emulator: Any, exit_stack: Any) -> Any:
    """An emulator whose streams send a ping every 0.1 s: a silent agent's stream never times out."""
    import nb_agents.api.client as nb_client

    emu = make_emulator(heartbeat_interval=0.1)
    exit_stack.enter_context(nb_client.using_emulator(emu))
    return emu


def test_timeout_fires_on_time_while_the_agent_is_silent(ip: Any, pinging: Any, scenario: Any) -> None:
    t0 = time.monotonic()
    cell(ip, "--timeout 1 -o r", scenario([{"delay": 5}, {"say": "too late"}]) + "think long")
    elapsed = time.monotonic() - t0
    run = ip.user_ns["r"]
    assert elapsed < 3.5, elapsed  # the silence lasts 5 s; the deadline and the drain end well before
    assert run.interrupted and run.stop_reason == "interrupted" and "too late" not in run.text
    assert any(n == "timed out after 1 s: stopping the agent…" for n in notes(run))
    next_cell_works(ip)


def test_timeout_fires_on_time_in_an_async_turn(ip: Any, pinging: Any, scenario: Any) -> None:
    import asyncio

    import nb_agents

    sess = nb_agents.session("silent")
    t0 = time.monotonic()
    run = asyncio.run(sess.ask_async(scenario([{"delay": 5}, {"say": "too late"}]) + "think", timeout=1, live=False))
    assert time.monotonic() - t0 < 3.5
    assert run.interrupted and "too late" not in run.text
    nxt = asyncio.run(sess.ask_async(ECHO + "next question", timeout=30, live=False))
    assert nxt.stop_reason == "end_turn" and nxt.text == "next question"


# -- 4. a failed background run -------------------------------------------------------------------
def _failed_bg_run(ip: Any, emu: Any, capsys: Any) -> Any:
    """A `--bg` run whose stream is refused (400: not retryable): the worker fails."""
    emu.faults.fail_next(1, 400, "GET /v1/sessions/*/events/stream")
    cell(ip, "--bg -o job", ECHO + "doomed")
    job = ip.user_ns["job"]
    deadline = time.monotonic() + 20
    while not job.done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.status == "failed" and "API error 400" in str(job.error)
    capsys.readouterr()
    return job


def test_a_failed_background_run_is_reported_once_then_the_session_works(ip: Any, emu: Any, capsys: Any) -> None:
    _failed_bg_run(ip, emu, capsys)
    next_cell_works(ip)
    err = capsys.readouterr().err
    assert err.count("the background run of session 'default' failed: API error 400") == 1
    next_cell_works(ip)  # reported once: the session is an ordinary one again
    assert "failed" not in capsys.readouterr().err


def test_a_failed_background_run_does_not_stick_to_new(ip: Any, emu: Any, capsys: Any) -> None:
    _failed_bg_run(ip, emu, capsys)
    ip.run_line_magic("agent", "new")
    next_cell_works(ip, "--new")
    assert capsys.readouterr().err.count("failed: API error 400") == 1


def test_wait_reports_a_failed_run_and_still_waits_for_the_others(ip: Any, emu: Any, capsys: Any) -> None:
    _failed_bg_run(ip, emu, capsys)
    cell(ip, "--bg -s other -o ok", "[[emulator: scenario slow]]\nslowly")
    time.sleep(0.5)
    ip.run_line_magic("agent", "interrupt other")
    ip.run_line_magic("agent", "wait")  # waits for 'other' too; reports 'default' once
    err = capsys.readouterr().err
    assert err.count("the background run of session 'default' failed: API error 400") == 1
    assert ip.user_ns["ok"].done and ip.user_ns["ok"].stop_reason == "interrupted"
    ip.run_line_magic("agent", "wait")
    assert "failed" not in capsys.readouterr().err
    next_cell_works(ip)


# -- 5. %agent new during a background run ----------------------------------------------------------
def test_new_during_a_background_run_is_refused_and_the_run_goes_on(ip: Any, scenario: Any) -> None:
    from nb_agents.errors import SessionError

    cell(ip, "--bg -s busy -o job", scenario([{"delay": 1.5}, {"say": "still mine"}]) + "go")
    job = ip.user_ns["job"]
    for command in ("new busy", "archive busy"):
        with pytest.raises(SessionError, match=r"session 'busy' is still running in the background"):
            ip.run_line_magic("agent", command)
    run = job.wait(20)
    assert job.status == "idle" and run.text == "still mine"
    next_cell_works(ip, "-s busy")
    ip.run_line_magic("agent", "new busy")  # free now: accepted
    nxt = next_cell_works(ip, "-s busy")
    assert nxt.session_id != run.session_id


# -- 3. an output path the turn cannot write ----------------------------------------------------
def _server_messages(emu: Any, session_id: str) -> list[str]:
    from nb_agents.api import make_client

    events = make_client().beta.sessions.events.list(session_id, limit=1000, order="asc")
    return [b.text for e in events if e.type == "user.message" for b in e.content]


@pytest.mark.parametrize("where", ["--record", "record_dir", "outputs_dir"])
def test_an_unwritable_output_path_is_refused_before_anything_is_sent(ip: Any, emu: Any, tmp_path: Any,
                                                                     monkeypatch: Any, where: str) -> None:
    from nb_agents.errors import ConfigError

    cell(ip, "-o first", ECHO + "first")
    first = ip.user_ns["first"]
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder")
    line = "-o unwritten"
    if where == "--record":
        line += f" --record {blocker}/run"
        message = f"--record: cannot write {blocker}/run.jsonl: {blocker} is not a directory"
    elif where == "record_dir":
        ip.run_line_magic("config", f"AgentMagic.record_dir = '{blocker}/cassettes'")
        message = f"record_dir: cannot write {blocker}/cassettes/run.jsonl: {blocker} is not a directory"
    else:
        monkeypatch.setenv("NB_AGENTS_OUTPUTS_DIR", str(blocker / "out"))
        message = f"outputs_dir: cannot write {blocker}/out/session/output: {blocker} is not a directory"
    with pytest.raises(ConfigError) as err:
        cell(ip, line, ECHO + "never paid for")
    assert str(err.value) == message
    assert "unwritten" not in ip.user_ns and ip.user_ns["_agent"] is first
    assert not any("never paid for" in m for m in _server_messages(emu, first.session_id))
    if where == "record_dir":
        ip.run_line_magic("config", "AgentMagic.record_dir = ''")
    monkeypatch.delenv("NB_AGENTS_OUTPUTS_DIR")
    nxt = next_cell_works(ip)
    assert nxt.session_id == first.session_id


# -- 6. --new whose set-up fails ----------------------------------------------------------------------
@pytest.mark.parametrize("failure", ["tools", "upload", "create"])
def test_a_failed_new_keeps_the_current_conversation(ip: Any, emu: Any, tmp_path: Any, monkeypatch: Any,
                                                     failure: str) -> None:
    from nb_agents.errors import NbAgentsError

    cell(ip, "-o first", ECHO + "first")
    first = ip.user_ns["first"]
    line = "--new -o r"
    if failure == "tools":
        line += " --tools no_such_function"
    elif failure == "upload":
        data = tmp_path / "data.csv"
        data.write_text("a,b\n1,2\n")
        line += f" --files {data}"
        emu.faults.fail_next(3, 400, "POST /v1/files")
    else:
        emu.faults.fail_next(3, 400, "POST /v1/sessions")  # (the SDK retries twice)
    with pytest.raises(NbAgentsError):
        cell(ip, line, ECHO + "in a new session")
    emu.faults.reset()
    nxt = next_cell_works(ip)
    assert nxt.session_id == first.session_id  # the same conversation goes on
    from nb_agents.sessions import get_session

    assert [e.id for e in get_session().events][: len(first.events)] == [e.id for e in first.events]


def test_a_successful_new_switches_at_the_end(ip: Any) -> None:
    cell(ip, "-o first", ECHO + "first")
    nxt = next_cell_works(ip, "--new")
    assert nxt.session_id != ip.user_ns["first"].session_id
    again = next_cell_works(ip)
    assert again.session_id == nxt.session_id


# -- 7. rejected option values do not stick -------------------------------------------------------
@pytest.mark.parametrize("flag", ["--tools get_wether", "--ask bsh", "--auto bahs"])
def test_a_rejected_option_value_does_not_stick(ip: Any, flag: str) -> None:
    from nb_agents.errors import NbAgentsError

    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "sunny"

    ip.user_ns["get_weather"] = get_weather
    cell(ip, "-o first", ECHO + "first")
    with pytest.raises(NbAgentsError, match="did you mean"):
        cell(ip, flag, ECHO + "typo")
    nxt = next_cell_works(ip)  # the typo was not kept for the session
    assert nxt.session_id == ip.user_ns["first"].session_id
