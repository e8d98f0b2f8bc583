"""Turn's stop rule on scripted sessions (no server): a `requires_action` idle that names calls
already answered (re-emitted between two results, or replayed) neither stops the turn nor makes
the next message interrupt the previous turn; a call still unanswered does."""

from __future__ import annotations

from turn_fakes import answer, idle, make_turn, notes, use


def test_an_idle_naming_answered_calls_keeps_reading():
    turn, loop = make_turn([use("a"), use("b"), answer("a"), answer("b")])
    assert turn.requires_action(idle("b")) is True
    assert loop.sent == [] and notes(turn) == []


def test_an_idle_naming_an_unowned_unanswered_call_stops_and_says_waiting():
    turn, loop = make_turn([use("a"), use("c", name="elsewhere"), answer("a")])
    assert turn.requires_action(idle("a", "c")) is False
    assert loop.sent == [] and notes(turn)[-1].startswith("waiting: the agent needs custom tool `elsewhere`")


def test_calls_we_answer_are_sent_once_and_reading_goes_on():
    turn, loop = make_turn([use("a"), use("b")])
    assert turn.requires_action(idle("a", "b")) is True
    assert [[p["custom_tool_use_id"] for p in batch] for batch in loop.sent] == [["a", "b"]]
    assert turn.requires_action(idle("b")) is True  # the re-emitted idle between the two results
    assert len(loop.sent) == 1 and notes(turn) == []


def test_a_stale_previous_wait_is_not_interrupted():
    turn, loop = make_turn([use("a"), answer("a")], pending=["a"])
    turn._settle_previous()
    assert loop.sent == [] and notes(turn) == []


def test_a_previous_wait_nobody_answers_is_interrupted_with_a_note():
    turn, loop = make_turn([use("c", name="elsewhere")], pending=["c"])
    turn._settle_previous()
    assert loop.sent == [[{"type": "user.interrupt"}]]
    assert notes(turn) == [
        "the previous turn was still waiting for custom tool `elsewhere` (no function in this "
        "kernel answers it): interrupted it so this message runs"
    ]
