"""Interrupts, budgets, errors, refusal, termination and outcomes (event-sequences §5-8)."""

from __future__ import annotations

import asyncio

import pytest
from runtime_kit import make_agent, make_runtime, text_message, types, validate_event, wait_event, wait_idle

from nb_agents.emulator.common import ApiError

pytestmark = pytest.mark.anyio

INTERRUPT = {"type": "user.interrupt"}


async def test_interrupt_during_generation_drops_the_message(tmp_path):
    rt = make_runtime(tmp_path, brain="echo", turn_delay=5)
    await rt.send([text_message("never finished")])
    await wait_event(rt, "span.model_request_start")
    [echo] = await rt.send([INTERRUPT])
    assert echo["processed_at"] is None
    idle = await wait_idle(rt, timeout=3)
    assert idle["stop_reason"] == {"type": "end_turn"}
    assert types(rt.events)[3:] == ["span.model_request_start", "span.model_request_end", "user.interrupt",
                                    "session.thread_status_idle", "session.usage", "session.status_idle"]
    assert rt.events[4]["is_error"] is True
    assert rt.events[5]["id"] == echo["id"] and rt.events[5]["processed_at"]
    for event in rt.events:
        validate_event(event)
    await rt.close("deleted")


async def test_interrupt_waits_for_a_running_tool(tmp_path):
    rt = make_runtime(tmp_path, scenarios={"sleepy": {"steps": [
        {"tool": "bash", "input": {"command": "sleep 0.4; echo woke"}}, {"say": "never said"}]}})
    await rt.send([text_message("[[emulator: scenario sleepy]]")])
    await wait_event(rt, "span.model_request_end")
    await rt.send([INTERRUPT])
    await wait_idle(rt, timeout=5)
    seq = types(rt.events)
    assert seq.index("agent.tool_result") < seq.index("user.interrupt")
    assert [e for e in rt.events if e["type"] == "agent.tool_result"][0]["content"][0]["text"] == "woke"
    assert "agent.message" not in seq
    await rt.close("deleted")


async def test_interrupt_then_message_starts_the_next_turn(tmp_path):
    rt = make_runtime(tmp_path, scenarios={"slow": {"steps": [{"say": "a"}, {"delay": 10}, {"say": "b"}]}})
    await rt.send([text_message("[[emulator: scenario slow]]")])
    await wait_event(rt, "agent.message")
    await rt.send([INTERRUPT, text_message("[[emulator: echo]]\nnext")])
    first = await wait_idle(rt, timeout=3)
    mark = rt.events.index(first) + 1
    second = await wait_idle(rt, after=mark, timeout=5)
    assert second["stop_reason"]["type"] == "end_turn"
    assert types(rt.events)[mark : mark + 3] == ["session.status_running", "session.thread_status_running",
                                                 "user.message"]
    assert [e for e in rt.events if e["type"] == "agent.message"][-1]["content"][0]["text"] == "next"
    await rt.close("deleted")


async def test_interrupt_at_requires_action_errors_the_pending_ask(tmp_path):
    rt = make_runtime(tmp_path)
    await rt.send([text_message("[[emulator: scenario confirm]]")])
    idle = await wait_idle(rt, any_idle=True)
    mark = len(rt.events)
    await rt.send([INTERRUPT])
    final = await wait_idle(rt, after=mark, timeout=3)
    assert final["stop_reason"] == {"type": "end_turn"}
    assert types(rt.events)[mark:] == ["agent.tool_result", "user.interrupt", "session.thread_status_idle",
                                       "session.usage", "session.status_idle"]
    result = rt.events[mark]
    assert result["tool_use_id"] == idle["stop_reason"]["event_ids"][0] and result["is_error"] is True
    assert "span.model_request_start" not in types(rt.events)[mark:]
    await rt.close("deleted")


async def test_interrupt_to_an_idle_session_does_nothing(tmp_path):
    rt = make_runtime(tmp_path, brain="echo")
    [echo] = await rt.send([INTERRUPT])
    assert echo["type"] == "user.interrupt"
    await asyncio.sleep(0.05)
    assert rt.events == []
    await rt.close("deleted")


async def test_budget_reached_refuses_messages_until_raised(tmp_path):
    budget = {"type": "limit", "max_list_cost": {"amount": "1", "currency": "USD"}}
    rt = make_runtime(tmp_path, brain="echo", budget=budget)
    await rt.send([text_message("x" * 6000)])  # the first request runs to completion and crosses one cent
    first = await wait_idle(rt)
    assert first["stop_reason"] == {"type": "end_turn"}
    await rt.send([text_message("again")])
    idle = await wait_idle(rt, after=rt.events.index(first) + 1)
    assert idle["stop_reason"] == {"type": "budget_reached"}
    usage = rt.events[-2]
    assert usage["type"] == "session.usage" and usage["budget"] == budget
    assert int(usage["usage"]["list_cost"]["amount"]) >= 1
    assert types(rt.events).count("span.model_request_start") == 1
    with pytest.raises(ApiError, match="user.tool_confirmation"):
        await rt.send([text_message("more")])
    [echo] = await rt.send([INTERRUPT])  # accepted, ignored, never persisted
    assert "user.interrupt" not in types(rt.events)
    mark = len(rt.events)
    rt.session["budget"] = None
    await rt.on_session_updated({"budget": None})
    final = await wait_idle(rt, after=mark)
    assert final["stop_reason"] == {"type": "end_turn"}
    assert types(rt.events)[mark : mark + 3] == ["session.updated", "session.status_running",
                                                 "session.thread_status_running"]
    assert [e["content"][0]["text"] for e in rt.events if e["type"] == "agent.message"][-1] == "again"
    for event in rt.events:
        validate_event(event)
    await rt.close("deleted")


async def test_retrying_error_reschedules_then_recovers(tmp_path):
    rt = make_runtime(tmp_path)
    statuses = []
    await rt.send([text_message("[[emulator: scenario retry]]")])
    while not rt.events or rt.events[-1]["type"] != "session.status_idle":
        statuses.append(rt.session["status"])
        await asyncio.sleep(0.005)
    seq = types(rt.events)
    i = seq.index("session.error")
    assert seq[i - 1 : i + 3] == ["span.model_request_end", "session.error", "session.status_rescheduled",
                                  "session.status_running"]
    error = rt.events[i]["error"]
    assert error["type"] == "model_overloaded_error" and error["retry_status"] == {"type": "retrying"}
    assert rt.events[i - 1]["is_error"] is True
    assert "rescheduling" in statuses
    assert rt.events[-1]["stop_reason"] == {"type": "end_turn"}
    await rt.close("deleted")


async def test_exhausted_error_idles_with_retries_exhausted_and_flushes_the_queue(tmp_path):
    rt = make_runtime(tmp_path, turn_delay=0.1)
    await rt.send([text_message("[[emulator: scenario exhausted]]")])
    await rt.send([text_message("queued and flushed")])
    idle = await wait_idle(rt)
    assert idle["stop_reason"] == {"type": "retries_exhausted"}
    errors = [e["error"]["retry_status"]["type"] for e in rt.events if e["type"] == "session.error"]
    assert errors == ["retrying", "exhausted"]
    await asyncio.sleep(0.05)
    assert rt.events[-1] is idle and rt.inbox == []
    await rt.close("deleted")


async def test_terminal_error_terminates(tmp_path):
    rt = make_runtime(tmp_path)
    await rt.send([text_message("[[emulator: scenario terminal]]")])
    await wait_event(rt, "session.status_terminated")
    assert types(rt.events)[-2:] == ["session.error", "session.status_terminated"]
    assert rt.session["status"] == "terminated"
    with pytest.raises(ApiError):
        await rt.send([text_message("hello?")])
    await rt.close("archived")


async def test_refusal_idles_with_stop_details(tmp_path):
    rt = make_runtime(tmp_path)
    await rt.send([text_message("[[emulator: scenario refusal]]")])
    idle = await wait_idle(rt)
    details = {"type": "refusal", "category": "cyber", "explanation": "The emulated model declined (scenario)."}
    assert idle["stop_reason"] == {"type": "refusal"} and idle["stop_details"] == details
    assert rt.events[-3]["stop_details"] == details
    assert "agent.message" not in types(rt.events)
    for event in rt.events:
        validate_event(event)
    await rt.close("deleted")


async def test_define_outcome_runs_and_is_graded(tmp_path):
    rt = make_runtime(tmp_path, agent=make_agent(metadata={"emulator_brain": "scenario:outcome"}))
    [echo] = await rt.send([{"type": "user.define_outcome", "description": "Write a draft with a summary.",
                             "rubric": {"type": "text", "content": "Has a summary."}}])
    assert echo["processed_at"] and echo["outcome_id"].startswith("outc_") and echo["max_iterations"] == 3
    with pytest.raises(ApiError, match="already active"):
        await rt.send([{"type": "user.define_outcome", "description": "x", "rubric": {"type": "text", "content": "y"}}])
    await wait_idle(rt)
    seq = types(rt.events)
    assert seq[:3] == ["session.status_running", "session.thread_status_running", "user.define_outcome"]
    ends = [e for e in rt.events if e["type"] == "span.outcome_evaluation_end"]
    assert [(e["iteration"], e["result"]) for e in ends] == [(0, "needs_revision"), (1, "satisfied")]
    starts = [e for e in rt.events if e["type"] == "span.outcome_evaluation_start"]
    assert [e["outcome_evaluation_start_id"] for e in ends] == [s["id"] for s in starts]
    [record] = rt.session["outcome_evaluations"]
    assert record["outcome_id"] == echo["outcome_id"] and record["result"] == "satisfied"
    assert record["iteration"] == 1 and record["completed_at"]
    for event in rt.events:
        validate_event(event)
    await rt.close("deleted")


async def test_interrupt_ends_an_active_outcome(tmp_path):
    rt = make_runtime(tmp_path, agent=make_agent(metadata={"emulator_brain": "scenario:slow"}))
    await rt.send([{"type": "user.define_outcome", "description": "A long job.",
                    "rubric": {"type": "text", "content": "Done."}}])
    await wait_event(rt, "agent.message")
    await rt.send([INTERRUPT])
    await wait_idle(rt, timeout=3)
    [end] = [e for e in rt.events if e["type"] == "span.outcome_evaluation_end"]
    assert end["result"] == "interrupted" and end["outcome_evaluation_start_id"] == ""
    assert rt.session["outcome_evaluations"][0]["result"] == "interrupted"
    await rt.close("deleted")


async def test_a_crashing_brain_ends_the_turn_instead_of_hanging(tmp_path, caplog):
    rt = make_runtime(tmp_path, scenarios={"broken": [{"tools": "not a list of calls"}]})
    await rt.send([text_message("[[emulator: scenario broken]]")])
    idle = await wait_idle(rt, timeout=5)
    assert idle["stop_reason"] == {"type": "retries_exhausted"}
    [error] = [e for e in rt.events if e["type"] == "session.error"]
    assert error["error"]["type"] == "unknown_error" and error["error"]["retry_status"] == {"type": "exhausted"}
    assert "emulator turn failed" in caplog.text
    await rt.close("deleted")
