"""Record -> replay gives the same transcript and Run fields, offline, at the asked pace."""

from __future__ import annotations

import socket
import time

import pytest
from cassette_events import PNG, turn_events

from nb_agents.events import event_to_json
from nb_agents.files.artifacts import Artifact
from nb_agents.record import cassette as cas_mod
from nb_agents.record.cassette import CassetteError, Recorder, load_cassette, sha256_bytes
from nb_agents.record.playback import ReplayRun, replay
from nb_agents.run import Run
from nb_agents.transcript import empty, fold_all, with_image


def _original_run(tmp_path, events):
    out = tmp_path / "agent_outputs" / "main"
    out.mkdir(parents=True)
    (out / "chart.png").write_bytes(PNG)
    (out / "notes.txt").write_text("hello\n")
    outputs = {p.name: Artifact(name=p.name, path=p, mime="image/png" if p.suffix == ".png" else "text/plain",
                                size=p.stat().st_size, sha256=sha256_bytes(p.read_bytes()), file_id=f"file_{p.stem}")
               for p in sorted(out.iterdir())}
    t = fold_all(empty(session_id="sesn_1", offline=True), events)
    t = with_image(t, "chart.png", "image/png", PNG)  # as the live turn does after pulling outputs
    return Run(transcript=t, events=[e for e in events if getattr(e, "id", None)], session_id="sesn_1", session_name="main", prompt="Profile sales",
               elapsed=4.2, stop_reason=t.stop_reason, outputs=outputs)


@pytest.fixture
def recorded(tmp_path):
    events = turn_events(image=True)
    run = _original_run(tmp_path, events)
    rec = Recorder(tmp_path / "cassettes" / "turn", meta={"backend": "emulator", "model": "claude-sonnet-4-6"})
    for e in events:
        rec.on_event(e)
    return run, rec.close(run)


def _items(t):
    return [i for i in t.items if type(i).__name__ != "Notice"]


def test_replay_rebuilds_the_same_run(recorded, tmp_path):
    original, path = recorded
    r = replay(path, speed=None, view=False, outputs_dir=tmp_path / "restored")
    assert isinstance(r, ReplayRun) and isinstance(r, Run) and r.replayed
    assert r.text == original.text == "Revenue **grew** 12% in March."
    assert r.usage == original.usage and r.usage.input_tokens == 320
    assert r.cost_usd == original.cost_usd == 0.01
    assert (r.stop_reason, r.session_id, r.session_name, r.prompt, r.elapsed) == (
        "end_turn", "sesn_1", "main", "Profile sales", 4.2)
    assert [event_to_json(e) for e in r.events] == [event_to_json(e) for e in original.events]
    assert "event_delta" not in {e.type for e in r.events}  # as in a live Run; the cassette keeps them
    assert _items(r.transcript) == _items(original.transcript)
    assert sorted(r.outputs) == ["chart.png", "notes.txt"]
    for name, art in r.outputs.items():
        before = original.outputs[name]
        assert (art.sha256, art.size, art.mime, art.file_id) == (before.sha256, before.size, before.mime,
                                                                 before.file_id)
        assert art.path == tmp_path / "restored" / name and art.path.read_bytes() == before.path.read_bytes()
    assert r.outputs["notes.txt"].load() == "hello\n"
    notices = [i.text for i in r.transcript.items if type(i).__name__ == "Notice"]
    assert notices and "Replay of a recording from" in notices[0] and "(emulator)" in notices[0]
    assert "ReplayRun of turn.jsonl" in repr(r)
    data, meta = r._repr_mimebundle_()
    assert "Revenue **grew**" in data["text/plain"] and "<" in data["text/html"]
    assert meta["nb_agents"]["replayed_from"] == str(path) and meta["nb_agents"]["backend"] == "emulator"
    assert meta["nb_agents"]["model"] == "claude-sonnet-4-6" and meta["nb_agents"]["session_id"] == "sesn_1"


def test_replay_renders_the_same_transcript_text(recorded):
    from nb_agents.view.text import render_text

    original, path = recorded
    r = replay(path, speed=None, view=False, outputs_dir=path.parent / "out", notice="REPLAY-NOTE")
    shown = render_text(r.transcript)
    assert "(REPLAY-NOTE)\n" in shown
    outputs_line = f"(outputs: chart.png, notes.txt (in {path.parent / 'out'}))\n"
    assert outputs_line in shown
    assert shown.replace("(REPLAY-NOTE)\n", "").replace(outputs_line, "") == render_text(original.transcript)
    assert "Revenue **grew**" in shown and "> bash python -c 'print(6*7)'" in shown


def test_replay_needs_no_network_and_no_key(recorded, monkeypatch):
    _, path = recorded

    def no_network(*a, **k):
        raise AssertionError("replay tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    r = replay(path, speed=None, view=False, outputs_dir=path.parent / "out")
    assert r.text.startswith("Revenue") and len(r.outputs) == 2


def _timed_cassette(tmp_path, monkeypatch, span=0.3, lead=0.0):
    events = turn_events()[:4]
    ticks = iter([0.0] + [lead + span * i / 3 for i in range(4)])
    monkeypatch.setattr(cas_mod, "_clock", lambda: next(ticks))
    rec = Recorder(tmp_path / "timed")
    for e in events:
        rec.on_event(e)
    path = rec.close({"stop_reason": "end_turn"})
    monkeypatch.undo()
    return path


def test_replay_keeps_the_original_pace_or_goes_faster(tmp_path, monkeypatch):
    path = _timed_cassette(tmp_path, monkeypatch)
    assert load_cassette(path).duration == pytest.approx(0.3)
    arrivals: list[float] = []
    start = time.monotonic()
    replay(path, speed=1.0, view=False, on_event=lambda e: arrivals.append(time.monotonic() - start))
    assert arrivals[-1] >= 0.29 and arrivals[1] >= 0.09
    start = time.monotonic()
    replay(path, speed=10, view=False)
    fast = time.monotonic() - start
    start = time.monotonic()
    replay(path, speed=None, view=False)
    assert fast < 0.2 and time.monotonic() - start < 0.1


def test_the_wait_before_the_first_event_is_not_replayed(tmp_path, monkeypatch):
    path = _timed_cassette(tmp_path, monkeypatch, span=0.1, lead=5.0)
    assert load_cassette(path).events[0].t == 5.0
    start = time.monotonic()
    replay(path, speed=1.0, view=False)
    assert 0.09 <= time.monotonic() - start < 1.0


def test_ctrl_c_stops_the_replay_and_says_so(recorded, monkeypatch, capsys):
    monkeypatch.setenv("NB_AGENTS_VIEW", "text")
    seen = []

    def interrupt_at_the_tool(event):
        seen.append(event.type)
        if event.type == "agent.tool_result":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replay(recorded[1], speed=None, view=True, on_event=interrupt_at_the_tool,
               outputs_dir=recorded[1].parent / "o")
    out = capsys.readouterr().out
    assert "Replay stopped" in out and "Revenue" not in out


@pytest.mark.parametrize("speed", [0, -1.0])
def test_bad_speed_is_a_usage_error(recorded, speed):
    with pytest.raises(CassetteError, match="--speed must be a positive number"):
        replay(recorded[1], speed=speed, view=False)


def test_replay_refuses_edited_outputs(recorded, tmp_path):
    _, path = recorded
    (path.parent / "turn.files" / "chart.png").write_bytes(b"not the chart")
    with pytest.raises(CassetteError, match="chart.png does not match its sha256"):
        replay(path, speed=None, view=False, outputs_dir=tmp_path / "o")


def test_replay_plays_into_the_live_view_text_mode(recorded, monkeypatch, capsys):
    monkeypatch.setenv("NB_AGENTS_VIEW", "text")
    replay(recorded[1], speed=None, view=True, outputs_dir=recorded[1].parent / "o")
    out = capsys.readouterr().out
    assert "Replay of a recording from" in out and "> bash python -c 'print(6*7)'" in out
    assert out.index("you: Profile sales.csv") < out.index("Revenue **grew** 12% in March.")


def test_replay_plays_into_the_live_view_widget_mode(recorded, monkeypatch):
    from nb_agents.view import widget

    views, updates = [], []
    real_init, real_update = widget.LiveView.__init__, widget.LiveView.update

    def spy_init(self, *a, **k):
        real_init(self, *a, **k)
        views.append(self)

    def spy_update(self, t):
        updates.append(t)
        real_update(self, t)

    monkeypatch.setattr(widget.LiveView, "__init__", spy_init)
    monkeypatch.setattr(widget.LiveView, "update", spy_update)
    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")
    r = replay(recorded[1], speed=None, view=True, outputs_dir=recorded[1].parent / "o")
    (view,) = views
    assert view.mode == "widget" and len(updates) == len(r.cassette.events) + 1  # + the outputs
    # the streamed preview appears before the buffered message, as in the live run
    assert any(getattr(i, "streaming", False) for t in updates for i in t.items)
    assert view.transcript.text == r.text and view._finished


def test_the_upload_summary_is_replayed(tmp_path):
    rec = Recorder(tmp_path / "t", meta={"inputs": [{"name": "sales", "size": 2800, "status": "uploaded"}]})
    for e in turn_events():
        rec.on_event(e)
    r = replay(rec.close({"stop_reason": "end_turn"}), speed=None, view=False)
    (item,) = [i for i in r.transcript.items if type(i).__name__ == "InputsItem"]
    assert [(row.name, row.size, row.status) for row in item.rows] == [("sales", 2800, "uploaded")]


def test_nb_agents_replay_is_the_function_even_after_importing_the_module():
    import importlib

    import nb_agents

    importlib.import_module("nb_agents.record.playback")
    assert nb_agents.replay is replay
