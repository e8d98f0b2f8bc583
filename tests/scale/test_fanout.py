"""Fan-out (`nb_agents.map`, `%%agent --map`) on the in-kernel emulator: retries without double
runs, isolated failures, budget, Stop, retry_failed, archive/keep."""

from __future__ import annotations

import time
from collections import Counter

import pandas as pd
import pytest

import nb_agents
from nb_agents.errors import AgentAPIError, ConfigError
from nb_agents.fanout.result import COLUMNS

ECHO = "[[emulator: echo]]\n"
FAIL = "[[emulator: scenario terminal]]\n"


def _user_texts(emu, session_ids=None):
    """Every user.message text held by the emulator, per session."""
    texts = {}
    for sid, rec in list(emu.store.sessions.items()):
        if session_ids is not None and sid not in session_ids:
            continue
        texts[sid] = [
            "".join(b.get("text", "") for b in e.get("content", []))
            for e in rec.runtime.events
            if e.get("type") == "user.message"
        ]
    return texts


def _status(emu, session_id):
    return emu.store.sessions[session_id].session


def test_fifty_items_with_429s_and_one_failing_item(emu):
    before = set(emu.store.sessions)
    items = [f"{ECHO}item {i:02d}" for i in range(50)]
    items[17] = f"{FAIL}item 17"  # always fails: the session terminates with a billing error
    emu.faults.update(error_rate=0.3, error_statuses=(429,), seed=7)
    try:
        result = nb_agents.map("{{item}}", items, concurrency=16, retries=5, live=False)
    finally:
        injected = emu.stats["faults:429"]
        emu.faults.reset()
    assert injected > 20  # the storm really happened
    table = result.table
    assert list(table.columns) == COLUMNS and len(result) == 50
    assert Counter(table.status) == {"done": 49, "failed": 1}
    assert table.loc[17, "status"] == "failed" and "terminated" in table.loc[17, "error"]
    done = table[table.status == "done"]
    assert all(done.text == [f"item {k:02d}" for k in done.index])  # nothing lost or mixed up
    assert done.cost_usd.gt(0).all() and done.error.isna().all()
    # no item ran twice: every item's text is in exactly one user.message on the whole server
    texts = _user_texts(emu, set(emu.store.sessions) - before)
    sent = Counter(t.split("\n")[-1] for msgs in texts.values() for t in msgs)
    assert sent == Counter(f"item {i:02d}" for i in range(50))
    assert all(len(msgs) <= 1 for msgs in texts.values())
    assert table.session_id.nunique() == 50
    # archived afterwards (keep=False); one agent and one environment shared by all items
    assert all(_status(emu, sid).get("archived_at") for sid in table.session_id)
    assert len({_status(emu, sid)["agent"]["id"] for sid in table.session_id}) == 1
    assert len({_status(emu, sid)["environment_id"] for sid in table.session_id}) == 1


def _max_overlap(items):
    edges = sorted([(i.started, 1) for i in items] + [(i.finished, -1) for i in items])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def test_concurrency_is_bounded_and_used(make_emulator, monkeypatch):
    from nb_agents.api import client

    with client.using_emulator(make_emulator(brain="echo", turn_delay=0.3)):
        fan = nb_agents.map("{{item}}", list(range(9)), concurrency=3, live=False, background=True)
        result = fan.wait(60)
    assert list(result.table.status) == ["done"] * 9
    assert _max_overlap(fan.items) == 3


def test_retry_resends_only_when_the_message_was_not_accepted(emu, monkeypatch):
    monkeypatch.setattr("nb_agents.api.retry.BACKOFF_START", 0.01)  # the loop's own 4 send attempts
    # every send of the first attempt fails (429, before the server applies it): the item retries
    emu.faults.fail_next(4, 429, route="POST /v1/sessions/*/events")
    result = nb_agents.map(ECHO + "{{item}}", ["once"], concurrency=1, live=False)
    row = result.table.iloc[0]
    assert row.status == "done" and row.attempts == 2
    assert _user_texts(emu, {row.session_id})[row.session_id] == [ECHO + "once"]


def test_accepted_message_is_followed_not_resent(emu, monkeypatch):
    from nb_agents.api import EventLoop

    real_send, failed = EventLoop.send, []

    def send_then_fail(self, events, **kw):
        echoes = real_send(self, events, **kw)
        if not failed and events[0]["type"] == "user.message":
            failed.append(True)  # the message is on the server but the client saw an error
            raise AgentAPIError("could not send the message after 4 attempts: API error 529", status=529)
        return echoes

    monkeypatch.setattr(EventLoop, "send", send_then_fail)
    result = nb_agents.map(ECHO + "{{item}}", ["exactly once"], concurrency=1, live=False)
    row = result.table.iloc[0]
    assert failed and row.status == "done" and row.attempts == 2 and row.text == "exactly once"
    assert len(_user_texts(emu, {row.session_id})[row.session_id]) == 1


def test_budget_stops_new_work(emu):
    items = [f"item {i}" for i in range(10)]
    result = nb_agents.map(ECHO + "{{item}}", items, concurrency=2, max_usd=0.03, live=False)
    counts = Counter(result.table.status)
    assert set(counts) == {"done", "skipped: budget"}
    assert 3 <= counts["done"] <= 5 and counts["skipped: budget"] >= 5
    skipped = result.table[result.table.status == "skipped: budget"]
    assert skipped.session_id.isna().all() and skipped.error.str.contains("budget").all()


def test_retry_failed_reruns_only_the_failures(emu):
    emu.faults.fail_next(3, 500, route="POST /v1/sessions")  # the SDK's 2 retries are not enough
    first = nb_agents.map(ECHO + "{{item}}", ["a", "b", "c"], concurrency=1, retries=0, live=False)
    assert list(first.table.status) == ["failed", "done", "done"]
    assert "500" in first.table.loc[0, "error"]
    created = emu.stats["sessions_created"]
    again = first.retry_failed()
    assert list(again.table.status) == ["done"] * 3 and list(again.table.text) == ["a", "b", "c"]
    assert emu.stats["sessions_created"] == created + 1  # only the failed item ran again
    assert again.table.loc[1, "session_id"] == first.table.loc[1, "session_id"]


def test_keep_leaves_sessions_unarchived(emu):
    result = nb_agents.map(ECHO + "{{item}}", ["k"], keep=True, live=False)
    sid = result.table.iloc[0].session_id
    assert _status(emu, sid).get("archived_at") is None


def test_stop_interrupts_running_and_skips_the_rest(emu):
    fan = nb_agents.map("[[emulator: scenario slow]]\n{{item}}", list("abcd"), concurrency=2, live=False,
                        background=True)
    deadline = time.monotonic() + 15
    while sum(1 for i in fan.items if i.session is not None and i.session.history is not None
              and i.session.history.messages) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    t0 = time.monotonic()
    fan.stop()
    result = fan.wait(30)
    assert time.monotonic() - t0 < 15  # not the 30 s of the slow scenario
    assert list(result.table.status) == ["interrupted", "interrupted", "skipped: stopped", "skipped: stopped"]
    for sid in result.table.session_id[:2]:  # interrupted on the server, then archived
        types = [e.get("type") for e in emu.store.sessions[sid].runtime.events]
        assert "user.interrupt" in types and _status(emu, sid).get("archived_at")
        assert "The long job finished." not in result.table.set_index("session_id").loc[sid, "text"]


def test_items_dict_dataframe_rows_and_groupby(emu, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_dict = nb_agents.map(ECHO + "{{key}} -> {{item.city}}", {"x": {"city": "Oslo"}, "y": {"city": "Lima"}},
                            live=False)
    assert dict(by_dict.table.text) == {"x": "x -> Oslo", "y": "y -> Lima"}
    frame = pd.DataFrame({"city": ["Rome", "Kyiv"], "pop": [2.8, 2.9]}, index=["r", "k"])
    rows = nb_agents.map(ECHO + "{{item.city}} has {{item['pop']}}M", frame, live=False)
    assert list(rows.table.text) == ["Rome has 2.8M", "Kyiv has 2.9M"]
    sales = pd.DataFrame({"region": ["n", "n", "s"], "revenue": [1.0, 2.0, 3.0]})
    groups = nb_agents.map(ECHO + "Summarise {{item}} for region {{key}}", sales.groupby("region"), live=False)
    assert list(groups.table.index) == ["n", "s"]
    for key, text in groups.table.text.items():
        assert f"region {key}" in text and "/mnt/session/uploads/" in text  # the sub-frame was mounted
    assert groups.table.loc["n", "item"].shape == (2, 2)


def test_runs_keep_every_row_when_index_labels_repeat(emu, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"city": ["Rome", "Kyiv", "Oslo"]}, index=["a", "a", "b"])
    result = nb_agents.map(ECHO + "{{index}}: {{item.city}}", frame, live=False)
    assert list(result.table.text) == ["0: Rome", "1: Kyiv", "2: Oslo"]
    runs = result.runs
    assert [r.text for r in runs["a"]] == ["0: Rome", "1: Kyiv"]  # a repeated key: its rows' runs, in order
    assert runs["b"].text == "2: Oslo"  # a unique key: its Run, as before
    assert len({r.session_id for r in [*runs["a"], runs["b"]]}) == 3


def test_bad_items_and_options_fail_in_one_line(emu):
    with pytest.raises(ConfigError, match="items must be"):
        nb_agents.map("{{item}}", "not a list", live=False)
    with pytest.raises(ConfigError, match="concurrency"):
        nb_agents.map("{{item}}", [1], concurrency=0, live=False)
    with pytest.raises(ConfigError, match="unknown option 'modle'"):
        nb_agents.map("{{item}}", [1], modle="x", live=False)


def test_map_cell_magic(ip, capsys):
    ip.user_ns["cities"] = ["Paris", "Quito", "Accra"]
    ip.run_cell_magic("agent", "--map cities --concurrency 2 --out res", ECHO + "Tell me about {{item}}")
    res = ip.user_ns["res"]
    assert ip.user_ns["_agent"] is res
    assert list(res.table.text) == [f"Tell me about {c}" for c in ip.user_ns["cities"]]
    assert "map: 3/3 finished, 3 done" in capsys.readouterr().out  # text-mode progress line
    with pytest.raises(ConfigError, match="did you mean 'cities'"):
        ip.run_cell_magic("agent", "--map citis", ECHO + "{{item}}")


def test_stop_all_button_of_a_background_fanout(emu, monkeypatch):
    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")
    fan = nb_agents.map("[[emulator: scenario slow]]\n{{item}}", ["x", "y", "z"], concurrency=1, live=True,
                        background=True)
    view = fan.view
    assert view.widget is not None and view._button.layout.display is None  # shown: the cell returned
    deadline = time.monotonic() + 15
    while not (fan.items[0].session and fan.items[0].session.history and fan.items[0].session.history.messages):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    view._button.click()
    result = fan.wait(20)
    assert list(result.table.status) == ["interrupted", "skipped: stopped", "skipped: stopped"]
    assert "1 interrupted" in view._html.value and view._button.layout.display == "none"


def test_foreground_fanout_has_no_stop_button(emu, monkeypatch):
    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")
    from nb_agents.fanout import FanOut
    from nb_agents.fanout.items import normalize

    fg = FanOut(ECHO + "{{item}}", normalize(["y"]), live=True).start()
    assert fg.view._button.layout.display == "none"  # a busy foreground cell takes no clicks: Ctrl-C
    assert fg.wait(20).table.status.tolist() == ["done"]


def test_map_cell_in_the_background(ip):
    ip.user_ns["words"] = {"a": "alpha", "b": "beta"}
    ip.run_cell_magic("agent", "--map words --bg", ECHO + "{{key}}={{item}}")
    fan = ip.user_ns["_agent"]
    result = fan.wait(30)
    assert dict(result.table.text) == {"a": "a=alpha", "b": "b=beta"}
