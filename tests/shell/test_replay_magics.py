"""%%agent --record / --replay / --cache / --refresh through a real IPython shell on the emulator."""

from __future__ import annotations

import re
import socket

import pytest

from nb_agents.errors import ConfigError
from nb_agents.events import event_to_json
from nb_agents.provenance import FIELDS
from nb_agents.record import CassetteError, ReplayRun, load_cassette
from nb_agents.view import render_text

from .conftest import ECHO

STEPS = [
    {"tool": "bash", "input": {"command": "python3 -c 'print(sum(range(10)))'"}},
    {"write_output": "summary.md", "content": "# Summary\nTotal is 45\n"},
    {"say": "The total is **45**. I saved `summary.md`."},
]
WHERE = re.compile(r"\(in [^)]*\)")  # restored files live in another folder; the rest is identical


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outputs and restored files land in agent_outputs/ here


@pytest.fixture()
def cache_dir(ip, tmp_path):
    ip.run_line_magic("config", f"AgentMagic.cache_dir = {str(tmp_path / 'cache')!r}")
    yield tmp_path / "cache"
    ip.run_line_magic("config", "AgentMagic.cache_dir = ''")
    ip.run_line_magic("config", "AgentMagic.cache = False")


def _no_network(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def test_record_then_replay_via_the_magic_gives_the_same_run(ip, scenario, tmp_path, monkeypatch):
    import pandas as pd

    ip.user_ns["sales"] = pd.DataFrame({"region": ["n", "s"], "units": [3, 4]})
    path = tmp_path / "cassettes" / "sum.jsonl"
    ip.run_cell_magic("agent", f"--new --record {path} -o orig", scenario(STEPS) + "Add up 0..9 and look at {{sales}}")
    orig = ip.user_ns["orig"]
    head = load_cassette(path).header
    assert head["session_id"] == orig.session_id and head["session_name"] == "default"
    assert head["agent_id"].startswith("agent") and head["agent_version"] >= 1 and head["environment_id"]
    assert head["prompt"] == orig.prompt and head["options"]["model"] == head["model"]
    assert list(head["input_hashes"]) == ["sales"] and head["inputs"][0]["name"] == "sales"
    assert head["backend"] == "emulator"

    _no_network(monkeypatch)
    ip.run_cell_magic("agent", f"--replay {path} --instant -o rep", "# the body is ignored\n")
    rep = ip.user_ns["rep"]
    assert isinstance(rep, ReplayRun) and ip.user_ns["_agent"] is rep
    assert (rep.text, rep.usage, rep.cost_usd, rep.stop_reason, rep.session_id, rep.prompt) == (
        orig.text, orig.usage, orig.cost_usd, orig.stop_reason, orig.session_id, orig.prompt)
    assert [event_to_json(e) for e in rep.events] == [event_to_json(e) for e in orig.events]
    assert {n: a.sha256 for n, a in rep.outputs.items()} == {n: a.sha256 for n, a in orig.outputs.items()}
    replayed = re.sub(r"\(Replay of a recording from [^\n]*\)\n", "", render_text(rep.transcript), count=1)
    assert WHERE.sub("(in …)", replayed) == WHERE.sub("(in …)", render_text(orig.transcript))
    prov = rep.provenance["nb_agents"]
    assert prov["replayed_from"] == str(path) and prov["agent_id"] == head["agent_id"]


def test_replay_at_a_speed_and_flag_mistakes(ip, scenario, tmp_path, monkeypatch, capsys):
    path = tmp_path / "echo.jsonl"
    ip.run_cell_magic("agent", f"--new --record {path}", ECHO + "paced")
    _no_network(monkeypatch)
    ip.run_line_magic("agent", f"--replay {path} --speed 50 -o r")
    assert ip.user_ns["r"].text == "paced" and "Replay of a recording from" in capsys.readouterr().out
    magics = ip.magics_manager.registry["NbAgentsMagics"]
    with pytest.raises(ConfigError, match="not both"):
        magics._cell(f"--replay {path} --speed 2 --instant", "")
    with pytest.raises(ConfigError, match="go with --replay"):
        magics._cell("--instant", ECHO + "x")
    with pytest.raises(ConfigError, match="cannot be combined with --cache"):
        magics._cell(f"--replay {path} --cache", "")
    with pytest.raises(CassetteError, match="Cannot read cassette"):
        magics._cell(f"--replay {tmp_path / 'missing.jsonl'}", "")


def test_a_cached_cell_rerun_creates_no_session(ip, emu, cache_dir, capsys):
    ip.run_cell_magic("agent", "--cache -o first", ECHO + "cache me")
    first = ip.user_ns["first"]
    assert not isinstance(first, ReplayRun) and len(list(cache_dir.glob("*.jsonl"))) == 1
    sessions, turns = emu.stats["sessions_created"], emu.stats["turns"]
    capsys.readouterr()

    from nb_agents.sessions import get_session

    get_session().new()  # Run All in a fresh kernel: the conversation starts over
    ip.run_cell_magic("agent", "--cache -o again", ECHO + "cache me")
    again = ip.user_ns["again"]
    assert isinstance(again, ReplayRun) and ip.user_ns["_agent"] is again
    assert (emu.stats["sessions_created"], emu.stats["turns"]) == (sessions, turns)
    assert (again.text, again.usage, again.cost_usd, again.session_id) == (
        first.text, first.usage, first.cost_usd, first.session_id)
    shown = capsys.readouterr().out
    when = again.recorded_at[:16].replace("T", " ")
    assert f"Replayed from cache (recorded {when} UTC, original cost ${first.cost_usd:.4f}); no new session" in shown

    get_session().new()
    ip.run_cell_magic("agent", "--cache -o changed", ECHO + "cache me, changed")
    assert not isinstance(ip.user_ns["changed"], ReplayRun) and emu.stats["turns"] == turns + 1

    get_session().new()
    ip.run_cell_magic("agent", "--cache --refresh -o fresh", ECHO + "cache me")
    assert not isinstance(ip.user_ns["fresh"], ReplayRun) and emu.stats["turns"] == turns + 2
    assert emu.stats["sessions_created"] == sessions + 2


def test_config_cache_chains_the_turns_of_a_conversation(ip, emu, cache_dir):
    ip.run_line_magic("config", "AgentMagic.cache = True")
    ip.run_cell_magic("agent", "--new -o a", ECHO + "one")
    ip.run_cell_magic("agent", "-o b", ECHO + "two")
    assert ip.user_ns["a"].session_id == ip.user_ns["b"].session_id  # a miss continues the conversation
    turns = emu.stats["turns"]

    ip.run_cell_magic("agent", "--new -o a2", ECHO + "one")
    ip.run_cell_magic("agent", "-o b2", ECHO + "two")
    assert isinstance(ip.user_ns["a2"], ReplayRun) and isinstance(ip.user_ns["b2"], ReplayRun)
    assert emu.stats["turns"] == turns

    ip.run_cell_magic("agent", "--new -o a3", ECHO + "one, edited")
    ip.run_cell_magic("agent", "-o b3", ECHO + "two")  # same text, but what came before changed
    assert not isinstance(ip.user_ns["b3"], ReplayRun) and emu.stats["turns"] == turns + 2


def test_changed_input_misses_and_record_on_a_hit_copies_the_cassette(ip, emu, cache_dir, tmp_path):
    import pandas as pd

    ip.user_ns["df"] = pd.DataFrame({"x": [1, 2]})
    ip.run_cell_magic("agent", "--cache --new", ECHO + "look at {{df}}")
    turns = emu.stats["turns"]
    ip.run_cell_magic("agent", f"--cache --new --record {tmp_path / 'shipped'}", ECHO + "look at {{df}}")
    assert isinstance(ip.user_ns["_agent"], ReplayRun) and emu.stats["turns"] == turns
    shipped = load_cassette(tmp_path / "shipped.jsonl")
    assert shipped.summary["text"] == ip.user_ns["_agent"].text
    ip.user_ns["df"] = pd.DataFrame({"x": [1, 3]})
    ip.run_cell_magic("agent", "--cache --new", ECHO + "look at {{df}}")
    assert not isinstance(ip.user_ns["_agent"], ReplayRun) and emu.stats["turns"] == turns + 1


def test_every_live_run_carries_provenance(ip, emu):
    ip.run_cell_magic("agent", "--new -o r", ECHO + "where from?")
    run = ip.user_ns["r"]
    data, meta = run._repr_mimebundle_()
    assert "where from?" in data["text/plain"] and run._repr_mimebundle_()["text/plain"] == data["text/plain"]
    prov = meta["nb_agents"]
    assert set(FIELDS) <= set(prov)
    missing = [k for k in FIELDS if prov[k] is None and k != "input_hashes"]
    assert not missing, missing
    assert prov["session_id"] == run.session_id and prov["backend"] == "emulator"
    assert prov["stop_reason"] == "end_turn" and prov["usage"]["output_tokens"] > 0
    assert prov["started_at"] <= prov["ended_at"] and prov["cost_usd"] == round(run.cost_usd, 6)


def test_a_background_run_is_recorded_too(ip, tmp_path):
    path = tmp_path / "bg.jsonl"
    ip.run_cell_magic("agent", f"--new --bg --record {path} -o job", ECHO + "in the background")
    ip.run_line_magic("agent", "wait")
    cas = load_cassette(path)
    assert cas.summary["text"] == "in the background" == ip.user_ns["_agent"].text
    assert cas.header["session_id"] == ip.user_ns["_agent"].session_id


def test_an_uncached_cell_between_cached_ones_is_part_of_the_chain(ip, emu, cache_dir):
    def conversation(middle):
        ip.run_cell_magic("agent", "--cache --new -o a", ECHO + "start")
        ip.run_cell_magic("agent", "-o b", ECHO + middle)  # not cached: always runs
        ip.run_cell_magic("agent", "--cache -o c", ECHO + "end")
        return ip.user_ns["c"]

    assert not isinstance(conversation("middle"), ReplayRun)
    assert isinstance(conversation("middle"), ReplayRun)  # same conversation: the last cell replays
    turns = emu.stats["turns"]
    assert not isinstance(conversation("another middle"), ReplayRun)  # what came before changed
    assert emu.stats["turns"] == turns + 2


def _edit(path, *, header=None, summary=None, event=None):
    """Rewrite a cassette as an edited or shared one would be: fields changed by hand."""
    import json

    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[0].update(header or {})
    lines[-1]["summary"].update(summary or {})
    first = next(x for x in lines if x["kind"] == "event")
    first.update(event or {})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


@pytest.mark.parametrize("sid", ["x/..", "..", "../../escape", "/abs/path", "a\\..\\..\\b", "\x00..", ""])
def test_an_edited_session_id_cannot_write_outside_the_outputs_folder(ip, scenario, tmp_path, monkeypatch, sid):
    path = tmp_path / "c" / "t.jsonl"
    ip.run_cell_magic("agent", f"--new --record {path}", scenario(STEPS) + "sum")
    _edit(path, header={"session_id": sid}, summary={"session_id": sid})
    outputs = tmp_path / "outs"
    ip.run_line_magic("config", f"AgentMagic.outputs_dir = {str(outputs)!r}")
    try:
        before = {p for p in tmp_path.rglob("*") if outputs not in p.parents}
        _no_network(monkeypatch)
        ip.run_line_magic("agent", f"--replay {path} --instant -o rep")
        written = [p for p in tmp_path.rglob("*") if p.is_file() and outputs not in p.parents]
        assert {p for p in written if p not in before} == set()  # nothing outside the outputs folder
        restored = list(outputs.rglob("summary.md"))
        assert len(restored) == 1 and restored[0].parent.parent == outputs
        assert ip.user_ns["rep"].text == "The total is **45**. I saved `summary.md`."
    finally:
        ip.run_line_magic("config", "AgentMagic.outputs_dir = 'agent_outputs'")


@pytest.mark.parametrize("edit, message", [
    ({"header": {"version": "one"}}, "unreadable cassette version 'one'"),
    ({"header": {"version": 99}}, "is cassette version 99"),
    ({"header": {"backend": "mars"}}, "malformed header field 'backend'"),
    ({"header": {"input_hashes": ["a"]}}, "malformed header field 'input_hashes'"),
    ({"event": {"t": 1e308 * 10}}, "malformed event line"),
    ({"event": {"t": "soon"}}, "malformed event line"),
    ({"event": {"t": -5}}, "malformed event line"),
    ({"summary": {"started_at": 1e300}}, "malformed summary field 'started_at'"),
    ({"summary": {"elapsed": "long"}}, "malformed summary field 'elapsed'"),
    ({"summary": {"usage": {"input_tokens": "many"}}}, "malformed summary field 'usage'"),
    ({"summary": {"cost_usd": -1}}, "malformed summary field 'cost_usd'"),
])
def test_an_edited_cassette_is_one_line_and_the_next_cell_works(ip, scenario, tmp_path, capsys, edit, message):
    path = tmp_path / "t.jsonl"
    ip.run_cell_magic("agent", f"--new --record {path}", ECHO + "first")
    _edit(path, **edit)
    capsys.readouterr()
    ip.run_cell(f"%agent --replay {path} --instant")
    out = capsys.readouterr()
    text = (out.out + out.err).strip()
    assert "Traceback" not in text and text.startswith("CassetteError: ") and message in text, text
    assert len(text.splitlines()) == 1
    ip.run_cell_magic("agent", "-o nxt", ECHO + "next")
    assert ip.user_ns["nxt"].text == "next"
