"""The plain turn of event-sequences.md §1 driven directly on a SessionRuntime."""

from __future__ import annotations

import re

import pytest
from runtime_kit import (
    answer_text,
    drain,
    make_runtime,
    text_message,
    types,
    validate_event,
    wait_event,
    wait_idle,
)

pytestmark = pytest.mark.anyio

PLAIN_TURN = [
    "session.status_running",
    "session.thread_status_running",
    "user.message",
    "span.model_request_start",
    "agent.message",
    "span.model_request_end",
    "session.thread_status_idle",
    "session.usage",
    "session.status_idle",
]


async def test_plain_turn_order_ids_and_strict_shapes(tmp_path):
    rt = make_runtime(tmp_path, brain="echo")
    echoes = await rt.send([text_message("hello emulator")])
    assert echoes[0]["processed_at"] is None and re.fullmatch(r"sevt_01[1-9A-HJ-NP-Za-km-z]{22}", echoes[0]["id"])
    idle = await wait_idle(rt)
    assert types(rt.events) == PLAIN_TURN
    assert idle["stop_reason"] == {"type": "end_turn"} and "stop_details" not in idle
    processed = [e for e in rt.events if e["type"] == "user.message"][0]
    assert processed["id"] == echoes[0]["id"] and processed["processed_at"]
    stamps = [e["processed_at"] for e in rt.events]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    for event in rt.events:
        validate_event(event)
    end = rt.events[5]
    assert end["model_request_start_id"] == rt.events[3]["id"] and end["is_error"] is False
    thread_idle = rt.events[6]
    assert thread_idle["session_thread_id"].startswith("sthr_") and thread_idle["agent_name"] == "analyst"
    assert answer_text(rt) == "hello emulator"
    assert rt.session["status"] == "idle"
    assert rt.store.stats["turns"] == 1 and rt.store.stats["model_requests"] == 1
    await rt.close("deleted")


async def test_deltas_only_to_opted_in_subscribers_and_fold_to_the_message(tmp_path):
    from anthropic.lib.sessions import accumulate_managed_agents_event

    from nb_agents.events import event_from_json

    rt = make_runtime(tmp_path, brain="echo")
    plain = rt.subscribe(frozenset())
    live = rt.subscribe(frozenset({"agent.message", "agent.thinking"}))
    text = "A fairly long answer that is streamed in several chunks, " * 4
    await rt.send([text_message("[[emulator: scenario hello]]")])
    await wait_idle(rt)
    await rt.send([text_message(text.strip())])
    await wait_idle(rt, after=len(PLAIN_TURN) + 1)
    plain_events, live_events = drain(plain), drain(live)
    assert not any(e["type"] in ("event_start", "event_delta") for e in plain_events)
    assert [e for e in live_events if "id" in e] == plain_events == rt.events
    starts = [e for e in live_events if e["type"] == "event_start"]
    assert {s["event"]["type"] for s in starts} == {"agent.thinking", "agent.message"}
    assert all("id" not in e for e in live_events if e["type"] in ("event_start", "event_delta"))
    snapshots: dict[str, object] = {}
    finals = {}
    for raw in live_events:
        validate_event(raw)
        event = event_from_json(raw)
        key = raw.get("event_id") or (raw.get("event") or {}).get("id") or raw.get("id")
        if raw["type"] in ("event_start", "event_delta", "agent.message") and (
            raw["type"] != "event_start" or raw["event"]["type"] == "agent.message"
        ):
            snapshots[key] = accumulate_managed_agents_event(snapshots.get(key), event)
            if raw["type"] == "event_delta":
                partial = snapshots[key].content[0].text
                final = next(e for e in rt.events if e["id"] == key)["content"][0]["text"]
                assert final.startswith(partial)
        if raw["type"] == "agent.message":
            finals[raw["id"]] = raw
    assert len(finals) == 2
    for message_id, final in finals.items():
        assert snapshots[message_id].model_dump(mode="json", exclude_unset=True)["content"] == final["content"]
    rt.unsubscribe(plain)
    await rt.close("deleted")


async def test_usage_is_cumulative_and_priced(tmp_path):
    from nb_agents.emulator.pricing import prices_for

    rt = make_runtime(tmp_path, brain="echo")
    await rt.send([text_message("one")])
    await wait_idle(rt)
    first = dict(rt.session["usage"])
    mark = len(rt.events)
    await rt.send([text_message("two " * 200)])
    await wait_idle(rt, after=mark)
    ends = [e["model_usage"] for e in rt.events if e["type"] == "span.model_request_end"]
    usage_events = [e for e in rt.events if e["type"] == "session.usage"]
    assert len(usage_events) == 2 and usage_events[-1]["budget"] is None
    total = usage_events[-1]["usage"]
    for key in ("input_tokens", "output_tokens", "cache_read_input_tokens"):
        assert total[key] == sum(u[key] for u in ends)
    assert total["cache_creation"]["ephemeral_5m_input_tokens"] == sum(u["cache_creation_input_tokens"] for u in ends)
    assert total["input_tokens"] > first["input_tokens"]
    p = prices_for("claude-sonnet-4-6")
    usd = (total["input_tokens"] * p.input + total["output_tokens"] * p.output
           + total["cache_read_input_tokens"] * p.cache_read
           + total["cache_creation"]["ephemeral_5m_input_tokens"] * p.cache_write) / 1e6
    usd += total["active_seconds"] * 0.08 / 3600
    assert total["list_cost"] == {"amount": str(round(usd * 100)), "currency": "USD"}
    assert rt.session["stats"]["active_seconds"] == total["active_seconds"] > 0
    await rt.close("deleted")


async def test_messages_sent_while_running_fold_into_the_same_turn(tmp_path):
    rt = make_runtime(tmp_path, brain="echo", turn_delay=0.3)
    watcher = rt.subscribe(frozenset())
    await rt.send([text_message("first")])
    await wait_event(rt, "span.model_request_start")
    [queued] = await rt.send([text_message("second")])
    assert queued["processed_at"] is None
    await wait_idle(rt)
    assert types(rt.events).count("session.status_running") == 1
    assert types(rt.events).count("session.status_idle") == 1
    messages = [e for e in rt.events if e["type"] == "user.message"]
    assert [m["content"][0]["text"] for m in messages] == ["first", "second"]
    answers = [e["content"][0]["text"] for e in rt.events if e["type"] == "agent.message"]
    assert answers == ["first", "second"]
    # the stream showed the queued copy (processed_at null) before the processed one
    seen = [(e["id"], e["processed_at"] is None) for e in drain(watcher) if e.get("id") == queued["id"]]
    assert seen == [(queued["id"], True), (queued["id"], False)]
    await rt.close("deleted")


async def test_close_deleted_ends_streams_and_removes_the_sandbox(tmp_path):
    rt = make_runtime(tmp_path, brain="echo")
    queue = rt.subscribe(frozenset())
    await rt.send([text_message("bye")])
    await wait_idle(rt)
    root = rt.sandbox.root
    assert root.exists()
    await rt.close("deleted")
    events = drain(queue)
    assert events[-2]["type"] == "session.deleted" and events[-1] is None
    assert not root.exists()


async def test_archive_terminates_and_later_sends_are_rejected(tmp_path):
    from nb_agents.emulator.common import ApiError

    rt = make_runtime(tmp_path, brain="echo")
    await rt.close("archived")
    assert rt.session["status"] == "terminated"
    with pytest.raises(ApiError) as err:
        await rt.send([text_message("hello?")])
    assert err.value.status == 400


async def test_active_seconds_grow_live_while_running(tmp_path):
    import asyncio

    rt = make_runtime(tmp_path, brain="echo", turn_delay=0.8)
    await rt.send([text_message("slow")])
    await asyncio.sleep(0.6)
    assert rt.session["status"] == "running"
    assert rt.session["usage"]["active_seconds"] >= 0.25
    assert rt.session["stats"]["active_seconds"] == rt.session["usage"]["active_seconds"]
    await wait_idle(rt)
    settled = rt.session["usage"]["active_seconds"]
    await asyncio.sleep(0.3)
    rt.refresh()
    assert rt.session["usage"]["active_seconds"] == settled  # idle time is not billed
    assert rt.session["stats"]["duration_seconds"] > settled
    await rt.close("deleted")
