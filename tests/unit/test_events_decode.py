"""`event_from_json` builds exactly what the SDK's own stream decoder builds, through public API only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from nb_agents.events import event_from_json, event_to_json

ODD = [
    {"type": "agent.future_thing", "foo": 1},  # unknown type: the first union member, type kept
    {"type": "agent.message"},  # required fields missing
    {"type": "agent.tool_use", "input": {"a": [1, {"b": 2}]}},
    {},
    {"type": 5},
    {
        "type": "session.status_idle",
        "id": "sevt_1",
        "processed_at": "2026-01-01T00:00:00Z",
        "stop_reason": {"type": "requires_action", "event_ids": ["sevt_0"]},
        "stop_details": None,
    },
    {
        "type": "agent.message",
        "id": "sevt_2",
        "processed_at": "2026-01-01T00:00:00Z",
        "content": [{"type": "text", "text": "hi"}],
    },
]


def _scenario_events(emulator: Any, client: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    env = client.beta.environments.create(name="decode-env")
    for name in ("tools", "threads", "kitchen_sink", "refusal", "outcome", "custom_tool", "retry"):
        agent = client.beta.agents.create(
            name=f"decode-{name}",
            model="claude-sonnet-4-6",
            metadata={"emulator_brain": f"scenario:{name}"},
            tools=[
                {"type": "agent_toolset_20260401"},
                {"type": "custom", "name": "lookup", "description": "d", "input_schema": {"type": "object"}},
            ],
        )
        sid = client.beta.sessions.create(agent=agent.id, environment_id=env.id).id
        events_api = client.beta.sessions.events
        with events_api.with_streaming_response.stream(
            sid, event_deltas=["agent.message", "agent.thinking"]
        ) as stream:
            events_api.send(
                sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "go"}]}]
            )
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if events[-1]["type"] in ("session.status_idle", "session.status_terminated"):
                        break
    return events


def test_decoding_matches_the_sdks_own_decoder(emulator: Any, client: Any) -> None:
    try:
        from anthropic._models import construct_type  # private: only to compare against
        from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents
    except ImportError:  # pragma: no cover - a future SDK without it
        pytest.skip("this SDK has no anthropic._models.construct_type to compare with")
    samples = ODD + _scenario_events(emulator, client)
    assert len({e.get("type") for e in samples}) > 20
    for value in samples:
        ours = event_from_json(value)
        sdk = construct_type(type_=BetaManagedAgentsStreamSessionEvents, value=value)
        assert type(ours) is type(sdk), value
        assert ours.model_dump() == sdk.model_dump(), value
        assert event_to_json(ours) == event_to_json(sdk), value


def test_unknown_types_keep_their_string() -> None:
    event = event_from_json({"type": "agent.future_thing", "foo": 1})
    assert event.type == "agent.future_thing" and event_to_json(event)["foo"] == 1


def test_nb_agents_imports_no_private_sdk_module() -> None:
    """A new SDK release may move or drop its private modules (`anthropic._models`,
    `anthropic.lib.tools._beta_functions`): nb_agents must not import them."""
    private = re.compile(r"^\s*(from|import)\s+anthropic(\.\w+)*\._\w+", re.MULTILINE)
    root = Path(__file__).resolve().parents[2] / "nb_agents"
    found = [str(p.relative_to(root)) for p in root.rglob("*.py") if private.search(p.read_text())]
    assert found == []
