"""Built-in tools in the sandbox, outputs, custom tools and confirmations (event-sequences §2-4, §11)."""

from __future__ import annotations

import asyncio

import pytest
from runtime_kit import make_agent, make_runtime, text_message, types, validate_event, wait_event, wait_idle

from nb_agents.emulator.common import ApiError

pytestmark = pytest.mark.anyio

WEATHER = {"type": "custom", "name": "get_weather", "description": "Weather for a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def _scenario(steps):
    return {"steps": steps}


async def test_builtin_tools_really_run_and_results_follow_the_span_end(tmp_path):
    rt = make_runtime(tmp_path)
    await rt.send([text_message("[[emulator: scenario tools]]")])
    await wait_idle(rt)
    for event in rt.events:
        validate_event(event)
    seq = types(rt.events)
    first_use = seq.index("agent.tool_use")
    assert seq[first_use + 1 : first_use + 3] == ["span.model_request_end", "agent.tool_result"]
    uses = [e for e in rt.events if e["type"] == "agent.tool_use"]
    results = [e for e in rt.events if e["type"] == "agent.tool_result"]
    assert [r["tool_use_id"] for r in results] == [u["id"] for u in uses]
    assert all(u["evaluated_permission"] == "allow" and u["evaluation"] == {"type": "always_allow"} for u in uses)
    assert all(u["session_thread_id"] is None for u in uses)
    by_name = {u["name"]: r for u, r in zip(uses, results, strict=True)}
    assert "22 /mnt/session/outputs/report.md" in by_name["bash"]["content"][0]["text"]
    assert "revenue: 43" in by_name["read"]["content"][0]["text"]
    assert by_name["grep"]["content"][0]["text"] == "/mnt/session/outputs/report.md:3:revenue: 43"
    assert (rt.sandbox.host("/mnt/session/outputs/report.md").read_text()) == "# Report\n\nrevenue: 43\n"
    [out] = rt.store.files_for_scope(rt.sid)
    assert out["filename"] == "report.md" and out["downloadable"] is True
    assert out["scope"] == {"type": "session", "id": rt.sid}
    assert rt.store.file_bytes(out["id"]) == b"# Report\n\nrevenue: 43\n"  # re-indexed after the edit
    assert rt.store.stats["tool_executions"] == 6
    await rt.close("deleted")
    assert rt.store.files_for_scope(rt.sid) == []


async def test_mounted_inputs_are_read_only_and_listed_as_session_copies(tmp_path):
    rt = make_runtime(tmp_path, scenarios={"clobber": _scenario([
        {"tool": "write", "input": {"file_path": "/mnt/session/uploads/data.csv", "content": "x"}},
        {"tool": "bash", "input": {"command": "cat /mnt/session/uploads/data.csv"}}])})
    original = rt.store.add_file("data.csv", b"a,b\n1,2\n", "text/csv", downloadable=False)
    resource = await rt.mount_file(original, "/mnt/session/uploads/data.csv")
    assert resource["file_id"] != original["id"] and resource["id"].startswith("sesrsc_")
    [copy] = rt.store.files_for_scope(rt.sid)
    assert copy["id"] == resource["file_id"] and copy["downloadable"] is False
    await rt.send([text_message("[[emulator: scenario clobber]]")])
    await wait_idle(rt)
    write, cat = [e for e in rt.events if e["type"] == "agent.tool_result"]
    assert write["is_error"] is True and "read-only" in write["content"][0]["text"]
    assert cat["content"][0]["text"] == "a,b\n1,2"
    await rt.unmount(resource["id"])
    assert not rt.sandbox.host("/mnt/session/uploads/data.csv").exists()
    await rt.close("deleted")


async def test_hostile_output_names_are_flattened_and_escapes_stay_out(tmp_path):
    rt = make_runtime(tmp_path)
    await rt.send([text_message("[[emulator: scenario hostile_outputs]]")])
    await wait_idle(rt)
    names = sorted(f["filename"] for f in rt.store.files_for_scope(rt.sid))
    assert names == sorted([".hidden", "<img src=x onerror=alert(1)>.html", "child.txt",
                            "semi;colon && rm -rf ~.txt", "spaces and ünïcode ☃.md"])
    assert not (tmp_path / "escape.txt").exists()  # "../../../escape.txt" stays inside the sandbox
    await rt.close("deleted")


async def test_custom_tool_requires_action_then_resumes(tmp_path):
    rt = make_runtime(tmp_path, agent=make_agent([{"type": "agent_toolset_20260401"}, WEATHER]))
    await rt.send([text_message("[[emulator: scenario custom_tool]]")])
    idle = await wait_idle(rt, any_idle=True)
    [use] = [e for e in rt.events if e["type"] == "agent.custom_tool_use"]
    assert idle["stop_reason"] == {"type": "requires_action", "event_ids": [use["id"]]}
    assert types(rt.events)[-3:] == ["session.thread_status_idle", "session.usage", "session.status_idle"]
    assert use["input"] == {"city": "Paris"} and use["session_thread_id"] is None
    assert rt.session["status"] == "idle"
    with pytest.raises(ApiError):
        await rt.send([{"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_01nope",
                        "content": [{"type": "text", "text": "x"}]}])
    mark = len(rt.events)
    [echo] = await rt.send([{"type": "user.custom_tool_result", "custom_tool_use_id": use["id"],
                             "content": [{"type": "text", "text": "21C"}]}])
    assert echo["processed_at"] is not None and echo["session_thread_id"] is None
    final = await wait_idle(rt, after=mark)
    assert final["stop_reason"] == {"type": "end_turn"}
    assert types(rt.events)[mark : mark + 4] == ["user.custom_tool_result", "session.status_running",
                                                 "session.thread_status_running", "span.model_request_start"]
    for event in rt.events:
        validate_event(event)
    await rt.close("deleted")


async def test_partial_resolution_reemits_idle_with_the_rest(tmp_path):
    two = _scenario([{"tools": [{"custom_tool": "get_weather", "input": {"city": "A"}},
                                {"custom_tool": "get_weather", "input": {"city": "B"}}]},
                     {"say": "both answered"}])
    rt = make_runtime(tmp_path, agent=make_agent([WEATHER]), scenarios={"two": two})
    await rt.send([text_message("[[emulator: scenario two]]")])
    idle = await wait_idle(rt, any_idle=True)
    c1, c2 = idle["stop_reason"]["event_ids"]
    mark = len(rt.events)
    await rt.send([{"type": "user.custom_tool_result", "custom_tool_use_id": c1, "content": []}])
    assert types(rt.events)[mark:] == ["user.custom_tool_result", "session.thread_status_idle",
                                       "session.usage", "session.status_idle"]
    assert rt.events[-1]["stop_reason"] == {"type": "requires_action", "event_ids": [c2]}
    assert rt.session["status"] == "idle"
    await rt.send([{"type": "user.custom_tool_result", "custom_tool_use_id": c2, "content": []}])
    final = await wait_idle(rt, after=mark + 4)
    assert final["stop_reason"]["type"] == "end_turn"
    await rt.close("deleted")


async def test_confirmation_allow_runs_the_tool(tmp_path):
    rt = make_runtime(tmp_path)
    await rt.send([text_message("[[emulator: scenario confirm]]")])
    idle = await wait_idle(rt, any_idle=True)
    [use] = [e for e in rt.events if e["type"] == "agent.tool_use"]
    assert use["evaluated_permission"] == "ask" and use["evaluation"] == {"type": "always_ask"}
    assert idle["stop_reason"]["event_ids"] == [use["id"]]
    mark = len(rt.events)
    [echo] = await rt.send([{"type": "user.tool_confirmation", "tool_use_id": use["id"], "result": "allow"}])
    assert echo["processed_at"] is None and echo["deny_message"] is None
    await wait_idle(rt, after=mark)
    assert types(rt.events)[mark : mark + 4] == ["user.tool_confirmation", "session.status_running",
                                                 "session.thread_status_running", "agent.tool_result"]
    result = rt.events[mark + 3]
    assert result["is_error"] is False and result["content"][0]["text"] == "ran"
    assert [f["filename"] for f in rt.store.files_for_scope(rt.sid)] == ["confirmed.txt"]
    with pytest.raises(ApiError):  # already confirmed
        await rt.send([{"type": "user.tool_confirmation", "tool_use_id": use["id"], "result": "allow"}])
    await rt.close("deleted")


async def test_confirmation_deny_gives_the_synthetic_error_and_never_runs(tmp_path):
    rt = make_runtime(tmp_path)
    await rt.send([text_message("[[emulator: scenario confirm]]")])
    idle = await wait_idle(rt, any_idle=True)
    [tool_use_id] = idle["stop_reason"]["event_ids"]
    mark = len(rt.events)
    await rt.send([{"type": "user.tool_confirmation", "tool_use_id": tool_use_id, "result": "deny",
                    "deny_message": "not today"}])
    final = await wait_idle(rt, after=mark)
    assert final["stop_reason"]["type"] == "end_turn"
    [result] = [e for e in rt.events if e["type"] == "agent.tool_result"]
    assert result["is_error"] is True
    assert result["content"][0]["text"] == "Permission to use bash has been rejected. Rejection message: not today"
    assert rt.store.files_for_scope(rt.sid) == []
    await rt.close("deleted")


async def test_policies_from_the_toolset_config(tmp_path):
    agent = make_agent([{"type": "agent_toolset_20260401", "default_config": {"permission_policy": {"type": "auto"}},
                         "configs": [{"name": "grep", "enabled": False}]}])
    steps = [{"tool": "bash", "input": {"command": "echo fine"}},
             {"tool": "bash", "input": {"command": "sudo rm -rf /"}},
             {"tool": "grep", "input": {"pattern": "x"}},
             {"say": "done"}]
    rt = make_runtime(tmp_path, agent=agent, scenarios={"p": _scenario(steps)})
    await rt.send([text_message("[[emulator: scenario p]]")])
    idle = await wait_idle(rt)
    assert idle["stop_reason"]["type"] == "end_turn"
    uses = [e for e in rt.events if e["type"] == "agent.tool_use"]
    results = [e for e in rt.events if e["type"] == "agent.tool_result"]
    assert uses[0]["evaluation"] == {"type": "auto", "evaluated_permission": {"type": "allow"}}
    assert results[0]["content"][0]["text"] == "fine"
    assert uses[1]["evaluated_permission"] == "deny"
    assert uses[1]["evaluation"]["evaluated_permission"] == {"type": "deny", "reason_code": "high_risk"}
    assert results[1]["is_error"] is True
    assert uses[2]["evaluated_permission"] == "deny" and "evaluation" not in uses[2]
    assert results[2]["is_error"] is True and "not enabled" in results[2]["content"][0]["text"]
    for event in rt.events:
        validate_event(event)
    await rt.close("deleted")


async def test_self_hosted_builtins_wait_for_user_tool_result(tmp_path):
    rt = make_runtime(tmp_path, env_type="self_hosted", scenarios={"sh": _scenario([
        {"tool": "bash", "input": {"command": "echo hi"}}, {"say": "got it"}])})
    await rt.send([text_message("[[emulator: scenario sh]]")])
    use = await wait_event(rt, "agent.tool_use")
    await asyncio.sleep(0.05)
    assert rt.session["status"] == "running" and "agent.tool_result" not in types(rt.events)
    await rt.send([{"type": "user.tool_result", "tool_use_id": use["id"],
                    "content": [{"type": "text", "text": "hi"}]}])
    await wait_idle(rt)
    assert "agent.tool_result" not in types(rt.events)
    assert rt.store.stats["tool_executions"] == 0
    await rt.close("deleted")


async def test_user_tool_result_is_rejected_on_cloud(tmp_path):
    rt = make_runtime(tmp_path)
    with pytest.raises(ApiError, match="self_hosted"):
        await rt.send([{"type": "user.tool_result", "tool_use_id": "sevt_01x", "content": []}])
    await rt.close("deleted")


async def test_message_sent_at_requires_action_waits_for_the_answer(tmp_path):
    rt = make_runtime(tmp_path, agent=make_agent([WEATHER]))
    await rt.send([text_message("[[emulator: scenario custom_tool]]")])
    idle = await wait_idle(rt, any_idle=True)
    [queued] = await rt.send([text_message("[[emulator: echo]]\nand then?")])
    assert queued["processed_at"] is None
    await asyncio.sleep(0.05)
    assert rt.session["status"] == "idle" and queued["id"] not in [e["id"] for e in rt.events]
    mark = len(rt.events)
    await rt.send([{"type": "user.custom_tool_result", "custom_tool_use_id": idle["stop_reason"]["event_ids"][0],
                    "content": [{"type": "text", "text": "sunny"}]}])
    await wait_idle(rt, after=mark)
    answers = [e["content"][0]["text"] for e in rt.events[mark:] if e["type"] == "agent.message"]
    assert answers == ["Thanks, I have the weather now.", "and then?"]
    assert types(rt.events)[mark:].count("session.status_running") == 1
    await rt.close("deleted")


async def test_session_update_of_agent_tools_changes_later_permissions(tmp_path):
    steps = [{"tool": "bash", "input": {"command": "echo one"}}, {"say": "done"}]
    rt = make_runtime(tmp_path, brain="scenario:twice", scenarios={"twice": {"turns": [steps, steps]}})
    await rt.send([text_message("go")])
    await wait_idle(rt)
    assert [e["evaluated_permission"] for e in rt.events if e["type"] == "agent.tool_use"] == ["allow"]
    new_agent = make_agent([{"type": "agent_toolset_20260401",
                             "default_config": {"permission_policy": {"type": "always_ask"}}}])
    rt.session["agent"] = new_agent
    await rt.on_session_updated({"agent": new_agent})
    assert rt.events[-1]["type"] == "session.updated" and rt.events[-1]["agent"] == new_agent
    validate_event(rt.events[-1])
    mark = len(rt.events)
    await rt.send([text_message("again")])
    idle = await wait_idle(rt, after=mark, any_idle=True)
    assert idle["stop_reason"]["type"] == "requires_action"
    [use] = [e for e in rt.events[mark:] if e["type"] == "agent.tool_use"]
    assert use["evaluated_permission"] == "ask" and idle["stop_reason"]["event_ids"] == [use["id"]]
    await rt.close("deleted")
