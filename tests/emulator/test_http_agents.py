"""Agents and environments endpoints: resolution, versioning, validation, uniqueness."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from nb_agents.emulator.resolve import AGENT_TOOLS


def _name(request: pytest.FixtureRequest) -> str:
    return f"{request.node.name}"


def test_agent_is_fully_resolved(client: Any) -> None:
    a = client.beta.agents.create(
        name="resolved",
        model="claude-sonnet-4-6",
        tools=[
            {
                "type": "agent_toolset_20260401",
                "configs": [{"name": "bash", "permission_policy": {"type": "always_ask"}}],
            }
        ],
    )
    assert a.version == 1 and a.model.id == "claude-sonnet-4-6" and a.model.speed == "standard"
    toolset = a.tools[0]
    assert toolset.default_config.enabled is True
    assert toolset.default_config.permission_policy.type == "always_allow"
    assert [c.name for c in toolset.configs] == list(AGENT_TOOLS)
    policies = {c.name: c.permission_policy.type for c in toolset.configs}
    assert policies["bash"] == "always_ask" and policies["read"] == "always_allow"
    assert a.execution_identity.type == "service_account"
    assert a.metadata == {} and a.skills == [] and a.mcp_servers == []


def test_model_config_effort_becomes_an_object(client: Any) -> None:
    a = client.beta.agents.create(name="m", model={"id": "claude-opus-4-8", "effort": "max", "speed": "fast"})
    raw = client.beta.agents.with_raw_response.retrieve(a.id).http_response.json()
    assert raw["model"] == {"id": "claude-opus-4-8", "effort": {"type": "max"}, "speed": "fast"}


def test_update_semantics_and_versions(client: Any) -> None:
    a = client.beta.agents.create(
        name="u",
        model="claude-sonnet-4-6",
        system="s1",
        metadata={"keep": "1", "drop": "2"},
        tools=[{"type": "custom", "name": "f", "description": "d", "input_schema": {"type": "object"}}],
    )
    same = client.beta.agents.update(a.id, system="s1")
    assert same.version == 1  # nothing changed: no new version
    b = client.beta.agents.update(a.id, version=1, metadata={"drop": None, "new": "3"}, description="desc")
    assert b.version == 2
    assert b.metadata == {"keep": "1", "new": "3"}
    assert b.system == "s1" and [t.name for t in b.tools] == ["f"]  # omitted fields preserved
    c = client.beta.agents.update(a.id, tools=[], system="")
    assert c.version == 3 and c.tools == [] and c.system is None
    assert client.beta.agents.retrieve(a.id, version=1).system == "s1"
    assert client.beta.agents.retrieve(a.id).version == 3
    versions = [v.version for v in client.beta.agents.versions.list(a.id)]
    assert versions == [3, 2, 1]
    with pytest.raises(anthropic.ConflictError) as exc:
        client.beta.agents.update(a.id, version=1, name="stale")
    assert "version" in exc.value.message
    with pytest.raises(anthropic.NotFoundError):
        client.beta.agents.retrieve(a.id, version=9)


def test_list_pagination_and_archive(client: Any) -> None:
    ids = [client.beta.agents.create(name=f"p{i}", model="claude-haiku-4-5").id for i in range(3)]
    first = client.beta.agents.list(limit=2)
    assert len(first.data) == 2 and first.next_page
    assert first.data[0].id == ids[-1]  # newest first
    every = [a.id for a in client.beta.agents.list(limit=2)]  # the SDK follows next_page to the end
    assert set(ids) <= set(every) and len(every) == len(set(every))
    archived = client.beta.agents.archive(ids[0])
    assert archived.archived_at is not None
    assert ids[0] not in [a.id for a in client.beta.agents.list(limit=100)]
    assert ids[0] in [a.id for a in client.beta.agents.list(limit=100, include_archived=True)]
    with pytest.raises(anthropic.BadRequestError):
        client.beta.agents.update(ids[0], name="nope")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "x"}, "model: Field required"),
        ({"name": "x", "model": "m", "bogus": 1}, "bogus: Extra inputs are not permitted"),
        ({"name": "x", "model": {"id": "m", "effort": "huge"}}, "model.effort"),
        ({"name": "x", "model": "m", "tools": [{"type": "toolz"}]}, "tools.0.type"),
        ({"name": "x", "model": "m", "metadata": {"k": 1}}, "metadata.k: expected a string"),
        ({"name": "x", "model": "m", "metadata": {f"k{i}": "v" for i in range(17)}}, "16"),
        (
            {"name": "x", "model": "m", "mcp_servers": [{"type": "url", "name": "a", "url": "u"}]},
            "not referenced",
        ),
        (
            {
                "name": "x",
                "model": "m",
                "tools": [
                    {
                        "type": "custom",
                        "name": "bad name",
                        "description": "d",
                        "input_schema": {"type": "object"},
                    }
                ],
            },
            "A-Za-z0-9",
        ),
        ({"name": "", "model": "m"}, "name: must not be empty"),
    ],
)
def test_invalid_agent_bodies_are_400(client: Any, body: dict[str, Any], needle: str) -> None:
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.post("/v1/agents", body=body, cast_to=object)
    assert needle in exc.value.message
    assert exc.value.response.json()["error"]["type"] == "invalid_request_error"


def test_environment_names_are_unique(client: Any) -> None:
    env = client.beta.environments.create(name="unique-env")
    with pytest.raises(anthropic.ConflictError):
        client.beta.environments.create(name="unique-env")
    other = client.beta.environments.create(name="unique-env-2")
    with pytest.raises(anthropic.ConflictError):
        client.beta.environments.update(other.id, name="unique-env")
    assert client.beta.environments.delete(env.id).type == "environment_deleted"
    with pytest.raises(anthropic.NotFoundError):
        client.beta.environments.retrieve(env.id)
    assert client.beta.environments.create(name="unique-env").name == "unique-env"


def test_environment_config_rules(client: Any) -> None:
    limited = {"type": "limited", "allowed_hosts": ["pypi.org"]}
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.beta.environments.create(
            name="pk", config={"type": "cloud", "networking": limited, "packages": {"pip": ["pandas"]}}
        )
    assert "allow_package_managers" in exc.value.message
    env = client.beta.environments.create(
        name="cfg", config={"type": "cloud", "packages": {"pip": ["pandas"]}}
    )
    assert env.config.networking.type == "unrestricted" and env.config.packages.pip == ["pandas"]
    with pytest.raises(anthropic.BadRequestError) as change:
        client.beta.environments.update(env.id, config={"type": "self_hosted"})
    assert change.value.response.json()["error"]["details"] == {"error_code": "invalid_config_type_change"}
    updated = client.beta.environments.update(env.id, metadata={"a": "1"}, description="d")
    assert updated.metadata == {"a": "1"} and updated.description == "d"
    archived = client.beta.environments.archive(env.id)
    assert archived.archived_at
    assert env.id not in [e.id for e in client.beta.environments.list(limit=100)]
    assert env.id in [e.id for e in client.beta.environments.list(limit=100, include_archived=True)]


def test_malformed_bodies_are_400(emulator: Any) -> None:
    import httpx2

    url = f"{emulator.base_url}/v1/agents"
    headers = {"x-api-key": "k", "content-type": "application/json"}
    for content in (b"{not json", b"[1, 2]", b'"text"'):
        r = httpx2.post(url, headers=headers, content=content)
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = httpx2.delete(url, headers=headers)
    assert r.status_code == 405 and r.json()["type"] == "error"
