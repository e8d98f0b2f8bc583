"""Every emulator endpoint, driven through the real anthropic client, answers JSON that conforms
strictly to the SDK's models: no unknown keys, no missing required keys, right enum values.

(The SDK's pydantic models accept extra keys, so `conforms` walks the raw JSON itself.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import anthropic
import pytest
from anthropic.types.beta import (
    BetaDeletedFile,
    BetaEnvironment,
    BetaEnvironmentDeleteResponse,
    BetaFileMetadata,
    BetaManagedAgentsAgent,
    BetaManagedAgentsDeletedSession,
    BetaManagedAgentsSession,
)
from anthropic.types.beta.sessions import (
    BetaManagedAgentsDeleteSessionResource,
    BetaManagedAgentsFileResource,
    BetaManagedAgentsSessionEvent,
    BetaManagedAgentsStreamSessionEvents,
)
from anthropic.types.shared.error_object import ErrorObject
from anthropic.types.shared.error_type import ErrorType

import nb_agents.emulator
from nb_agents.emulator.validation import conforms

ECHO = {"emulator_brain": "echo"}


def check(model: Any, body: Any) -> Any:
    problems = conforms(model, body)
    assert problems == [], f"{getattr(model, '__name__', model)}: {problems} in {json.dumps(body)[:400]}"
    return body


def raw(response: Any, model: Any) -> Any:
    """The raw JSON of a `with_raw_response` call, checked against `model`."""
    assert response.http_response.headers["request-id"].startswith("req_")
    return check(model, response.http_response.json())


def page(response: Any, model: Any, *, prev: bool = False) -> dict[str, Any]:
    body = response.http_response.json()
    assert set(body) == ({"data", "next_page", "prev_page"} if prev else {"data", "next_page"})
    for item in body["data"]:
        check(model, item)
    return body


def error(exc: anthropic.APIStatusError, status: int) -> dict[str, Any]:
    assert exc.status_code == status
    body = exc.response.json()
    assert set(body) == {"type", "error", "request_id"} and body["type"] == "error"
    assert body["request_id"] == exc.response.headers["request-id"] == exc.request_id
    err = dict(body["error"])
    assert err["type"] in get_args(ErrorType)
    details = err.pop("details", None)
    assert details is None or set(details) == {"error_code"}
    check(ErrorObject, err)
    return body["error"]


@pytest.fixture(scope="module")
def world(emulator: Any) -> dict[str, Any]:
    c = emulator.client(max_retries=0)
    agent = c.beta.agents.create(name="conformance", model="claude-sonnet-4-6", metadata=ECHO)
    env = c.beta.environments.create(name="conformance-env")
    return {"agent": agent, "env": env}


def test_agents(client: Any, world: dict[str, Any]) -> None:
    agents = client.beta.agents.with_raw_response
    created = raw(
        agents.create(
            name="full",
            model={"id": "claude-opus-4-8", "effort": "high", "speed": "fast"},
            system="be brief",
            description="d",
            tools=[
                {
                    "type": "agent_toolset_20260401",
                    "configs": [{"name": "web_fetch", "allowed_domains": ["x.org"]}],
                },
                {"type": "mcp_toolset", "mcp_server_name": "docs"},
                {"type": "custom", "name": "f", "description": "d", "input_schema": {"type": "object"}},
            ],
            mcp_servers=[{"type": "url", "name": "docs", "url": "https://mcp.example/sse"}],
            skills=[{"type": "anthropic", "skill_id": "xlsx"}, {"type": "custom", "skill_id": "skill_1"}],
            multiagent={"type": "coordinator", "agents": [world["agent"].id, {"type": "self"}]},
            execution_identity={"type": "aws_role", "role_arn": "arn:aws:iam::1:role/x"},
            metadata={"k": "v"},
        ),
        BetaManagedAgentsAgent,
    )
    aid = created["id"]
    raw(agents.retrieve(aid), BetaManagedAgentsAgent)
    updated = raw(agents.update(aid, version=1, system="changed"), BetaManagedAgentsAgent)
    assert updated["version"] == 2
    raw(agents.retrieve(aid, version=1), BetaManagedAgentsAgent)
    page(agents.list(limit=2), BetaManagedAgentsAgent)
    page(client.beta.agents.versions.with_raw_response.list(aid), BetaManagedAgentsAgent)
    raw(agents.archive(aid), BetaManagedAgentsAgent)
    page(agents.list(include_archived=True), BetaManagedAgentsAgent)


def test_environments(client: Any) -> None:
    envs = client.beta.environments.with_raw_response
    cfg = {
        "type": "cloud",
        "networking": {"type": "limited", "allowed_hosts": ["pypi.org"], "allow_package_managers": True},
        "packages": {"pip": ["pandas"]},
    }
    env = raw(envs.create(name="conf-limited", config=cfg, metadata={"a": "b"}), BetaEnvironment)
    raw(envs.retrieve(env["id"]), BetaEnvironment)
    raw(envs.update(env["id"], description="x", metadata={"a": None}), BetaEnvironment)
    page(envs.list(), BetaEnvironment)
    raw(envs.archive(env["id"]), BetaEnvironment)
    raw(envs.create(name="conf-self", config={"type": "self_hosted"}), BetaEnvironment)
    raw(envs.delete(env["id"]), BetaEnvironmentDeleteResponse)


def _upload(client: Any, name: str = "df.csv", data: bytes = b"a,b\n1,2\n3,4\n") -> dict[str, Any]:
    return raw(client.beta.files.with_raw_response.upload(file=(name, data, "text/csv")), BetaFileMetadata)


def test_sessions_and_resources(client: Any, world: dict[str, Any]) -> None:
    sessions = client.beta.sessions.with_raw_response
    f = _upload(client)
    s = raw(
        sessions.create(
            agent={"type": "agent", "id": world["agent"].id, "version": 1},
            environment_id=world["env"].id,
            title="t",
            metadata={"m": "1"},
            budget={"type": "limit", "max_list_cost": {"amount": "2500", "currency": "USD"}},
            resources=[{"type": "file", "file_id": f["id"], "mount_path": "/df.csv"}],
        ),
        BetaManagedAgentsSession,
    )
    sid = s["id"]
    raw(sessions.retrieve(sid), BetaManagedAgentsSession)
    raw(sessions.update(sid, title="t2", metadata={"m": None}), BetaManagedAgentsSession)
    page(sessions.list(limit=1), BetaManagedAgentsSession, prev=True)
    resources = client.beta.sessions.resources.with_raw_response
    added = raw(resources.add(sid, type="file", file_id=f["id"]), BetaManagedAgentsFileResource)
    page(resources.list(sid), BetaManagedAgentsFileResource)
    raw(resources.retrieve(added["id"], session_id=sid), BetaManagedAgentsFileResource)
    raw(resources.delete(added["id"], session_id=sid), BetaManagedAgentsDeleteSessionResource)
    overrides = raw(
        sessions.create(
            agent={
                "type": "agent_with_overrides",
                "id": world["agent"].id,
                "system": "s",
                "model": "claude-haiku-4-5",
            },
            environment_id=world["env"].id,
        ),
        BetaManagedAgentsSession,
    )
    raw(sessions.archive(overrides["id"]), BetaManagedAgentsSession)
    raw(sessions.delete(sid), BetaManagedAgentsDeletedSession)


def _frames(lines: list[str]) -> list[tuple[str, dict[str, Any]]]:
    frames: list[tuple[str, dict[str, Any]]] = []
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name != "ping":
            frames.append((name, json.loads(line[6:])))
    return frames


def test_events_send_list_and_stream(client: Any, world: dict[str, Any]) -> None:
    sid = client.beta.sessions.create(agent=world["agent"].id, environment_id=world["env"].id).id
    events = client.beta.sessions.events
    lines: list[str] = []
    with events.with_streaming_response.stream(
        sid, event_deltas=["agent.message", "agent.thinking"]
    ) as stream:
        sent = events.with_raw_response.send(
            sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "hello there"}]}]
        ).http_response.json()
        assert set(sent) == {"data"}
        for echo in sent["data"]:
            check(BetaManagedAgentsSessionEvent, echo)
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data: ") and '"session.status_idle"' in line:
                break
    frames = _frames(lines)
    assert frames and all(name == body["type"] for name, body in frames)
    assert {"event_start", "event_delta", "agent.message", "session.status_idle"} <= {n for n, _ in frames}
    for _name, body in frames:
        check(BetaManagedAgentsStreamSessionEvents, body)
    listed = page(events.with_raw_response.list(sid), BetaManagedAgentsSessionEvent)
    assert [e["type"] for e in listed["data"]] == [b["type"] for n, b in frames if not n.startswith("event_")]


def test_files(client: Any, emulator: Any, world: dict[str, Any]) -> None:
    f = _upload(client, "notes.txt", b"hello")
    files = client.beta.files.with_raw_response
    raw(files.retrieve_metadata(f["id"]), BetaFileMetadata)
    page(files.list(limit=1), BetaFileMetadata)
    page(files.list(ids=[f["id"], "file_unknown"]), BetaFileMetadata)
    output = emulator.store.add_file("out.txt", b"hello", "text/plain", scope_session_id="sesn_x")
    assert client.beta.files.download(output["id"]).read() == b"hello"
    s = client.beta.sessions.create(
        agent=world["agent"].id,
        environment_id=world["env"].id,
        resources=[{"type": "file", "file_id": f["id"]}],
    )
    scoped = page(files.list(scope_id=s.id, betas=["managed-agents-2026-04-01"]), BetaFileMetadata)
    assert [x["scope"] for x in scoped["data"]] == [{"type": "session", "id": s.id}]
    raw(files.delete(f["id"]), BetaDeletedFile)


def test_error_shapes(client: Any, world: dict[str, Any]) -> None:
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.beta.sessions.retrieve("sesn_missing")
    assert error(nf.value, 404)["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.beta.agents.create(name="x", model="m", extra_body={"bogus": 1})
    assert "bogus" in error(bad.value, 400)["message"]
    with pytest.raises(anthropic.BadRequestError) as nd:
        scoped = client.beta.sessions.create(
            agent=world["agent"].id,
            environment_id=world["env"].id,
            resources=[{"type": "file", "file_id": _upload(client)["id"]}],
        )
        client.beta.files.download(scoped.resources[0].file_id)
    assert error(nd.value, 400)["details"] == {"error_code": "file_not_downloadable"}
    for unknown in ({"resources": [{"type": "memory_store", "memory_store_id": "memstore_01Unknown"}]},
                    {"vault_ids": ["vlt_01Unknown"]}):  # an attached id the service never made
        with pytest.raises(anthropic.NotFoundError) as missing:
            client.beta.sessions.create(agent=world["agent"].id, environment_id=world["env"].id, **unknown)
        assert error(missing.value, 404)["type"] == "not_found_error"
    with pytest.raises(anthropic.AuthenticationError) as auth:
        client.with_options(api_key="sk-bad-key").beta.agents.list()
    assert error(auth.value, 401)["type"] == "authentication_error"


# Every built-in scenario except `slow` (it only exists to take time).
SCENARIOS = sorted(
    p.stem
    for p in (Path(nb_agents.emulator.__file__).parent / "scenarios").glob("*.json")
    if p.stem != "slow"
)
_TERMINAL = ("session.status_idle", "session.status_terminated", "session.deleted")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_streamed_and_listed_event_of_the_builtin_scenarios(
    client: Any, world: dict[str, Any], scenario: str
) -> None:
    agent = client.beta.agents.create(
        name=f"sc-{scenario}",
        model="claude-sonnet-4-6",
        metadata={"emulator_brain": f"scenario:{scenario}"},
        tools=[
            {"type": "agent_toolset_20260401"},
            {"type": "custom", "name": "lookup", "description": "d", "input_schema": {"type": "object"}},
        ],
    )
    sid = client.beta.sessions.create(agent=agent.id, environment_id=world["env"].id).id
    events = client.beta.sessions.events
    lines: list[str] = []
    with events.with_streaming_response.stream(
        sid, event_deltas=["agent.message", "agent.thinking"]
    ) as stream:
        events.send(sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "go"}]}])
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data: ") and json.loads(line[6:]).get("type") in _TERMINAL:
                break
    frames = _frames(lines)
    assert frames
    for name, body in frames:
        assert name == body["type"]
        check(BetaManagedAgentsStreamSessionEvents, body)
    for body in page(events.with_raw_response.list(sid), BetaManagedAgentsSessionEvent)["data"]:
        assert "processed_at" in body
    check(BetaManagedAgentsSession, client.beta.sessions.with_raw_response.retrieve(sid).http_response.json())


def test_session_updated_events(client: Any, world: dict[str, Any]) -> None:
    budget = {"type": "limit", "max_list_cost": {"amount": "900", "currency": "USD"}}
    sid = client.beta.sessions.create(
        agent=world["agent"].id, environment_id=world["env"].id, budget=budget
    ).id
    client.beta.sessions.update(sid, title="t", metadata={"a": "1"})
    client.beta.sessions.update(
        sid, budget={**budget, "max_list_cost": {"amount": "1000", "currency": "USD"}}
    )
    client.beta.sessions.update(sid, agent={"tools": [{"type": "agent_toolset_20260401"}]})
    client.beta.sessions.update(sid, budget=None)
    listed = page(client.beta.sessions.events.with_raw_response.list(sid), BetaManagedAgentsSessionEvent)
    updates = [e for e in listed["data"] if e["type"] == "session.updated"]
    assert len(updates) == 4
    assert updates[0]["title"] == "t" and updates[2]["agent"]["tools"][0]["type"] == "agent_toolset_20260401"


def test_memory_vault_deployment_and_dream_routes(client: Any, world: dict[str, Any]) -> None:
    """One call of every route of the families served beside sessions (their own test files
    check each method in depth, and that every declared key is sent)."""
    from anthropic.types.beta import (
        BetaDream,
        BetaManagedAgentsDeletedMemoryStore,
        BetaManagedAgentsDeletedVault,
        BetaManagedAgentsDeployment,
        BetaManagedAgentsDeploymentRun,
        BetaManagedAgentsMemoryStore,
        BetaManagedAgentsVault,
    )
    from anthropic.types.beta.memory_stores import (
        BetaManagedAgentsDeletedMemory,
        BetaManagedAgentsMemory,
        BetaManagedAgentsMemoryListItem,
        BetaManagedAgentsMemoryVersion,
    )
    from anthropic.types.beta.vaults import (
        BetaManagedAgentsCredential,
        BetaManagedAgentsCredentialValidation,
        BetaManagedAgentsDeletedCredential,
    )

    stores, mems = client.beta.memory_stores.with_raw_response, client.beta.memory_stores.memories.with_raw_response
    versions = client.beta.memory_stores.memory_versions.with_raw_response
    ms = raw(stores.create(name="conf store"), BetaManagedAgentsMemoryStore)["id"]
    raw(stores.retrieve(ms), BetaManagedAgentsMemoryStore)
    raw(stores.update(ms, description="d"), BetaManagedAgentsMemoryStore)
    page(stores.list(), BetaManagedAgentsMemoryStore)
    mem = raw(mems.create(ms, path="/a/b.md", content="x"), BetaManagedAgentsMemory)["id"]
    raw(mems.retrieve(mem, memory_store_id=ms), BetaManagedAgentsMemory)
    raw(mems.update(mem, memory_store_id=ms, content="y"), BetaManagedAgentsMemory)
    page(mems.list(ms, depth=1), BetaManagedAgentsMemoryListItem)
    listed = page(versions.list(ms), BetaManagedAgentsMemoryVersion)["data"]
    raw(versions.retrieve(listed[0]["id"], memory_store_id=ms), BetaManagedAgentsMemoryVersion)
    raw(versions.redact(listed[-1]["id"], memory_store_id=ms), BetaManagedAgentsMemoryVersion)
    raw(mems.delete(mem, memory_store_id=ms), BetaManagedAgentsDeletedMemory)
    with pytest.raises(anthropic.ConflictError) as conflict:
        client.beta.memory_stores.memories.create(ms, path="/c", content="")
        client.beta.memory_stores.memories.create(ms, path="/c", content="")
    body = conflict.value.response.json()
    assert body["error"]["type"] == "memory_path_conflict_error" and body["error"]["type"] in get_args(ErrorType)

    vaults, creds = client.beta.vaults.with_raw_response, client.beta.vaults.credentials.with_raw_response
    vid = raw(vaults.create(display_name="conf vault"), BetaManagedAgentsVault)["id"]
    raw(vaults.retrieve(vid), BetaManagedAgentsVault)
    raw(vaults.update(vid, metadata={"a": "b"}), BetaManagedAgentsVault)
    page(vaults.list(), BetaManagedAgentsVault)
    auths = [{"type": "static_bearer", "mcp_server_url": "https://a.test/m", "token": "t"},
             {"type": "mcp_oauth", "mcp_server_url": "https://b.test/m", "access_token": "t"},
             {"type": "environment_variable", "secret_name": "K", "secret_value": "v",
              "networking": {"type": "unrestricted"}}]
    ids = [raw(creds.create(vid, auth=auth), BetaManagedAgentsCredential)["id"] for auth in auths]
    raw(creds.retrieve(ids[0], vault_id=vid), BetaManagedAgentsCredential)
    raw(creds.update(ids[0], vault_id=vid, display_name="n"), BetaManagedAgentsCredential)
    page(creds.list(vid), BetaManagedAgentsCredential)
    raw(creds.mcp_oauth_validate(ids[1], vault_id=vid), BetaManagedAgentsCredentialValidation)
    raw(creds.archive(ids[2], vault_id=vid), BetaManagedAgentsCredential)
    raw(creds.delete(ids[2], vault_id=vid), BetaManagedAgentsDeletedCredential)

    deps, runs = client.beta.deployments.with_raw_response, client.beta.deployment_runs.with_raw_response
    dep = raw(deps.create(name="conf", agent=world["agent"].id, environment_id=world["env"].id,
                          initial_events=[{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}],
                          schedule={"type": "cron", "expression": "0 6 * * *", "timezone": "Europe/Berlin"},
                          resources=[{"type": "memory_store", "memory_store_id": ms}], vault_ids=[vid]),
              BetaManagedAgentsDeployment)["id"]
    raw(deps.retrieve(dep), BetaManagedAgentsDeployment)
    raw(deps.update(dep, description="d"), BetaManagedAgentsDeployment)
    page(deps.list(), BetaManagedAgentsDeployment)
    raw(deps.pause(dep), BetaManagedAgentsDeployment)
    raw(deps.unpause(dep), BetaManagedAgentsDeployment)
    fired = raw(deps.run(dep), BetaManagedAgentsDeploymentRun)
    run = fired["id"]
    raw(runs.retrieve(run), BetaManagedAgentsDeploymentRun)
    page(runs.list(deployment_id=dep), BetaManagedAgentsDeploymentRun)
    raw(deps.archive(dep), BetaManagedAgentsDeployment)

    dreams = client.beta.dreams.with_raw_response
    drm = raw(dreams.create(inputs=[{"type": "memory_store", "memory_store_id": ms},
                                    {"type": "sessions", "session_ids": [fired["session_id"]]}],
                            model="claude-sonnet-4-6"), BetaDream)["id"]
    raw(dreams.retrieve(drm), BetaDream)
    page(dreams.list(), BetaDream)
    raw(dreams.cancel(drm), BetaDream)
    raw(dreams.archive(drm), BetaDream)
    raw(vaults.archive(vid), BetaManagedAgentsVault)
    raw(vaults.delete(vid), BetaManagedAgentsDeletedVault)
    raw(stores.archive(ms), BetaManagedAgentsMemoryStore)
    raw(stores.delete(ms), BetaManagedAgentsDeletedMemoryStore)
