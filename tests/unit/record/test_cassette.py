"""Cassette format: record, load, scrub secrets, reject bad files."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from cassette_events import PNG, turn_events, turn_json

from nb_agents.events import event_to_json
from nb_agents.files.artifacts import Artifact
from nb_agents.record import cassette as cas_mod
from nb_agents.record.cassette import CassetteError, Recorder, load_cassette, sha256_bytes
from nb_agents.scrub import scrub

SUMMARY = {"text": "Revenue **grew** 12% in March.", "usage": {"input_tokens": 320, "output_tokens": 80},
           "cost_usd": 0.0123, "stop_reason": "end_turn", "session_id": "sesn_1"}


def _record(path: Path, events=None, **meta) -> Path:
    rec = Recorder(path, meta={"model": "claude-sonnet-4-6", "backend": "emulator", "prompt": "Profile", **meta})
    for e in events if events is not None else turn_events():
        rec.on_event(e)
    rec.add_file("chart.png", PNG)
    rec.add_file("tables/summary.csv", b"month,revenue\n1,10\n")
    return rec.close(SUMMARY)


def test_record_then_load_gives_back_events_files_and_summary(tmp_path):
    path = _record(tmp_path / "turn.jsonl", agent_id="agent_1")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["kind"] for x in (lines[0], lines[1], lines[-1])] == ["header", "event", "footer"]
    cas = load_cassette(path)
    assert cas.header["format"] == "nb_agents.cassette" and cas.header["version"] == 1
    assert cas.header["model"] == "claude-sonnet-4-6" and cas.header["agent_id"] == "agent_1"
    assert cas.created_at.endswith("Z")
    assert [event_to_json(r.event) for r in cas.events] == turn_json()
    assert [r.event.type for r in cas.events][10:13] == ["event_start", "event_delta", "event_delta"]
    offsets = [r.t for r in cas.events]
    assert offsets == sorted(offsets) and offsets[0] >= 0
    assert {f.name: f.read() for f in cas.files} == {"chart.png": PNG, "tables/summary.csv": b"month,revenue\n1,10\n"}
    png = next(f for f in cas.files if f.name == "chart.png")
    assert png.mime == "image/png" and png.sha256 == sha256_bytes(PNG) and png.size == len(PNG)
    assert (tmp_path / "turn.files" / "tables" / "summary.csv").read_bytes().startswith(b"month")
    assert cas.summary["text"] == SUMMARY["text"] and cas.summary["cost_usd"] == 0.0123
    assert [o["name"] for o in cas.summary["outputs"]] == ["chart.png", "tables/summary.csv"]


def test_close_with_a_run_copies_its_output_artifacts(tmp_path):
    out = tmp_path / "outputs"
    out.mkdir()
    (out / "plot.png").write_bytes(PNG)
    art = Artifact(name="plot.png", path=out / "plot.png", mime="image/png", size=len(PNG),
                   sha256=sha256_bytes(PNG), file_id="file_011", created_at="2026-11-25T04:00:00Z")
    run = SimpleNamespace(text="done", usage={"input_tokens": 1}, cost_usd=0.5, session_id="sesn_9",
                          stop_reason=SimpleNamespace(type="end_turn"), outputs={"plot.png": art},
                          started_at=None, ended_at=None)
    rec = Recorder(tmp_path / "c")  # the suffix is added
    rec.on_event(turn_events()[0])
    cas = load_cassette(rec.close(run))
    assert cas.path.name == "c.jsonl"
    assert cas.summary["stop_reason"] == "end_turn" and cas.summary["session_id"] == "sesn_9"
    (f,) = cas.files
    assert (f.name, f.file_id, f.read()) == ("plot.png", "file_011", PNG)
    with pytest.raises(CassetteError, match="already closed"):
        rec.close(run)


def test_rerecording_replaces_the_old_files(tmp_path):
    _record(tmp_path / "t.jsonl")
    rec = Recorder(tmp_path / "t.jsonl")
    rec.close({"text": "x"})
    assert not (tmp_path / "t.files").exists()
    assert load_cassette(tmp_path / "t.jsonl").files == []


FAKE_KEY = "sk-ant-api03-FAKEKEYFAKEKEYFAKEKEY0123456789-abcdefABCDEF_xyz"
OTHER_KEY = "sk-ant-admin01-ANOTHERLEAKEDKEY0000000000"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0dG9rZW4"


def test_no_secret_survives_recording(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    raw_key_only = "plainkeyvalue123456"  # no prefix: only known because it is the env value
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", raw_key_only)
    events = turn_events(prompt=f"my key is {FAKE_KEY}, token {raw_key_only}",
                         bash=f"curl -H 'x-api-key: {FAKE_KEY}' -H 'Authorization: Bearer {TOKEN}' $URL",
                         bash_out=f"ANTHROPIC_API_KEY={FAKE_KEY}\napi_key = {OTHER_KEY}\n",
                         answer=f"Your key {FAKE_KEY} and Bearer {TOKEN}")
    rec = Recorder(tmp_path / "s.jsonl", meta={
        "prompt": f"key {FAKE_KEY}",
        "options": {"headers": {"x-api-key": FAKE_KEY, "Authorization": f"Bearer {TOKEN}"},
                    "api_key": raw_key_only, "default_headers": {"anthropic-beta": "managed-agents-2026-04-01"}},
        "base_url": f"http://127.0.0.1:1/?key={FAKE_KEY}",
    })
    for e in events:
        rec.on_event(e)
    rec.add_file("env.txt", f"ANTHROPIC_API_KEY={FAKE_KEY}\nAUTH={raw_key_only}\n".encode())
    rec.add_file("blob.bin", b"\x00\xff" + FAKE_KEY.encode() + b"\x00" + raw_key_only.encode())
    path = rec.close({"text": f"done {FAKE_KEY}", "stop_reason": "end_turn", "note": f"Bearer {TOKEN}"})
    stored = [path.read_bytes()] + [p.read_bytes() for p in (tmp_path / "s.files").iterdir()]
    for blob in stored:
        for secret in (FAKE_KEY, OTHER_KEY, TOKEN, raw_key_only, "sk-ant-api03", "sk-ant-admin"):
            assert secret.encode() not in blob
    cas = load_cassette(path)  # still a valid cassette, with harmless values kept
    assert cas.header["options"]["default_headers"] == {"anthropic-beta": "managed-agents-2026-04-01"}
    assert cas.header["options"]["headers"]["x-api-key"] == "[REDACTED]"
    assert "[REDACTED]" in event_to_json(cas.events[2].event)["content"][0]["text"]


def test_scrub_keeps_ordinary_data():
    data = {"input_tokens": 5, "text": "tokens: 12, Bearer of news", "authorization": "", "keys": ["a", "b"]}
    assert scrub(data) == data
    assert scrub({"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}) == {"Authorization": "[REDACTED]"}
    assert scrub("authorization: Bearer abcdefgh123") == "authorization: Bearer [REDACTED]"
    assert scrub("API_KEY=supersecretvalue99 python x.py") == "API_KEY=[REDACTED] python x.py"
    # code that only names a key is kept: the replayed transcript shows what the agent wrote
    for code in ('api_key=os.environ["ANTHROPIC_API_KEY"]', "Anthropic(api_key=get_key())", "api_key: short"):
        assert scrub(code) == code



def test_a_secret_split_across_streamed_deltas_is_scrubbed(tmp_path):
    from fake_credentials import ALL_PLANTED, KEEP, leaked

    rec = Recorder(tmp_path / "d.jsonl")
    chunks = [ALL_PLANTED[i:i + 7] for i in range(0, len(ALL_PLANTED), 7)]  # every secret is cut
    for chunk in chunks:
        rec.on_event({"type": "event_delta", "event_id": "sevt_1", "delta": {
            "type": "content_delta", "index": 0, "content": {"type": "text", "text": chunk}}})
    rec.on_event({"type": "event_delta", "event_id": "sevt_2", "delta": {
        "type": "content_delta", "index": 0, "content": {"type": "text", "text": "plain words"}}})
    text = rec.close({"text": "done"}).read_text()
    assert not leaked(text)
    deltas = [json.loads(line)["event"]["delta"]["content"]["text"] for line in text.splitlines()[1:-1]]
    assert KEEP in deltas[0] and not any(deltas[1:-1]) and deltas[-1] == "plain words"


@pytest.mark.parametrize("content, match", [
    ("", "no header"),
    ("{not json\n", "bad JSON on line 1"),
    ('{"kind": "header", "format": "other"}\n', "no header"),
    ('{"kind": "header", "format": "nb_agents.cassette", "version": 99}\n', "version 99"),
    ("[1, 2]\n", "no header"),
    ('{"kind": "header", "format": "nb_agents.cassette", "version": 1}\n{"kind": "event", "t": "x"}\n',
     "malformed event line"),
    ('{"kind": "header", "format": "nb_agents.cassette", "version": 1}\n'
     '{"kind": "footer", "summary": {"outputs": [{"name": "../../etc/passwd", "sha256": "x", "size": 1}]}}\n',
     "Unsafe file name"),
])
def test_bad_cassettes_are_one_line_errors(tmp_path, content, match):
    p = tmp_path / "bad.jsonl"
    p.write_text(content)
    with pytest.raises(CassetteError, match=match):
        load_cassette(p)


def test_missing_and_edited_files_are_detected(tmp_path):
    with pytest.raises(CassetteError, match="Cannot read cassette"):
        load_cassette(tmp_path / "nope.jsonl")
    cas = load_cassette(_record(tmp_path / "t.jsonl"))
    (tmp_path / "t.files" / "chart.png").write_bytes(b"edited")
    (tmp_path / "t.files" / "tables" / "summary.csv").unlink()
    by_name = {f.name: f for f in cas.files}
    with pytest.raises(CassetteError, match="does not match its sha256"):
        by_name["chart.png"].read()
    with pytest.raises(CassetteError, match="missing"):
        by_name["tables/summary.csv"].read()
    with pytest.raises(CassetteError, match="Unsafe"):
        Recorder(tmp_path / "x").add_file("/abs/path.txt", b"")


def test_offsets_follow_the_monotonic_clock(tmp_path, monkeypatch):
    ticks = iter([100.0, 100.0, 100.25, 101.5])
    monkeypatch.setattr(cas_mod, "_clock", lambda: next(ticks))
    rec = Recorder(tmp_path / "t")
    for e in turn_events()[:3]:
        rec.on_event(e)
    cas = load_cassette(rec.close({}))
    assert [r.t for r in cas.events] == [0.0, 0.25, 1.5]
    assert cas.duration == 1.5


def test_on_event_is_thread_safe_and_ignores_events_after_close(tmp_path):
    import threading

    rec = Recorder(tmp_path / "threads")
    events = turn_events()

    def feed():
        for _ in range(50):
            for e in events:
                rec.on_event(e)

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    path = rec.close({})
    rec.on_event(events[0])  # a late event from a worker thread is dropped, not an error
    assert len(load_cassette(path).events) == 4 * 50 * len(events)
