"""Budgets (param, client guard, notice, cost report) and the optional kernel tools."""

from __future__ import annotations

import pytest

from nb_agents.errors import ConfigError
from nb_agents.tools.budget import (
    BudgetGuard,
    CostReport,
    budget_param,
    budget_reached_notice,
    cents,
    list_cost_usd,
)
from nb_agents.tools.handler import ActionHandler
from nb_agents.tools.kernel import make_kernel_tools


def usage_event(amount):
    return {
        "type": "session.usage",
        "id": "sevt_u",
        "usage": {"list_cost": {"amount": amount, "currency": "USD"}},
    }


def test_budget_param_in_cents():
    assert budget_param(2.5) == {"type": "limit", "max_list_cost": {"amount": "250", "currency": "USD"}}
    assert budget_param("0.10")["max_list_cost"]["amount"] == "10"
    assert cents(0.001) == 1 and cents(1.005) == 101  # rounded up, never lowered
    for bad in (0, -1, "abc", float("nan")):
        with pytest.raises(ConfigError):
            budget_param(bad)


def test_budget_param_validates_against_sdk_type():
    from anthropic.types.beta.beta_managed_agents_budget_limit_param import BetaManagedAgentsBudgetLimitParam
    from pydantic import TypeAdapter

    TypeAdapter(BetaManagedAgentsBudgetLimitParam).validate_python(budget_param(3))


def test_guard_trips_once_when_spend_reaches_cap():
    guard = BudgetGuard(0.50)
    assert not guard.on_event({"type": "agent.message"})
    assert not guard.on_event(usage_event("49"))
    assert guard.on_event(usage_event("53"))
    assert not guard.on_event(usage_event("60"))  # only once
    assert guard.tripped and guard.spent_usd == pytest.approx(0.60)
    with pytest.raises(ConfigError):
        BudgetGuard(0)


def test_list_cost_and_notice():
    assert list_cost_usd({"list_cost": {"amount": "125", "currency": "USD"}}) == 1.25
    assert list_cost_usd({}) is None and list_cost_usd(None) is None
    text = budget_reached_notice("sesn_1", 0.53, 0.5)
    assert text.startswith("Budget reached: spent $0.53 of $0.50.")
    assert 'raise_budget(client, "sesn_1", <usd>)' in text and 'sessions.update("sesn_1"' in text


def test_cost_report_renders_text_and_html():
    report = CostReport(
        "sesn_1", input_tokens=1200, output_tokens=30, cost_usd=0.05, budget_usd=1.0, active_seconds=3.25
    )
    text = str(report)
    assert "sesn_1" in text and "1,200" in text and "$0.05" in text and "$1.00" in text and "3.2 s" in text
    bundle = report._repr_mimebundle_()
    assert bundle["text/plain"] == text and "<table>" in bundle["text/html"]


def test_kernel_tools_list_and_describe():
    pd = pytest.importorskip("pandas")
    import math

    ns = {
        "sales": pd.DataFrame({"month": [1, 2], "revenue": [10.0, 12.5]}),
        "n": 3,
        "_hidden": 1,
        "math": math,
        "In": [],
        "secret_fn": lambda: 1,
    }
    listing, describe = make_kernel_tools(ns)
    handler = ActionHandler([listing, describe])
    out = handler.resolve(
        [
            {"type": "agent.custom_tool_use", "id": "sevt_1", "name": "list_variables", "input": {}},
            {
                "type": "agent.custom_tool_use",
                "id": "sevt_2",
                "name": "describe_variable",
                "input": {"name": "sales"},
            },
            {
                "type": "agent.custom_tool_use",
                "id": "sevt_3",
                "name": "describe_variable",
                "input": {"name": "sales.to_csv()"},
            },
            {
                "type": "agent.custom_tool_use",
                "id": "sevt_4",
                "name": "describe_variable",
                "input": {"name": "n"},
            },
        ]
    )
    listed = out[0]["content"][0]["text"].splitlines()
    assert listed == ["name\ttype\tshape", "sales\tpandas.DataFrame\t2 x 2", "n\tint\t"]
    described = out[1]["content"][0]["text"]
    assert described.startswith("sales: DataFrame, 2 rows x 2 columns") and "revenue: float64" in described
    assert "month,revenue\n1,10.0" in described
    assert out[2]["is_error"] and out[2]["content"][0]["text"].startswith("LookupError: no variable named")
    assert out[3]["content"][0]["text"] == "n: int\n3"


def test_describe_is_size_bounded():
    from nb_agents.tools.kernel import MAX_DESCRIBE_CHARS

    _, describe = make_kernel_tools({"big": "x" * 100_000})
    text = describe.sdk_tool.call({"name": "big"})
    assert len(text) <= MAX_DESCRIBE_CHARS and text.startswith("big: str (100000 chars)")


def test_guard_listener_interrupts_once_and_explains():
    sent, notices = [], []

    class Events:
        def send(self, session_id, events):
            sent.append((session_id, events))

    class Client:
        class beta:  # noqa: N801 - mirrors client.beta.sessions.events
            class sessions:  # noqa: N801
                events = Events()

    listen = BudgetGuard(0.10).listener(Client, "sesn_1", lambda text, level: notices.append((text, level)))
    for amount in ("5", "12", "20"):
        listen(usage_event(amount))
    assert sent == [("sesn_1", [{"type": "user.interrupt"}])]
    assert notices[0][1] == "warning" and notices[0][0].startswith("Budget reached: spent $0.12 of $0.10.")
