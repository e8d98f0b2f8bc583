"""ActionHandler without a server: execution, errors, timeouts, exactly-once, confirmations."""

from __future__ import annotations

import threading
import time

import pytest

from nb_agents.tools.approvals import (
    ButtonPrompter,
    ConfirmationRequest,
    Decision,
    StdinPrompter,
    parse_answer,
)
from nb_agents.tools.custom import KernelTool, as_tool, tool
from nb_agents.tools.handler import ActionContext, ActionHandler, requires_action_hook


def call(cid, name, **inp):
    return {"type": "agent.custom_tool_use", "id": cid, "name": name, "input": inp}


def ask(cid, name="bash", **inp):
    return {
        "type": "agent.tool_use",
        "id": cid,
        "name": name,
        "input": inp,
        "evaluated_permission": "ask",
        "evaluation": {"type": "auto", "evaluated_permission": {"type": "ask", "reason_code": "high_risk"}},
    }


def add(a: int, b: int = 1) -> int:
    """Add."""
    return a + b


def boom(x: str) -> str:
    """Fail."""
    raise PermissionError(f"cannot read {x} with key sk-ant-api03-secretsecret")


@tool(timeout=0.2)
def slow(seconds: float) -> str:
    """Sleep."""
    time.sleep(seconds)
    return "done"


class FakePrompter:
    def __init__(self, *decisions):
        self.decisions = list(decisions)
        self.requests: list[tuple[ConfirmationRequest, float | None]] = []

    def ask(self, request, timeout):
        self.requests.append((request, timeout))
        return self.decisions.pop(0)


def test_runs_a_tool_and_answers():
    h = ActionHandler([add])
    [p] = h.resolve([call("sevt_1", "add", a=2, b=3)])
    assert p == {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": "sevt_1",
        "content": [{"type": "text", "text": "5"}],
        "is_error": False,
    }
    assert h.executions["add"] == 1


def test_raising_tool_answers_is_error_with_scrubbed_message():
    h = ActionHandler([boom])
    [p] = h.resolve([call("sevt_1", "boom", x="/etc")])
    assert p["is_error"] is True
    assert p["content"] == [{"type": "text", "text": "PermissionError: cannot read /etc with key [redacted]"}]


def test_bad_arguments_answer_is_error():
    [p] = ActionHandler([add]).resolve([call("sevt_1", "add", a="many")])
    assert p["is_error"] and p["content"][0]["text"].startswith(
        "ValueError: Invalid arguments for function add"
    )


def test_slow_tool_times_out_and_the_handler_returns():
    notices = []
    h = ActionHandler([slow])
    t0 = time.monotonic()
    ctx = ActionContext(on_notice=lambda text, level: notices.append((text, level)))
    [p] = h.resolve([call("sevt_1", "slow", seconds=5)], ctx)
    assert time.monotonic() - t0 < 2
    assert notices == [("Tool slow timed out after 0.2 s; the agent was told.", "warning")]
    assert p["is_error"] and p["content"][0]["text"] == "TimeoutError: tool slow did not finish within 0.2 s"


def test_deadline_bounds_the_tool_timeout():
    h = ActionHandler([KernelTool(as_tool(slow).sdk_tool, timeout=30)])
    t0 = time.monotonic()
    [p] = h.resolve([call("sevt_1", "slow", seconds=5)], ActionContext(deadline=time.monotonic() + 0.3))
    assert time.monotonic() - t0 < 2 and p["is_error"]


def test_two_calls_run_concurrently_in_order():
    def wait(tag: str) -> str:
        """Wait."""
        time.sleep(0.3)
        return tag

    h = ActionHandler([wait])
    t0 = time.monotonic()
    out = h.resolve([call("sevt_a", "wait", tag="A"), call("sevt_b", "wait", tag="B")])
    assert time.monotonic() - t0 < 0.55
    assert [p["custom_tool_use_id"] for p in out] == ["sevt_a", "sevt_b"]
    assert [p["content"][0]["text"] for p in out] == ["A", "B"]


def test_exactly_once_across_repeated_resolves():
    h = ActionHandler([add])
    ev = call("sevt_1", "add", a=1)
    assert len(h.resolve([ev, ev])) == 1
    assert h.resolve([ev]) == []  # already answered by this handler
    assert h.executions["add"] == 1


def test_history_answer_is_never_rerun():
    h = ActionHandler([add])
    history = [
        call("sevt_1", "add", a=1),
        {"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_1"},
    ]
    assert h.resolve([call("sevt_1", "add", a=1)], ActionContext(history=history)) == []
    assert h.executions["add"] == 0


def test_release_after_failed_send_returns_cached_result_without_rerun():
    h = ActionHandler([add])
    ev = call("sevt_1", "add", a=1)
    first = h.resolve([ev])
    h.release(first)
    assert h.resolve([ev]) == first
    assert h.executions["add"] == 1


def test_respond_sends_and_releases_on_failure():
    sent = []

    class Events:
        def send(self, session_id, events):
            if not sent:
                sent.append("fail")
                raise ConnectionError("down")
            sent.append((session_id, events))

    class Client:
        class beta:  # noqa: N801 - mirrors client.beta.sessions.events
            class sessions:  # noqa: N801
                events = Events()

    h = ActionHandler([add])
    with pytest.raises(ConnectionError):
        h.respond(Client, "sesn_1", [call("sevt_1", "add", a=1)])
    h.respond(Client, "sesn_1", [call("sevt_1", "add", a=1)])
    assert sent[1][0] == "sesn_1" and sent[1][1][0]["custom_tool_use_id"] == "sevt_1"
    assert h.executions["add"] == 1


def test_answers_sent_outside_the_loop_count_in_the_handlers_meter():
    """`respond` and `requires_action_hook` without `send=` count what they send (a failed
    attempt too) in the handler's meter; with the loop's `send` the loop counts, not the handler."""
    from types import SimpleNamespace

    from nb_agents.egress import EgressMeter, event_bytes

    sent, fail = [], [True]

    class Events:
        def send(self, session_id, events):
            if fail.pop(0) if fail else False:
                raise ConnectionError("down")
            sent.append(events)

        def list(self, session_id, **kw):
            return [call("sevt_2", "add", a=2)]

    client = SimpleNamespace(beta=SimpleNamespace(sessions=SimpleNamespace(events=Events())))
    meter = EgressMeter()
    meter.observe(call("sevt_1", "add", a=1))
    meter.observe(call("sevt_2", "add", a=2))
    h = ActionHandler([add], meter=meter)
    with pytest.raises(ConnectionError):
        h.respond(client, "sesn_1", [call("sevt_1", "add", a=1)])
    (answer,) = h.respond(client, "sesn_1", [call("sevt_1", "add", a=1)])
    idle = {"type": "session.status_idle", "stop_reason": {"type": "requires_action", "event_ids": ["sevt_2"]}}
    assert requires_action_hook(h, client, "sesn_1")(idle) is True
    (row,) = meter.rows()
    assert [(t.name, t.count) for t in row.tools] == [("add", 3)]  # the failed attempt too
    assert row.tool_bytes == 3 * event_bytes(answer) and row.sends == 3 and len(sent) == 2
    looped = []
    h2 = ActionHandler([add], meter=meter)
    requires_action_hook(h2, client, "sesn_1", send=looped.append)(idle)
    assert len(looped) == 1 and len(sent) == 2 and meter.rows()[-1].sends == 3  # the loop's send counts it


def test_unowned_calls_are_left_alone():
    h = ActionHandler([add])
    other = call("sevt_2", "someone_elses")
    builtin_ask = ask("sevt_3")
    assert h.resolve([other, builtin_ask]) == []
    assert h.unowned([call("sevt_1", "add"), other, builtin_ask]) == [other, builtin_ask]


def test_confirmation_allow_and_deny_with_message():
    prompter = FakePrompter(Decision(allow=True), Decision(allow=False, message="not on prod"))
    h = ActionHandler([], prompter=prompter, approval_timeout=9)
    out = h.resolve([ask("sevt_1", command="ls"), ask("sevt_2", command="rm -rf /")])
    assert out == [
        {"type": "user.tool_confirmation", "tool_use_id": "sevt_1", "result": "allow"},
        {
            "type": "user.tool_confirmation",
            "tool_use_id": "sevt_2",
            "result": "deny",
            "deny_message": "not on prod",
        },
    ]
    request, timeout = prompter.requests[0]
    assert request.name == "bash" and request.input == {"command": "ls"} and request.reason == "high_risk"
    assert timeout == 9
    assert "bash (high_risk)" in request.summary() and '"command": "ls"' in request.summary()


def test_allowed_calls_are_not_asked_and_broken_prompter_denies():
    class Broken:
        def ask(self, request, timeout):
            raise RuntimeError("no frontend")

    h = ActionHandler([], prompter=Broken())
    allowed = dict(ask("sevt_1"), evaluated_permission="allow")
    assert not h.owns(allowed)
    [p] = h.resolve([ask("sevt_2")])
    assert p["result"] == "deny" and "RuntimeError" in p["deny_message"]


def test_parse_answer():
    assert parse_answer("y") == Decision(allow=True)
    assert parse_answer(" Allow ") == Decision(allow=True)
    assert parse_answer("") == Decision(allow=False)
    assert parse_answer("n: too risky") == Decision(allow=False, message="too risky")
    assert parse_answer("use the staging db") == Decision(allow=False, message="use the staging db")


def test_stdin_prompter_allow_deny_and_timeout():
    shown = []
    req = ConfirmationRequest("sevt_1", "write", {"file_path": "/x"})
    assert StdinPrompter(lambda prompt: "yes", shown.append).ask(req, 5) == Decision(allow=True)
    assert StdinPrompter(lambda prompt: "no thanks", shown.append).ask(req, 5).message == "no thanks"
    assert shown[0].startswith("The agent wants to run write")

    gate = threading.Event()
    slow = StdinPrompter(lambda prompt: gate.wait(5) and "y", shown.append)
    decision = slow.ask(req, 0.1)
    gate.set()
    assert decision.allow is False and decision.timed_out and "No answer within" in decision.message

    def eof(prompt):
        raise EOFError

    assert StdinPrompter(eof, shown.append).ask(req, 1).allow is False


def _click_when_shown(prompter, act):
    def worker():
        for _ in range(200):
            if prompter.rows:
                row = next(iter(prompter.rows.values()))
                act(row)
                return
            time.sleep(0.01)

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    return t


def test_button_prompter_allow_and_deny_from_another_thread():
    p = ButtonPrompter()
    req = ConfirmationRequest("sevt_1", "bash", {"command": "ls"})
    t = _click_when_shown(p, lambda row: row.allow_button.click())
    assert p.ask(req, 5) == Decision(allow=True)
    t.join(1)
    assert p.widget.children == ()

    def deny(row):
        row.message_text.value = "use read instead"
        row.deny_button.click()

    t = _click_when_shown(p, deny)
    assert p.ask(req, 5) == Decision(allow=False, message="use read instead")
    t.join(1)


def test_button_prompter_times_out_to_deny():
    p = ButtonPrompter()
    decision = p.ask(ConfirmationRequest("sevt_1", "bash", {}), 0.05)
    assert decision.allow is False and decision.timed_out
    assert p.widget.children == () and p.rows == {}


def test_unanswered_is_the_stop_rule_for_reemitted_idles():
    h = ActionHandler([add])
    a, b, other = call("sevt_a", "add", a=1), call("sevt_b", "add", a=2), call("sevt_c", "not_ours")
    assert h.unanswered([a, b, other]) == [a, b, other]
    h.resolve([a, b, other])
    # a re-emitted idle naming b only: nothing to send, but nothing to wait for either
    assert h.resolve([b]) == [] and h.unanswered([b]) == []
    assert h.unanswered([a, b, other]) == [other]
    answered_elsewhere = [{"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_c"}]
    assert h.unanswered([other], answered_elsewhere) == []


def test_handlers_sharing_a_ledger_never_rerun_a_call():
    from nb_agents.tools.handler import Ledger

    ledger = Ledger(max_results=1)
    first, later = ActionHandler([add], ledger=ledger), ActionHandler([add], ledger=ledger)
    first.resolve([call("sevt_1", "add", a=1), call("sevt_2", "add", a=2)])
    assert (
        later.resolve([call("sevt_1", "add", a=1)]) == [] and later.unanswered([call("sevt_2", "add")]) == []
    )
    assert later.executions["add"] == 0 and list(ledger.results) == ["sevt_2"]  # trimmed, still delivered
    assert ActionHandler([add]).resolve([call("sevt_1", "add", a=1)]) != []  # a private ledger knows nothing
