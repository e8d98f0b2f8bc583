"""Reading fields of SDK models and wire dicts the same way, and money amounts in dollars."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from nb_agents.events import event_from_json, get_field, usd
from nb_agents.tools.budget import list_cost_usd
from nb_agents.transcript import empty, fold


def test_get_field_reads_a_model_a_dict_or_nothing():
    event = event_from_json({"type": "session.status_idle", "id": "sevt_1", "stop_reason": {"type": "end_turn"}})
    assert get_field(event, "id") == "sevt_1"
    assert get_field({"id": "sevt_2"}, "id") == "sevt_2"
    assert get_field(SimpleNamespace(id="x"), "missing", "d") == "d"
    assert get_field({}, "missing", 3) == 3
    assert get_field(None, "id") is None and get_field(None, "id", 0) == 0
    assert get_field(get_field(event, "stop_reason"), "type") == "end_turn"


@pytest.mark.parametrize(
    ("money", "dollars"),
    [
        ({"amount": "125", "currency": "USD"}, 1.25),
        ({"amount": 125}, 1.25),
        (SimpleNamespace(amount="7"), 0.07),
        ({"amount": "1.5"}, 0.015),  # a fraction of a cent is kept, not rejected
        ({"amount": "0"}, 0.0),
        ({"amount": None}, None),
        ({"amount": "n/a"}, None),
        ({"amount": "nan"}, None),
        ({"amount": True}, None),
        ({}, None),
        (None, None),
    ],
)
def test_usd_turns_cents_into_dollars(money, dollars):
    assert usd(money) == dollars


def test_the_budget_guard_and_the_transcript_read_a_cost_the_same_way():
    usage = {"input_tokens": 1, "output_tokens": 2, "list_cost": {"amount": "1.5", "currency": "USD"}}
    budget = {"type": "limit", "max_list_cost": {"amount": "250", "currency": "USD"}}
    t = fold(empty(), event_from_json({"type": "session.usage", "id": "sevt_s", "usage": usage, "budget": budget}))
    assert list_cost_usd(usage) == t.cost_usd == 0.015  # a fraction of a cent: was None in the fold
    assert t.budget_usd == 2.5
