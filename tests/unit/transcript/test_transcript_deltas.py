"""Batched delta folding (transcript_deltas.py) and the turn's lazy fold (turn.py)."""

from __future__ import annotations

from typing import Any

import anthropic.lib.sessions as sdk_sessions
import pytest
from transcript_builders import B

from nb_agents.events import event_from_json
from nb_agents.transcript import empty, fold, fold_all
from nb_agents.transcript.deltas import PendingDeltas, fold_deltas, is_delta


def _thinking_delta(event_id: str) -> Any:
    """A delta whose fragment is not text: folded on its own, never merged."""
    delta = {"type": "content_delta", "index": 1, "content": {"type": "image", "source": {"type": "url", "url": "x"}}}
    return event_from_json({"type": "event_delta", "event_id": event_id, "delta": delta})


def _stream(b: B) -> list[Any]:
    """Two interleaved previews, a second content index, an unknown id and a non-text fragment."""
    return [
        b.start("m1"),
        *[b.delta("m1", f"a{i} ") for i in range(50)],
        b.start("m2"),
        b.delta("m2", "other "),
        *[b.delta("m1", f"b{i} ") for i in range(5)],
        b.delta("m1", "second block", index=1),
        b.delta("nope", "ignored"),
        b.delta("m2", "more"),
    ]


def test_batched_fold_equals_folding_one_by_one() -> None:
    events = _stream(B())
    t0 = fold_all(empty(), events[:1])
    one_by_one = fold_all(t0, events[1:])
    # as a turn does: queue the deltas, fold the queue before any other event, and at the end
    batched, run = t0, []
    for event in events[1:]:
        if is_delta(event):
            run.append(event)
        else:
            batched = fold(fold_deltas(batched, run), event)
            run = []
    batched = fold_deltas(batched, run)
    for key in ("m1", "m2"):
        assert batched.get(key).text == one_by_one.get(key).text
        assert [b.text for b in batched.get(key).blocks] == [b.text for b in one_by_one.get(key).blocks]
    assert batched.get("m1").text.startswith("a0 a1 ") and "b4 second block" in batched.get("m1").text
    assert batched.event_count == one_by_one.event_count


def test_the_sdk_helper_runs_once_per_merged_run(monkeypatch: pytest.MonkeyPatch) -> None:
    b = B()
    t = fold(empty(), b.start("m1"))
    calls = []
    real = sdk_sessions.accumulate_managed_agents_event
    monkeypatch.setattr(sdk_sessions, "accumulate_managed_agents_event", lambda acc, e: calls.append(e) or real(acc, e))
    t = fold_deltas(t, [b.delta("m1", f"w{i} ") for i in range(1000)])
    assert len(calls) == 1 and t.get("m1").text == "".join(f"w{i} " for i in range(1000))
    assert t.event_count == 1001 and t.get("m1").streaming


def test_non_text_fragments_are_not_merged() -> None:
    b = B()
    t = fold_all(empty(), [b.start("m1"), b.delta("m1", "hi")])
    t2 = fold_deltas(t, [b.delta("m1", " there"), _thinking_delta("m1"), b.delta("m1", "!")])
    assert t2.get("m1").text.startswith("hi there") and t2.event_count == t.event_count + 3


def test_pending_deltas_keep_one_event_per_run_and_fold_each_delta_once() -> None:
    b = B()
    pending = PendingDeltas()
    for i in range(3):
        pending.add(b.delta("m1", str(i)))
    pending.add(b.delta("m2", "x"))
    assert len(pending) == 2  # two runs: m1 (three deltas, one event kept), m2
    t = pending.fold(fold_all(empty(), [b.start("m1"), b.start("m2")]))
    assert t.get("m1").text == "012" and t.get("m2").text == "x" and t.event_count == 6
    assert len(pending) == 0 and pending.fold(t) is t


def test_add_says_when_the_queue_was_empty_and_a_run_goes_on_after_a_fold() -> None:
    """`add` is True for the first delta since the last fold only (who shows the transcript is
    woken once per burst); the deltas of a run that a fold cut in two still fold to the same text."""
    b = B()
    start = fold(empty(), b.start("m1"))
    pending = PendingDeltas()
    assert [pending.add(b.delta("m1", w)) for w in ("a", "b", "c")] == [True, False, False]
    assert pending.add(b.delta("m1", "2nd", index=1)) is False  # a new run in a queue already woken
    t = pending.fold(start)
    assert [pending.add(b.delta("m1", w)) for w in ("d", "e")] == [True, False]
    t = pending.fold(t)
    one_by_one = fold_all(start, [b.delta("m1", w) for w in "abc"] + [b.delta("m1", "2nd", index=1)]
                          + [b.delta("m1", w) for w in "de"])
    assert t.get("m1").text == one_by_one.get("m1").text and t.event_count == one_by_one.event_count == 7


def test_the_turn_wakes_its_view_once_per_burst_and_shows_every_delta() -> None:
    from turn_fakes import make_turn

    class View:
        def __init__(self) -> None:
            self.updates: list = []

        def update(self, source) -> None:
            self.updates.append(source)

    b = B()
    turn, _ = make_turn([])
    turn.session.record_preview = lambda event: None
    turn.t = fold(turn.t, b.start("m1"))
    turn.view = view = View()
    for i in range(100):
        turn.on_event(b.delta("m1", f"w{i} "))
    assert len(view.updates) == 1 and callable(view.updates[0])  # the source: it folds what came since
    assert view.updates[0]().get("m1").text == "".join(f"w{i} " for i in range(100))
    turn.on_event(b.delta("m1", "more"))  # the queue was folded by that read: this delta wakes it again
    assert len(view.updates) == 2 and view.updates[-1]().get("m1").text.endswith("w99 more")
