"""The runtime through the real server and the unmodified `anthropic` client."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from runtime_kit import validate_event

from nb_agents.emulator.handle import Emulator

CSV = b"city,temp,rain\nParis,12.5,0.2\nOslo,-3,\nLima,19.25,0.0\nCairo,30,0\n"
WEATHER = {"type": "custom", "name": "get_weather", "description": "Current weather for a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture(scope="module")
def emu():
    with Emulator(brain="analyst") as emulator:
        yield emulator


def _setup(client, tools):
    agent = client.beta.agents.create(name="nb", model="claude-sonnet-4-6", tools=tools)
    env = client.beta.environments.create(name="nb-env", config={"type": "cloud", "networking": {"type": "unrestricted"}})
    return agent, env


def test_walkthrough_stream_fold_outputs_and_profile(emu):
    from anthropic.lib.sessions import accumulate_managed_agents_event

    client = emu.client(max_retries=0)
    agent, env = _setup(client, [{"type": "agent_toolset_20260401"}])
    upload = client.beta.files.upload(file=("weather.csv", CSV, "text/csv"))
    session = client.beta.sessions.create(agent=agent.id, environment_id=env.id,
                                          resources=[{"type": "file", "file_id": upload.id, "mount_path": "/weather.csv"}])
    [resource] = session.resources
    assert resource.mount_path == "/mnt/session/uploads/weather.csv" and resource.file_id != upload.id
    snapshots, finals, seen = {}, {}, []
    with client.beta.sessions.events.stream(session.id, event_deltas=["agent.message", "agent.thinking"]) as stream:
        client.beta.sessions.events.send(session.id, events=[
            {"type": "user.message", "content": [{"type": "text", "text": f"Profile {resource.mount_path}"}]}])
        for event in stream:
            raw = event.model_dump(mode="json", exclude_unset=True)
            validate_event(raw)
            seen.append(event.type)
            if event.type == "event_delta" or (event.type == "event_start" and event.event.type == "agent.message"):
                key = event.event_id if event.type == "event_delta" else event.event.id
                snapshots[key] = accumulate_managed_agents_event(snapshots.get(key), event)
            if event.type == "agent.message":
                finals[event.id] = event
            if event.type == "session.status_idle":
                break
    assert seen[:3] == ["session.status_running", "session.thread_status_running", "user.message"]
    assert finals and all(snapshots[i].content == finals[i].content for i in finals)
    listed = list(client.beta.sessions.events.list(session.id))
    assert [e.type for e in listed] == [t for t in seen if t not in ("event_start", "event_delta")]
    files = client.beta.files.list(scope_id=session.id, betas=["managed-agents-2026-04-01"]).data
    by_name = {f.filename: f for f in files}
    assert by_name["weather.csv"].downloadable is False
    profile = pd.read_csv(io.BytesIO(client.beta.files.download(by_name["weather_profile.csv"].id).read()))
    df = pd.read_csv(io.BytesIO(CSV))
    for _, row in profile.iterrows():
        col = df[row["name"]]
        assert row["count"] == col.count() and row["nulls"] == col.isna().sum()
        if col.dtype.kind in "if":
            assert row["mean"] == pytest.approx(col.mean()) and row["std"] == pytest.approx(col.std())
            assert row["min"] == pytest.approx(col.min()) and row["max"] == pytest.approx(col.max())
    assert client.beta.files.download(by_name["weather_hist.png"].id).read().startswith(b"\x89PNG")
    retrieved = client.beta.sessions.retrieve(session.id)
    assert retrieved.status == "idle" and int(retrieved.usage.list_cost.amount) >= 0
    assert retrieved.usage.output_tokens > 0 and retrieved.stats.active_seconds > 0


@pytest.mark.anyio
async def test_sdk_tool_runner_answers_a_custom_tool_end_to_end(emu):
    from anthropic.lib.tools import beta_async_tool

    @beta_async_tool
    async def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"{city}: 21C and sunny"

    client = emu.async_client(max_retries=0)
    agent = await client.beta.agents.create(name="nb", model="claude-haiku-4-5",
                                            tools=[{"type": "agent_toolset_20260401"}, WEATHER],
                                            metadata={"emulator_brain": "scenario:custom_tool"})
    env = await client.beta.environments.create(name="nb-env2", config={"type": "cloud"})
    session = await client.beta.sessions.create(agent=agent.id, environment_id=env.id)
    runner = client.beta.sessions.events.tool_runner(session.id, tools=[get_weather], max_idle=0.5)
    await client.beta.sessions.events.send(session.id, events=[
        {"type": "user.message", "content": [{"type": "text", "text": "weather?"}]}])
    calls = [call async for call in runner]
    assert [(c.name, c.posted, c.is_error) for c in calls] == [("get_weather", True, False)]
    events = [e async for e in client.beta.sessions.events.list(session.id)]
    [result] = [e for e in events if e.type == "user.custom_tool_result"]
    assert result.content[0].text == "Paris: 21C and sunny"
    assert events[-1].type == "session.status_idle" and events[-1].stop_reason.type == "end_turn"
    await client.close()
