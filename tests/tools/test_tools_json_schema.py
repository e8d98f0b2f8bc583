"""Custom tools whose input schema is a full JSON Schema ($defs, additionalProperties, enum,
descriptions): the emulator accepts and keeps it like the SDK allows (extra_items=object), and a
tool taking a pydantic model and a TypedDict argument is called and answered offline."""

from __future__ import annotations

import time
from typing import Literal

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from nb_agents.api import EventLoop
from nb_agents.emulator.validation import check, conforms
from nb_agents.tools import as_tool, requires_action_hook, tool, tool_setup

pytestmark = pytest.mark.timeout(60)

calls: list[dict] = []


class Address(BaseModel):
    city: str
    zip: str | None = None


class Options(TypedDict):
    speed: Literal["slow", "fast"]
    insured: bool


@tool
def ship(to: Address, options: Options, count: int = 1) -> dict:
    """Ship parcels to an address."""
    calls.append({"to": to.model_dump(), "options": dict(options), "count": count})
    return {"city": to.city, "speed": options["speed"], "count": count}


SCENARIOS = {
    "nested": [
        {
            "custom_tool": "ship",
            "input": {"to": {"city": "Lyon", "zip": "69001"}, "options": {"speed": "fast", "insured": True}},
        },
        {"say": "Shipped."},
    ]
}


@pytest.fixture(scope="module")
def emu():
    from nb_agents.emulator import Emulator

    with Emulator(brain="echo", scenarios=SCENARIOS) as emulator:
        yield emulator


def test_a_json_schema_passes_validation_and_the_sdk_strictness_stays():
    from anthropic.types.beta import BetaManagedAgentsCustomToolInputSchemaParam as SchemaParam
    from anthropic.types.beta.agent_create_params import AgentCreateParams
    from anthropic.types.beta.beta_managed_agents_custom_tool_input_schema import (
        BetaManagedAgentsCustomToolInputSchema as SchemaModel,
    )

    schema = as_tool(ship).definition()["input_schema"]
    assert {"$defs", "additionalProperties"} <= set(schema)
    schema["properties"]["count"]["enum"] = [1, 2]
    check(SchemaParam, schema)
    assert conforms(SchemaModel, schema) == []
    with pytest.raises(Exception, match=r"type: 'array' is not one of 'object'"):
        check(SchemaParam, {**schema, "type": "array"})
    with pytest.raises(Exception, match=r"^bogus: Extra inputs are not permitted"):
        check(AgentCreateParams, {"name": "a", "model": "claude-sonnet-4-6", "bogus": 1})


def test_the_agent_keeps_the_whole_schema(emu):
    client = emu.client(max_retries=0)
    definition = as_tool(ship).definition()
    agent = client.beta.agents.create(name="schema", model="claude-sonnet-4-6", tools=[definition])
    [stored] = client.beta.agents.retrieve(agent.id).tools
    dumped = stored.input_schema.model_dump(mode="json", exclude_none=True)
    assert dumped == definition["input_schema"]


def test_a_tool_with_model_and_typeddict_arguments_is_called_offline(emu):
    calls.clear()
    client = emu.client(max_retries=0)
    agent = client.beta.agents.create(
        name="ship", model="claude-sonnet-4-6", tools=[{"type": "agent_toolset_20260401"}]
    )
    env = client.beta.environments.create(name="ship-env", config={"type": "cloud"})
    setup = tool_setup(tools=[ship])
    sid = client.beta.sessions.create(environment_id=env.id, **setup.create_kwargs(agent.id)).id
    loop = EventLoop(
        client, sid, deltas=False, on_event=lambda e: None, sleep=lambda s: time.sleep(min(s, 0.05))
    )
    deadline = time.monotonic() + 20
    loop.on_requires_action = requires_action_hook(
        setup.handler, client, sid, send=loop.send, deadline=deadline
    )
    text = "[[emulator: scenario nested]]\ngo"
    final = loop.run(
        [{"type": "user.message", "content": [{"type": "text", "text": text}]}], deadline=deadline
    )
    assert final.stop_reason.type == "end_turn"
    assert calls == [
        {"to": {"city": "Lyon", "zip": "69001"}, "options": {"speed": "fast", "insured": True}, "count": 1}
    ]
    [result] = [
        e for e in client.beta.sessions.events.list(sid, limit=1000) if e.type == "user.custom_tool_result"
    ]
    assert result.is_error is False
    assert result.content[0].text == '{"city": "Lyon", "speed": "fast", "count": 1}'
