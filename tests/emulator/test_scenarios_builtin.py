"""Every built-in scenario runs to a final state with strictly valid events; scenario loading."""

from __future__ import annotations

import json

import pytest
from runtime_kit import answer_text, make_agent, make_runtime, text_message, types, validate_event, wait_idle

from nb_agents.emulator.brains import load_scenario
from nb_agents.emulator.brains.scenario import STEP_KINDS, ScenarioError, builtin_scenarios
from nb_agents.emulator.common import EmulatorConfig

pytestmark = pytest.mark.anyio

WEATHER = {"type": "custom", "name": "get_weather", "description": "Weather.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
EXPECTED_END = {"refusal": "refusal", "exhausted": "retries_exhausted"}


async def _run_answering(rt, text):
    """Send text; answer every requires_action (custom results, allow) until a final state."""
    await rt.send([text_message(text)])
    mark = 0
    while True:
        idle = await wait_idle(rt, after=mark, any_idle=True)
        mark = rt.events.index(idle) + 1
        if idle.get("stop_reason", {}).get("type") != "requires_action":
            return idle
        for call_id in idle["stop_reason"]["event_ids"]:
            if rt.calls[call_id].kind == "custom":
                await rt.send([{"type": "user.custom_tool_result", "custom_tool_use_id": call_id,
                                "content": [{"type": "text", "text": "ok"}]}])
            else:
                await rt.send([{"type": "user.tool_confirmation", "tool_use_id": call_id, "result": "allow"}])


@pytest.mark.parametrize("name", [n for n in builtin_scenarios() if n != "slow"])
async def test_builtin_scenario_runs_with_valid_events(tmp_path, name):
    rt = make_runtime(tmp_path, agent=make_agent([{"type": "agent_toolset_20260401"}, WEATHER]))
    final = await _run_answering(rt, f"[[emulator: scenario {name}]]")
    for event in rt.events:
        validate_event(event)
    if name in ("terminal", "terminate"):
        assert final["type"] == "session.status_terminated"
    else:
        assert final["stop_reason"]["type"] == EXPECTED_END.get(name, "end_turn")
    await rt.close("deleted")


def test_builtin_scenarios_cover_every_step_kind():
    used = set()
    for name in builtin_scenarios():
        for turn in load_scenario(name)["turns"]:
            for step in turn:
                used |= set(step) & set(STEP_KINDS)
    assert used == set(STEP_KINDS)


async def test_kitchen_sink_emits_the_rarer_event_types(tmp_path):
    rt = make_runtime(tmp_path)
    await _run_answering(rt, "[[emulator: scenario kitchen_sink]]")
    seq = set(types(rt.events))
    assert {"agent.thread_context_compacted", "agent.mcp_tool_use", "agent.mcp_tool_result",
            "session.error", "session.status_rescheduled"} <= seq
    errors = [e["error"] for e in rt.events if e["type"] == "session.error"]
    assert errors[0]["repository_url"] == "https://github.com/example/repo"
    assert errors[1]["mcp_server_name"] == "example-mcp"
    await rt.close("deleted")


async def test_multi_turn_scenario_advances_per_turn(tmp_path):
    rt = make_runtime(tmp_path, brain="scenario:multi_turn")
    for expected in ("Turn one.", "Turn two done.", "(scenario multi_turn has no more turns)"):
        mark = len(rt.events)
        await rt.send([text_message("next")])
        await wait_idle(rt, after=mark)
        assert answer_text(rt) == expected
    assert [f["filename"] for f in rt.store.files_for_scope(rt.sid)] == ["turn2.txt"]
    await rt.close("deleted")


def test_scenarios_load_from_config_dirs_and_paths(tmp_path):
    (tmp_path / "mine.json").write_text(json.dumps({"name": "mine", "steps": [{"say": "from a dir"}]}))
    config = EmulatorConfig(scenarios={"inline": [{"say": "registered"}]}, scenario_dirs=[tmp_path])
    assert load_scenario("inline", config)["turns"] == [[{"say": "registered"}]]
    assert load_scenario("mine", config)["turns"] == [[{"say": "from a dir"}]]
    assert load_scenario(str(tmp_path / "mine.json"))["name"] == "mine"
    assert load_scenario("hello")["turns"][0][0]["think"] is True


def test_malformed_scenarios_are_rejected_with_a_clear_message(tmp_path):
    config = EmulatorConfig(scenarios={"bad": [{"sing": "la"}], "worse": "text"})
    with pytest.raises(ScenarioError, match="no step kind in \\['sing'\\]"):
        load_scenario("bad", config)
    with pytest.raises(ScenarioError, match="must be an object"):
        load_scenario("worse", config)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario("broken", EmulatorConfig(scenario_dirs=[tmp_path]))
