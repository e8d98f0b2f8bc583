"""A turn queues message deltas and folds them in batches (turn.py, transcript_deltas.py);
the session history never folds previews (session.record)."""

from __future__ import annotations

import json
from typing import Any

import anthropic.lib.sessions as sdk_sessions
import pytest

import nb_agents
from nb_agents.transcript import AgentMessage

WORDS = " ".join(f"w{i}" for i in range(360))  # the emulator streams 3 words per delta: 120 deltas


@pytest.mark.timeout(60)
def test_a_turn_folds_its_deltas_in_batches(emu: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "deltas.json"
    path.write_text(json.dumps({"name": "deltas", "steps": [{"say": WORDS}]}))
    helper_calls: list[str] = []
    real = sdk_sessions.accumulate_managed_agents_event

    def counting(acc: Any, event: Any) -> Any:
        helper_calls.append(event.type)
        return real(acc, event)

    monkeypatch.setattr(sdk_sessions, "accumulate_managed_agents_event", counting)
    sess = nb_agents.session("deltas")
    deltas: list[Any] = []
    sess.listeners.append(lambda e: deltas.append(e) if getattr(e, "type", "") == "event_delta" else None)
    run = sess.ask(f"[[emulator: scenario {path}]]\ngo", live=False, interpolate=False, new=True)
    assert run.stop_reason == "end_turn" and run.text == WORDS
    assert len(deltas) >= 100
    # no view: the queued deltas are folded once, merged, just before the buffered agent.message
    assert helper_calls.count("event_delta") <= 2
    # every delta still counts as one event of the turn, as if folded one by one
    assert run.transcript.event_count >= len(run.events) + len(deltas)
    # the history holds what the server keeps: no previews folded, nothing left streaming
    history = sess.history
    assert history.event_count == len(sess.events)
    assert not any(isinstance(i, AgentMessage) and i.streaming for i in history.items)
    assert history.text == WORDS
