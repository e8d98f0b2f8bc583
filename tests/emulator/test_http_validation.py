"""The strict checkers: request bodies against the SDK's param TypedDicts, wire JSON against its models."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types.beta import (
    BetaFileMetadata,
    agent_create_params,
    agent_update_params,
    environment_create_params,
)
from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents, event_send_params

from nb_agents.emulator.common import ApiError
from nb_agents.emulator.validation import conforms, validate_body


def _error(params: Any, body: Any) -> str:
    with pytest.raises(ApiError) as exc:
        validate_body(params, body)
    assert exc.value.status == 400
    return exc.value.message


def test_nested_iterables_are_checked_eagerly() -> None:
    # pydantic validates Iterable[...] lazily; ours must not let a bad tool config through
    body = {
        "name": "x",
        "model": "m",
        "tools": [{"type": "agent_toolset_20260401", "configs": [{"name": "bashx"}]}],
    }
    assert _error(agent_create_params.AgentCreateParams, body).startswith(
        "tools.0.configs.0.name: 'bashx' is not one of"
    )


def test_discriminated_unions_name_the_real_problem() -> None:
    msg = _error(
        event_send_params.EventSendParams,
        {"events": [{"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_1", "is_error": "no"}]},
    )
    assert msg == "events.0.is_error: expected a boolean, got a string"
    msg = _error(
        environment_create_params.EnvironmentCreateParams, {"name": "n", "config": {"type": "docker"}}
    )
    assert msg == "config.type: 'docker' is not one of 'cloud', 'self_hosted'"


def test_header_only_params_are_not_body_keys() -> None:
    assert "betas" in _error(
        agent_create_params.AgentCreateParams, {"name": "x", "model": "m", "betas": ["b"]}
    )
    assert _error(agent_create_params.AgentCreateParams, [1]) == "request body must be a JSON object"


def test_booleans_are_not_integers_and_nulls_only_where_optional() -> None:
    body = {"name": "x", "model": "m", "system": 3}
    assert _error(agent_create_params.AgentCreateParams, body) == "system: expected a string, got an integer"
    assert (
        _error(agent_update_params.AgentUpdateParams, {"version": True})
        == "version: expected an integer, got a boolean"
    )
    msg = _error(agent_create_params.AgentCreateParams, {"name": None, "model": "m"})
    assert msg == "name: expected a string, got null"
    validate_body(agent_create_params.AgentCreateParams, {"name": "x", "model": "m", "system": None})


def test_conforms_reports_unknown_missing_and_enum_problems() -> None:
    meta = {
        "type": "file",
        "id": "file_1",
        "filename": "a",
        "mime_type": "text/plain",
        "size_bytes": 1,
        "created_at": "2026-01-01T00:00:00.000000Z",
    }
    assert conforms(BetaFileMetadata, meta) == []
    assert conforms(BetaFileMetadata, {**meta, "extra": 1}) == ["extra: Extra inputs are not permitted"]
    assert conforms(BetaFileMetadata, {k: v for k, v in meta.items() if k != "size_bytes"}) == [
        "size_bytes: Field required"
    ]
    assert conforms(BetaFileMetadata, {**meta, "created_at": "yesterday"})
    idle = {
        "type": "session.status_idle",
        "id": "sevt_1",
        "processed_at": "2026-01-01T00:00:00Z",
        "stop_reason": {"type": "end_turn"},
    }
    assert conforms(BetaManagedAgentsStreamSessionEvents, idle) == []
    bad = {**idle, "stop_reason": {"type": "interrupted"}}
    assert conforms(BetaManagedAgentsStreamSessionEvents, bad) == [
        "stop_reason.type: 'interrupted' is not one of 'budget_reached', 'end_turn', 'refusal', 'requires_action', "
        "'retries_exhausted'"
    ]
