"""`AgentSession.follow()` ends when nothing runs: a session at rest (its last idle already read)
returns at once instead of waiting for events that will never come; a session paused at its
budget and then raised is followed to the end of the resumed work."""

from __future__ import annotations

import threading

import pandas as pd

import nb_agents
from nb_agents.tools import raise_budget

from .conftest import ECHO


def _within(seconds: float, call):
    """`call()` on a thread; its result, or a failure if it has not returned in `seconds`."""
    box: dict = {}
    worker = threading.Thread(target=lambda: box.setdefault("run", call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"follow() still waiting after {seconds} s"
    return box["run"]


def test_follow_on_an_idle_session_returns_at_once(ip):
    ip.run_cell_magic("agent", "--new --session rest", ECHO + "hello")
    s = nb_agents.session("rest")
    run = _within(20, lambda: s.follow(live=False))
    assert run.stop_reason == "end_turn"
    # and the session goes on as usual
    ip.run_cell_magic("agent", "--session rest --out after", ECHO + "again")
    assert ip.user_ns["after"].text.endswith("again")


def test_follow_after_a_budget_raise_reads_the_resumed_work(ip):
    ip.user_ns["sales"] = pd.DataFrame({"month": ["Jan", "Feb"], "revenue": [1.0, 2.0]})
    ip.run_cell_magic("agent", "--new --max-usd 0.01 --session capped --out capped", "Profile {{sales}}.")
    assert ip.user_ns["capped"].stop_reason == "budget_reached"
    s = nb_agents.session("capped")
    raise_budget(s.client, s.session_id, 1.00)
    resumed = _within(60, lambda: s.follow(live=False))
    assert resumed.stop_reason == "end_turn" and resumed.text
    # nothing runs now: following again returns at once
    assert _within(20, lambda: s.follow(live=False)).stop_reason == "end_turn"
