"""Egress through the magics (real InteractiveShell, emulator): `run.egress` for a cell with a
DataFrame, `--files` and a custom tool; `%agent egress` with one row per turn (and `%agent upload`
between turns); a cached replay sends nothing; `--bg`; `nb_agents.map` per item; an outcome;
and no report shows what was sent."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import nb_agents
from nb_agents.egress import event_bytes
from nb_agents.events import event_to_json
from nb_agents.record import ReplayRun

ECHO = "[[emulator: echo]]\n"
SECRET = "sk-ant-api03-" + "Z" * 40


@pytest.fixture()
def out_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NB_AGENTS_OUTPUTS_DIR", str(tmp_path / "outs"))


def egress(ip, argv=""):
    return ip.run_line_magic("agent", f"egress {argv}".strip())


def test_a_cell_says_what_it_sent_and_the_session_adds_its_turns_up(ip, out_dir, tmp_path, scenario):
    notes = tmp_path / "notes.txt"
    notes.write_text("read me")
    ip.user_ns["sales"] = pd.DataFrame({"region": ["n", "s"], "units": [1, 2]})
    answer = f"the stock is 42 and the key is {SECRET}"

    def lookup(item: str) -> str:
        """Stock of an item."""
        return answer

    ip.user_ns["lookup"] = lookup
    steps = [{"tools": [{"custom_tool": "lookup", "input": {"item": "pens"}}]}, {"say": "42 pens."}]
    ip.run_cell_magic("agent", f"--tools lookup --files {notes} -o r",
                      scenario(steps) + f"Count pens in {{{{sales}}}} ({SECRET})")
    run = ip.user_ns["r"]
    e = run.egress
    assert run.text == "42 pens." and e.source == "sent"
    assert e.prompt_chars == len(run.prompt) and e.prompt_bytes > len(run.prompt.encode())  # + the JSON around it
    assert sorted((f.name, f.filename) for f in e.files) == sorted([("sales", "sales.parquet"),
                                                                    (str(notes), "notes.txt")])
    assert next(f.bytes for f in e.files if f.filename == "notes.txt") == len("read me")
    (tool,) = e.tools
    sent = next(x for x in run.events if x.type == "user.custom_tool_result")
    wire = {k: event_to_json(sent)[k] for k in ("type", "custom_tool_use_id", "content", "is_error")}
    assert (tool.name, tool.kind, tool.count) == ("lookup", "result", 1)
    assert tool.bytes == event_bytes(wire)  # the fields sent, as the server echoed them (scrubbed before sending)
    assert e.total_bytes == e.prompt_bytes + tool.bytes + e.upload_bytes

    ip.run_cell_magic("agent", "-o r2", ECHO + "again")  # nothing new to upload
    assert ip.user_ns["r2"].egress.files_uploaded == 0
    assert ip.user_ns["r2"].egress.prompt_chars == len("again") + len(ECHO)
    ip.user_ns["extra"] = pd.DataFrame({"x": [1.5]})
    ip.run_line_magic("agent", "upload extra")  # between turns: a row of its own

    report = egress(ip)
    assert report.to_dict() == egress(ip, "default").to_dict()
    rows = report.rows
    assert [r.label for r in rows][1:] == ["[[emulator: echo]] again", "(between turns)"] and rows[0] == e
    assert [f.name for f in rows[2].files] == ["extra"]
    assert report.total.files_uploaded == 3 and report.total.tool_bytes_by_name == {"lookup": tool.bytes}
    text = repr(report)
    assert text.startswith(f"egress of session 'default' ({run.session_id})")
    assert "tool results `lookup`: 1 call" in text and "3 files uploaded" in text
    shown = [text, report._repr_mimebundle_()["text/html"], json.dumps(report.to_dict()), repr(e),
             e._repr_mimebundle_()["text/html"]]
    for out in shown:  # sizes and names only: neither the prompt's secret nor the tool's answer
        assert SECRET not in out and "the stock is" not in out


def test_answers_sent_by_hand_are_counted_as_the_loops_are(ip, out_dir, scenario):
    """`ActionHandler.respond` / `requires_action_hook` without `send=` go through
    `ActionHandler.send`, counted in the session's meter: the run that follows shows them."""
    from nb_agents.sessions import registry
    from nb_agents.tools import ActionHandler

    def lookup(item: str) -> str:
        """Stock of an item."""
        return "42"

    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    ip.user_ns["lookup"] = lookup
    steps = [{"custom_tool": "get_weather", "input": {"city": "Paris"}}, {"say": "It is sunny."}]
    ip.run_cell_magic("agent", "--tools lookup -o r", scenario(steps) + "weather?")
    sess = registry()["default"]
    assert ip.user_ns["r"].stop_reason == "requires_action"  # no function in the kernel answered it
    assert sess.action_handler.meter is sess.egress  # the session's own handler counts there too
    pending = [e for e in sess.events if e.type == "agent.custom_tool_use"]
    (answer,) = ActionHandler([get_weather], meter=sess.egress).respond(sess.client, sess.session_id, pending)
    run = sess.follow(live=False)
    assert run.text == "It is sunny."
    (tool,) = run.egress.tools
    assert (tool.name, tool.kind, tool.count, tool.bytes) == ("get_weather", "result", 1, event_bytes(answer))
    assert run.egress.sends == 1 and egress(ip).total.tool_bytes_by_name == {"get_weather": tool.bytes}


def test_an_outcome_counts_its_description_and_rubric(ip):
    ip.run_cell_magic("agent", '--outcome "A short report" --rubric "Has a title" -o r', ECHO + "write it")
    e = ip.user_ns["r"].egress
    # the description carries the cell's text (session_params.turn_events); the rubric its own
    assert e.outcome_chars == len("A short report\n\n" + ECHO + "write it") + len("Has a title")
    assert "prompt:" not in repr(e) and "outcome + rubric: 54 chars" in repr(e)
    assert e.outcome_bytes > e.outcome_chars and e.prompt_bytes == 0 and e.total_bytes == e.outcome_bytes


@pytest.fixture()
def cache_dir(ip, tmp_path):
    ip.run_line_magic("config", f"AgentMagic.cache_dir = {str(tmp_path / 'cache')!r}")
    yield
    ip.run_line_magic("config", "AgentMagic.cache_dir = ''")


def test_a_cached_replay_sent_nothing_and_the_report_says_so(ip, cache_dir):
    ip.run_cell_magic("agent", "--cache --new -o a", ECHO + "cached")
    first = ip.user_ns["a"].egress
    assert first.source == "sent" and first.prompt_bytes > 0
    ip.run_cell_magic("agent", "--cache --new -o a", ECHO + "cached")
    again = ip.user_ns["a"]
    assert isinstance(again, ReplayRun) and again.egress.source == "replayed" and again.egress.total_bytes == 0
    report = egress(ip)
    assert [r.source for r in report.rows] == ["sent", "replayed"]
    assert "nothing sent (replayed)" in repr(report) and report.total.total_bytes == first.total_bytes


def test_a_background_run_counts_into_its_session(ip):
    ip.run_cell_magic("agent", "--new --bg -s bgs -o job", ECHO + "in the background")
    ip.run_line_magic("agent", "wait bgs")
    run = ip.user_ns["_agent"]
    assert run.text == "in the background" and run.egress.prompt_chars == len(ECHO + "in the background")
    assert egress(ip, "bgs").rows == (run.egress,)


def test_map_reports_what_each_item_sent(ip):
    result = nb_agents.map(ECHO + "{{item}}", ["a", "bbb"], concurrency=1, live=False)
    report = result.egress
    assert [r.label for r in report.rows] == ["0", "1"]
    assert [r.prompt_chars for r in report.rows] == [len(ECHO) + 1, len(ECHO) + 3]
    assert [run.egress.prompt_chars for run in result.runs.values()] == [len(ECHO) + 1, len(ECHO) + 3]
    assert report.total.files_uploaded == 0 and report.total.sends == 2


def test_a_confirmation_counts_under_its_tool_and_an_interrupt_between_turns_gets_a_row(ip, scenario, monkeypatch):
    import builtins

    monkeypatch.setattr(builtins, "input", lambda prompt="": "n: not on my laptop")
    steps = [{"confirm": "bash", "input": {"command": "echo hi"}}, {"say": "Skipped."}]
    ip.run_cell_magic("agent", "--new --ask bash --timeout 30 -s conf -o r", scenario(steps) + "run it")
    run = ip.user_ns["r"]
    sent = next(x for x in run.events if x.type == "user.tool_confirmation")
    assert sent.result == "deny" and sent.deny_message == "not on my laptop"
    wire = {k: event_to_json(sent)[k] for k in ("type", "tool_use_id", "result", "deny_message")}
    (tool,) = run.egress.tools
    assert (tool.name, tool.kind, tool.count, tool.bytes) == ("bash", "confirmation", 1, event_bytes(wire))
    assert "tool confirmations `bash`: 1 confirmation" in repr(run.egress)
    ip.run_line_magic("agent", "interrupt conf")  # outside a turn: its own row
    rows = egress(ip, "conf").rows
    assert [r.label for r in rows] == [rows[0].label, "(between turns)"]
    assert (rows[1].control_events, rows[1].sends) == (1, 1) and rows[1].total_bytes == event_bytes(
        {"type": "user.interrupt"})


def test_an_async_turn_counts_like_a_foreground_one(ip):
    import asyncio

    session = nb_agents.session("asy")
    run = asyncio.run(session.ask_async(ECHO + "async hello", live=False, interpolate=False))
    assert run.text == "async hello" and run.egress.prompt_chars == len(ECHO + "async hello")
    assert run.egress.sends == 1 and egress(ip, "asy").rows == (run.egress,)
