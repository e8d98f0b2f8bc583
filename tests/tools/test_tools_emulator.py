"""Custom tools, approvals and budgets end to end on the emulator, with the plain anthropic client.

Each test creates a session whose agent carries our tools (`agent_with_overrides`), drives one
turn with `stream.EventLoop` + `tool_handler.requires_action_hook`, and checks the session's
own event log (`events.list`) for what the agent received.
"""

from __future__ import annotations

import threading
import time

import pytest

from nb_agents.api import EventLoop
from nb_agents.tools import (
    ActionHandler,
    ButtonPrompter,
    StdinPrompter,
    requires_action_hook,
    tool,
    tool_setup,
)
from nb_agents.tools.budget import (
    BudgetGuard,
    budget_reached_notice,
    list_cost_usd,
    raise_budget,
    session_cost,
)

pytestmark = pytest.mark.timeout(60)

SCENARIOS = {
    "typed_call": [
        {
            "custom_tool": "order_total",
            "say": "Pricing the order.",
            "input": {"quantity": 3, "price": 2.5, "sku": "A-1", "express": True, "tags": ["gift", "eu"]},
        },
        {"say": "The order is priced."},
    ],
    "raising": [{"custom_tool": "explode", "input": {"what": "db"}}, {"say": "The tool failed; moving on."}],
    "slow": [{"custom_tool": "sleepy", "input": {"seconds": 5}}, {"say": "It timed out; moving on."}],
    "two_calls": [
        {
            "tools": [
                {"custom_tool": "order_total", "input": {"quantity": 1, "price": 4.0, "sku": "B"}},
                {"custom_tool": "order_total", "input": {"quantity": 2, "price": 1.0, "sku": "C"}},
            ]
        },
        {"say": "Both orders priced."},
    ],
    "confirm_bash": [
        {"confirm": "bash", "input": {"command": "echo hi > /mnt/session/outputs/hi.txt && echo ran"}},
        {"say": "Done with the command."},
    ],
    "spendy": [
        {"say": "step one " * 50},
        {"say": "step two " * 50},
        {"say": "step three " * 50},
        {"say": "step four " * 50},
        {"say": "finished"},
    ],
}

runs: list[dict] = []


@tool
def order_total(
    quantity: int, price: float, sku: str, express: bool = False, tags: list[str] | None = None
) -> dict:
    """Total price of an order line."""
    runs.append({"quantity": quantity, "price": price, "sku": sku, "express": express, "tags": tags})
    return {"sku": sku, "total": quantity * price + (5 if express else 0), "tags": tags or []}


@tool
def explode(what: str) -> str:
    """Always fails."""
    raise ConnectionError(f"cannot reach {what} with key sk-ant-api03-DoNotLeakThis")


@tool(timeout=0.3)
def sleepy(seconds: float) -> str:
    """Sleeps."""
    time.sleep(seconds)
    return "woke up"


@pytest.fixture(scope="module")
def emu():
    from nb_agents.emulator import Emulator

    with Emulator(brain="echo", scenarios=SCENARIOS) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def ids(emu):
    client = emu.client(max_retries=0)
    agent = client.beta.agents.create(
        name="tools-test", model="claude-sonnet-4-6", tools=[{"type": "agent_toolset_20260401"}]
    )
    env = client.beta.environments.create(name="tools-test-env", config={"type": "cloud"})
    return agent.id, env.id


def start(emu, ids, setup):
    client = emu.client(max_retries=0)
    session = client.beta.sessions.create(environment_id=ids[1], **setup.create_kwargs(ids[0]))
    return client, session.id


def turn(client, sid, setup, scenario, *, timeout=20.0, cut_after=None):
    """One turn: returns (final idle event, every event the loop saw, notices)."""
    notices: list[str] = []
    seen: list = []
    loop = EventLoop(
        client, sid, deltas=False, on_event=seen.append, sleep=lambda s: time.sleep(min(s, 0.05))
    )
    deadline = time.monotonic() + timeout
    loop.on_requires_action = requires_action_hook(
        setup.handler,
        client,
        sid,
        send=loop.send,
        deadline=deadline,
        on_notice=lambda t, lvl: notices.append(t),
    )
    message = {
        "type": "user.message",
        "content": [{"type": "text", "text": f"[[emulator: scenario {scenario}]]\ngo"}],
    }
    final = loop.run([message], deadline=deadline)
    return final, seen, notices, loop


def listed(client, sid, etype):
    return [e for e in client.beta.sessions.events.list(sid, limit=1000) if e.type == etype]


def test_session_agent_carries_the_custom_tools(emu, ids):
    setup = tool_setup(tools=[order_total], ask="bash")
    client, sid = start(emu, ids, setup)
    tools = client.beta.sessions.retrieve(sid).agent.tools
    custom = [t for t in tools if t.type == "custom"]
    assert [t.name for t in custom] == ["order_total"]
    assert custom[0].input_schema.required == ["quantity", "price", "sku"]


def test_typed_tool_called_and_answered(emu, ids):
    runs.clear()
    setup = tool_setup(tools=[order_total])
    client, sid = start(emu, ids, setup)
    final, seen, _, _ = turn(client, sid, setup, "typed_call")
    assert final.stop_reason.type == "end_turn"
    assert runs == [{"quantity": 3, "price": 2.5, "sku": "A-1", "express": True, "tags": ["gift", "eu"]}]
    [result] = listed(client, sid, "user.custom_tool_result")
    assert result.is_error is False
    assert result.content[0].text == '{"sku": "A-1", "total": 12.5, "tags": ["gift", "eu"]}'
    assert [e.type for e in seen].count("agent.message") >= 1


def test_raising_tool_is_error_and_session_continues(emu, ids):
    setup = tool_setup(tools=[explode])
    client, sid = start(emu, ids, setup)
    final, _, _, _ = turn(client, sid, setup, "raising")
    assert final.stop_reason.type == "end_turn"
    [result] = listed(client, sid, "user.custom_tool_result")
    assert result.is_error is True
    assert result.content[0].text == "ConnectionError: cannot reach db with key [redacted]"
    assert listed(client, sid, "agent.message")[-1].content[0].text == "The tool failed; moving on."


def test_slow_tool_hits_its_timeout_and_session_continues(emu, ids):
    setup = tool_setup(tools=[sleepy])
    client, sid = start(emu, ids, setup)
    t0 = time.monotonic()
    final, _, notices, _ = turn(client, sid, setup, "slow")
    assert time.monotonic() - t0 < 4
    assert final.stop_reason.type == "end_turn"
    [result] = listed(client, sid, "user.custom_tool_result")
    assert (
        result.is_error and result.content[0].text == "TimeoutError: tool sleepy did not finish within 0.3 s"
    )
    assert any("timed out" in n for n in notices)


def test_two_calls_in_one_turn(emu, ids):
    runs.clear()
    setup = tool_setup(tools=[order_total])
    client, sid = start(emu, ids, setup)
    final, seen, _, _ = turn(client, sid, setup, "two_calls")
    assert final.stop_reason.type == "end_turn"
    # both answers go in one POST; the emulator applies them one by one and re-emits the idle
    # for the second in between: the hook must keep reading there, not stop as "waiting"
    idles = [
        e.stop_reason.event_ids
        for e in seen
        if e.type == "session.status_idle" and e.stop_reason.type == "requires_action"
    ]
    assert len(idles) == 2 and len(idles[0]) == 2 and idles[1] == idles[0][1:]
    calls = listed(client, sid, "agent.custom_tool_use")
    results = listed(client, sid, "user.custom_tool_result")
    assert len(calls) == 2 and sorted(r.custom_tool_use_id for r in results) == sorted(c.id for c in calls)
    assert sorted(r["sku"] for r in runs) == ["B", "C"]
    assert setup.handler.executions["order_total"] == 2


def test_stream_cut_between_call_and_answer_runs_the_tool_once(emu, ids):
    runs.clear()
    setup = tool_setup(tools=[order_total])
    client, sid = start(emu, ids, setup)
    emu.faults.update(stream_cut_after=2, stream_cut_mode="abort")
    try:
        final, _, _, loop = turn(client, sid, setup, "typed_call", timeout=30)
    finally:
        emu.faults.reset()
    assert final.stop_reason.type == "end_turn"
    assert loop.reconnects >= 1
    assert len(runs) == 1 and setup.handler.executions["order_total"] == 1
    assert len(listed(client, sid, "user.custom_tool_result")) == 1
    # a second delivery of the same idle (reconnect/backfill) neither re-runs nor re-sends
    idle = [
        e
        for e in client.beta.sessions.events.list(sid, limit=1000)
        if e.type == "session.status_idle" and e.stop_reason.type == "requires_action"
    ][0]
    assert requires_action_hook(setup.handler, client, sid)(idle) is True
    later_cell = tool_setup(tools=[order_total])  # a new handler in the same kernel: shared ledger
    assert requires_action_hook(later_cell.handler, client, sid)(idle) is True
    restarted = ActionHandler([order_total])  # a restarted kernel: only the history says it was answered
    assert requires_action_hook(restarted, client, sid)(idle) is True
    assert len(runs) == 1 and later_cell.handler.executions["order_total"] == 0
    assert restarted.executions["order_total"] == 0
    assert len(listed(client, sid, "user.custom_tool_result")) == 1


def test_unowned_custom_call_is_left_waiting(emu, ids):
    setup = tool_setup(tools=[explode])  # the scenario calls order_total, which this kernel lacks
    client, sid = start(emu, ids, setup)
    final, _, notices, _ = turn(client, sid, setup, "typed_call")
    assert final.stop_reason.type == "requires_action"
    assert listed(client, sid, "user.custom_tool_result") == []
    assert any("Waiting on order_total" in n for n in notices)


def _confirmation_turn(emu, ids, prompter):
    setup = tool_setup(ask="bash", prompter=prompter)
    client, sid = start(emu, ids, setup)
    final, _, _, _ = turn(client, sid, setup, "confirm_bash")
    assert final.stop_reason.type == "end_turn"
    [confirmation] = listed(client, sid, "user.tool_confirmation")
    [result] = listed(client, sid, "agent.tool_result")
    return confirmation, result


def test_foreground_allow_via_stdin_prompt(emu, ids):
    shown: list[str] = []
    confirmation, result = _confirmation_turn(emu, ids, StdinPrompter(lambda prompt: "y", shown.append))
    assert confirmation.result == "allow" and result.is_error is False
    assert shown[0].startswith("The agent wants to run bash") and "echo hi" in shown[0]


def test_foreground_deny_via_stdin_prompt(emu, ids):
    confirmation, result = _confirmation_turn(
        emu, ids, StdinPrompter(lambda prompt: "n: not on my laptop", print)
    )
    assert confirmation.result == "deny" and confirmation.deny_message == "not on my laptop"
    assert result.is_error is True and "not on my laptop" in result.content[0].text


def _clicker(prompter, act):
    def worker():
        for _ in range(1000):
            if prompter.rows:
                act(next(iter(prompter.rows.values())))
                return
            time.sleep(0.01)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    return thread


def test_background_allow_and_deny_via_buttons(emu, ids):
    prompter = ButtonPrompter()
    clicker = _clicker(prompter, lambda row: row.allow_button.click())
    confirmation, result = _confirmation_turn(emu, ids, prompter)
    clicker.join(2)
    assert confirmation.result == "allow" and result.is_error is False

    def deny(row):
        row.message_text.value = "use read instead"
        row.deny_button.click()

    clicker = _clicker(prompter, deny)
    confirmation, result = _confirmation_turn(emu, ids, prompter)
    clicker.join(2)
    assert confirmation.result == "deny" and confirmation.deny_message == "use read instead"
    assert result.is_error is True and prompter.widget.children == ()


def test_unanswered_confirmation_is_denied_at_the_deadline(emu, ids):
    setup = tool_setup(ask="bash", prompter=ButtonPrompter(), approval_timeout=0.2)
    client, sid = start(emu, ids, setup)
    final, _, notices, _ = turn(client, sid, setup, "confirm_bash")
    assert final.stop_reason.type == "end_turn"
    [confirmation] = listed(client, sid, "user.tool_confirmation")
    assert confirmation.result == "deny" and "denied automatically" in confirmation.deny_message
    assert any("No answer for bash" in n for n in notices)


def test_budget_reached_then_raised(emu, ids):
    setup = tool_setup(max_usd=0.01)
    client, sid = start(emu, ids, setup)
    assert client.beta.sessions.retrieve(sid).budget.max_list_cost.amount == "1"
    final, seen, _, _ = turn(client, sid, setup, "spendy")
    assert final.stop_reason.type == "budget_reached"
    guard = BudgetGuard(0.01)
    assert any(guard.on_event(e) for e in seen) and guard.tripped
    report = session_cost(client, sid)
    assert report.cost_usd is not None and report.cost_usd >= 0.01 and report.budget_usd == 0.01
    assert report.input_tokens + report.cache_creation_input_tokens > 0
    usage = [e for e in seen if e.type == "session.usage"][-1]
    assert list_cost_usd(usage.usage) == report.cost_usd
    assert "Budget reached" in budget_reached_notice(sid, report.cost_usd, report.budget_usd)
    raise_budget(client, sid, 5)
    assert client.beta.sessions.retrieve(sid).budget.max_list_cost.amount == "500"
