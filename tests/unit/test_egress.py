"""egress.py: what the meter counts for each kind of send, how rows open and close, the total,
and that no report shows what was sent (only sizes, counts, names and a scrubbed label)."""

from __future__ import annotations

import json
import threading

from nb_agents.egress import NO_METER, NOTHING_SENT, REPLAYED, Egress, EgressMeter, event_bytes
from nb_agents.events import event_from_json
from nb_agents.run import Run

SECRET = "sk-ant-api03-" + "Q" * 40
T = "2026-10-08T16:24:35.000001Z"


def msg(text):
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}


def call(cid, name, etype="agent.custom_tool_use"):
    return event_from_json({"type": etype, "id": cid, "name": name, "input": {}, "processed_at": T})


def result(cid, text):
    return {"type": "user.custom_tool_result", "custom_tool_use_id": cid,
            "content": [{"type": "text", "text": text}], "is_error": False}


def compact(event):
    return len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode())


def test_a_prompt_counts_its_characters_and_the_event_as_it_goes_out():
    meter = EgressMeter()
    meter.begin("Profile {{sales}}")
    event = msg("héllo wörld")  # non-ASCII: bytes differ from characters
    meter.sent([event])
    row = meter.finish()
    assert (row.prompt_chars, row.prompt_bytes) == (11, compact(event)) and row.prompt_bytes == event_bytes(event)
    assert row.sends == 1 and row.resends == 0 and row.total_bytes == row.prompt_bytes
    assert row.label == "Profile {{sales}}" and row.source == "sent" and row.files_uploaded == 0


def test_tool_results_and_confirmations_are_grouped_by_the_tool_the_agent_called():
    meter = EgressMeter()
    for event in (call("c1", "lookup"), call("c2", "lookup"), call("t1", "bash", "agent.tool_use")):
        meter.observe(event)
    meter.observe(msg("not a call"))  # ignored
    meter.begin("go")
    answers = [result("c1", "a" * 100), result("c2", "b" * 10)]
    meter.sent(answers)
    confirm = {"type": "user.tool_confirmation", "tool_use_id": "t1", "result": "deny", "deny_message": "no"}
    meter.sent([confirm, result("zz", "x")])
    row = meter.finish()
    by = {(t.name, t.kind): (t.count, t.bytes) for t in row.tools}
    assert by == {
        ("lookup", "result"): (2, compact(answers[0]) + compact(answers[1])),
        ("bash", "confirmation"): (1, compact(confirm)),
        ("(unknown tool)", "result"): (1, compact(result("zz", "x"))),
    }
    assert row.tool_bytes_by_name["lookup"] == by[("lookup", "result")][1]
    d = row.to_dict()
    assert d["tool_results"]["lookup"] == {"calls": 2, "bytes": by[("lookup", "result")][1]}
    assert d["tool_confirmations"] == {"bash": {"count": 1, "bytes": compact(confirm)}}


def test_outcome_uploads_interrupts_and_resends():
    meter = EgressMeter()
    meter.begin("outcome")
    outcome = {"type": "user.define_outcome", "description": "a chart",
               "rubric": {"type": "text", "content": "has axes"}, "max_iterations": 3}
    meter.sent([outcome])
    meter.sent([outcome], resend=True)  # a retry after a cut put it on the wire again: counted again
    meter.uploaded("sales", "pandas DataFrame", "sales.parquet", 1234)
    meter.uploaded("notes.txt", "file", "notes.txt", 7)
    meter.sent([{"type": "user.interrupt"}])
    row = meter.finish()
    assert row.outcome_chars == 2 * len("a charthas axes") and row.outcome_bytes == 2 * compact(outcome)
    assert (row.sends, row.resends) == (3, 1)
    assert row.files_uploaded == 2 and row.upload_bytes == 1241
    assert [f.filename for f in row.files] == ["sales.parquet", "notes.txt"]
    assert (row.control_events, row.control_bytes) == (1, compact({"type": "user.interrupt"}))
    assert row.total_bytes == 2 * compact(outcome) + 1241 + row.control_bytes
    text = repr(row)
    assert "2 files uploaded (1.2 kB)" in text and "resent after a failed attempt: 1" in text
    assert "file sales (pandas DataFrame) as sales.parquet: 1.2 kB" in text


def test_rows_between_turns_failed_turns_and_replays_and_the_total():
    meter = EgressMeter()
    meter.uploaded("df", "pandas DataFrame", "df.parquet", 100)  # `%agent upload` before any turn
    assert not meter.rows()[0].running  # (no turn is running)
    meter.begin("first")
    meter.sent([msg("one")])
    first = meter.finish()
    meter.begin("broken")
    meter.uploaded("big", "file", "big.csv", 50)  # uploaded, then the session could not be created
    meter.begin("empty")  # closes "broken" with a note
    meter.begin("third")  # "empty" sent nothing: no row
    meter.sent([msg("three")])
    assert meter.rows()[-1].running  # a turn still going shows in the report
    meter.abandon("the turn failed")
    replayed = meter.replayed("cached " + SECRET)
    rows = meter.rows()
    assert [r.label for r in rows] == ["(between turns)", "first", "broken", "third", replayed.label]
    assert [r.note for r in rows] == ["", "", "the turn stopped before it was read", "the turn failed", ""]
    assert rows[1] == first and replayed.source == "replayed" and replayed.nothing_sent
    assert SECRET not in replayed.label and "[REDACTED]" in replayed.label
    report = meter.report("egress of session 'x'")
    total = report.total
    assert total.files_uploaded == 2 and total.upload_bytes == 150 and total.sends == 2
    assert total.total_bytes == sum(r.total_bytes for r in rows)
    text = repr(report)
    assert text.splitlines()[0] == "egress of session 'x'"
    assert "nothing sent (replayed)" in text and "the turn failed" in text
    assert "total: " in text and "2 files uploaded (150 B)" in text
    html = report._repr_mimebundle_()["text/html"]
    assert "<table>" in html and "(between turns)" in html
    d = report.to_dict()
    assert len(d["turns"]) == 5 and d["total"]["files_uploaded"] == 2 and json.dumps(d)


def test_no_report_shows_what_was_sent():
    meter = EgressMeter()
    meter.observe(call("c1", "lookup"))
    meter.begin(f"use key {SECRET} and a very long prompt that goes on and on and on")
    meter.sent([msg(f"the key is {SECRET}"), result("c1", f"password={SECRET}")])
    meter.uploaded("secrets.env", "file", "secrets.env", 10)
    row = meter.finish()
    shown = [repr(row), row._repr_html_(), json.dumps(row.to_dict()), repr(meter.report("r")),
             meter.report("r")._repr_html_(), json.dumps(meter.report("r").to_dict())]
    for text in shown:
        assert SECRET not in text and "the key is" not in text and "password=" not in text
    assert len(row.label) <= 40 and row.label.endswith("…")


def test_a_run_not_made_by_a_live_turn_sent_nothing():
    assert Run.egress is NOTHING_SENT and NOTHING_SENT.nothing_sent
    assert repr(NOTHING_SENT) == "egress: nothing sent (not run by this kernel)"
    assert repr(REPLAYED) == "egress of 'replayed': nothing sent (replayed)"
    assert "nothing sent" in REPLAYED._repr_mimebundle_()["text/html"]
    assert (Egress() + Egress(prompt_bytes=3)).total_bytes == 3


def test_the_meter_counts_from_many_threads_and_no_meter_counts_nothing():
    meter = EgressMeter()
    meter.begin("many")

    def send():
        for _ in range(200):
            meter.sent([msg("x")])
            meter.uploaded("f", "file", "f", 1)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    row = meter.finish()
    assert row.sends == 800 and row.files_uploaded == 800 and row.prompt_bytes == 800 * compact(msg("x"))
    NO_METER.sent([msg("x")])
    NO_METER.uploaded("f", "file", "f", 1)
    assert NO_METER.rows() == ()
