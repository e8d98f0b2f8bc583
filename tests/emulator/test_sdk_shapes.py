"""The TypeScript SDK as a second reader: its declared shapes (required keys, nulls) hold for every
emulator response, the shapes file is generated from the pinned SDK, and every emulated method works
through that SDK against the standalone emulator.

(Every test in tests/emulator is also checked response by response: see conftest.py.)
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anthropic
import anthropic.types.beta
import pytest
from pydantic import BaseModel

from nb_agents.emulator import sdk_shapes
from nb_agents.emulator.server import ROUTES

TS_DIR = Path(__file__).resolve().parents[1] / "ts"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the TypeScript SDK checks need node 18+"
)


def _node_modules() -> None:
    if not (TS_DIR / "node_modules" / "@anthropic-ai" / "sdk").is_dir():
        pytest.fail(f"the TypeScript SDK is not installed: run `make ts-deps` (npm ci in {TS_DIR})")


def _idle(**extra: Any) -> dict[str, Any]:
    return {
        "id": "sevt_1",
        "type": "session.status_idle",
        "stop_reason": {"type": "end_turn"},
        "processed_at": "2026-01-01T00:00:00Z",
        **extra,
    }


# -- the checker ---------------------------------------------------------------------------------
def test_a_missing_required_key_is_a_problem_even_when_python_reads_it_as_none() -> None:
    event = sdk_shapes.event_shape()
    assert sdk_shapes.problems(event, _idle()) == [
        "stop_details: required key missing (BetaManagedAgentsSessionStatusIdleEvent)"
    ]
    assert sdk_shapes.problems(event, _idle(stop_details=None)) == []


def test_wrong_nulls_kinds_literals_and_undeclared_keys_are_problems() -> None:
    event = sdk_shapes.event_shape()
    assert sdk_shapes.problems(event, _idle(stop_details=None, processed_at=None)) == [
        "processed_at: expected string, got null"
    ]
    assert sdk_shapes.problems(event, _idle(stop_details=None, bogus=1)) == [
        "bogus: key not declared (BetaManagedAgentsSessionStatusIdleEvent)"
    ]
    assert sdk_shapes.problems(event, {"id": "x", "type": "agent.future_thing"}) == [
        "type: 'agent.future_thing' is not a type of BetaManagedAgentsStreamSessionEvents"
    ]
    bad_reason = sdk_shapes.problems(event, _idle(stop_details=None, stop_reason={"type": "interrupted"}))
    assert bad_reason and bad_reason[0].startswith("stop_reason")
    agent = sdk_shapes.route_shape("GET /v1/agents/{agent_id}")
    assert agent is not None and agent[0] == "json"
    assert "version: expected number, got a string" in sdk_shapes.problems(agent[1], {"version": "1"})
    model = {"id": "claude-some-future-model", "speed": "standard"}  # `(string & {})`: any model id
    assert not [p for p in sdk_shapes.problems(agent[1], {"model": model}) if p.startswith("model")]


def test_complete_adds_only_required_nullable_keys_at_every_depth() -> None:
    event = sdk_shapes.event_shape()
    idle = _idle()
    done = sdk_shapes.complete(event, idle)
    assert done == {**idle, "stop_details": None} and "stop_details" not in idle  # input untouched
    assert sdk_shapes.complete(event, done) is done  # nothing to add: the same object
    no_id = {k: v for k, v in idle.items() if k != "id"}
    assert "id" not in sdk_shapes.complete(event, no_id)  # required but not nullable: left to the checker
    kind, page = sdk_shapes.route_shape("GET /v1/agents") or ("", None)
    web_fetch = {"name": "web_fetch", "enabled": True, "permission_policy": {"type": "always_allow"}}
    body = {
        "data": [{"type": "agent", "tools": [{"type": "agent_toolset_20260401", "configs": [web_fetch]}]}]
    }
    filled = sdk_shapes.complete(page, body)
    assert kind == "page" and filled["data"][0]["tools"][0]["configs"][0]["url_sources"] is None
    assert "max_content_tokens" not in filled["data"][0]["tools"][0]["configs"][0]  # optional (`?:`)


def test_complete_leaves_out_a_null_the_type_does_not_allow() -> None:
    _kind, version = sdk_shapes.route_shape("GET /v1/memory_stores/{}/memory_versions/{}") or ("", None)
    body = {"type": "memory_version", "redacted_by": None, "redacted_at": None, "content": None}
    done = sdk_shapes.complete(version, body)
    assert "redacted_by" not in done  # `redacted_by?: BetaManagedAgentsActor`: absent, never null
    assert done["redacted_at"] is None and done["content"] is None  # `?: string | null`: kept
    assert "redacted_by: expected an object" in " ".join(sdk_shapes.problems(version, body))


def test_the_emulator_stores_events_lean_and_sends_them_complete(client: Any, emulator: Any) -> None:
    agent = client.beta.agents.create(
        name="lean", model="claude-sonnet-4-6", metadata={"emulator_brain": "echo"}
    )
    env = client.beta.environments.create(name="lean-env")
    sid = client.beta.sessions.create(agent=agent.id, environment_id=env.id).id
    with client.beta.sessions.events.stream(sid) as stream:
        client.beta.sessions.events.send(
            sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]
        )
        for ev in stream:
            if ev.type == "session.status_idle":
                break
    stored = [e for e in emulator.store.sessions[sid].runtime.events if e["type"] == "session.status_idle"]
    listed = client.beta.sessions.events.with_raw_response.list(sid).http_response.json()["data"]
    idle = [e for e in listed if e["type"] == "session.status_idle"][-1]
    assert "stop_details" not in stored[-1]  # the runtime leaves empty nullable fields out ...
    assert idle["stop_details"] is None  # ... the wire carries them


# -- coverage: every route is checked -----------------------------------------------------------
def test_every_emulator_route_has_the_sdks_shape() -> None:
    missing = [f"{m} {p}" for m, p, _ in ROUTES if sdk_shapes.route_shape(f"{m} {p}") is None]
    assert not missing, (
        f"routes the TypeScript SDK does not declare (their responses go unchecked): {missing}"
    )


def test_python_models_of_the_same_name_agree_on_required_keys() -> None:
    """The Python SDK requires exactly the keys the TypeScript SDK declares required and non-null
    (its nullable ones are `Optional[...] = None`), and has every key TypeScript declares."""
    models: dict[str, type[BaseModel]] = {}
    for info in pkgutil.walk_packages(anthropic.types.beta.__path__, "anthropic.types.beta."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                models.setdefault(name, value)
    compared, disagreements = 0, []
    for name, node in sdk_shapes.shapes()["types"].items():
        if "object" not in node or name not in models:
            continue
        compared += 1
        fields = {(f.alias or key): f for key, f in models[name].model_fields.items()}
        for key, prop in node["object"].items():
            if key not in fields:
                disagreements.append(f"{name}.{key}: not in the Python model")
            elif fields[key].is_required() != (prop["required"] and not sdk_shapes.nullable(prop["type"])):
                disagreements.append(f"{name}.{key}: required in one SDK only")
    assert compared > 200 and not disagreements, disagreements[:20]


# -- the shapes file is the pinned SDK's ---------------------------------------------------------
def test_the_shapes_file_names_the_pinned_typescript_sdk() -> None:
    lock = json.loads((TS_DIR / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/@anthropic-ai/sdk"]["version"]
    assert sdk_shapes.shapes()["sdk"] == f"@anthropic-ai/sdk@{pinned}"


@needs_node
def test_the_shapes_file_is_generated_from_the_pinned_typescript_sdk() -> None:
    _node_modules()
    fresh = subprocess.run(
        [NODE or "node", "sdk_shapes.mjs"],
        cwd=TS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    committed = (Path(sdk_shapes.__file__).with_name("sdk_shapes.json")).read_text()
    assert fresh == committed, "nb_agents/emulator/sdk_shapes.json is stale: run `make sdk-shapes`"


# -- every method through the TypeScript SDK -----------------------------------------------------
@needs_node
def test_every_method_through_the_typescript_sdk_on_the_standalone_emulator(tmp_path: Path) -> None:
    _node_modules()
    env = {**os.environ, "NB_AGENTS_EMULATOR_CHECK_SHAPES": "1"}
    cmd = [sys.executable, "-m", "nb_agents.emulator", "--port", "0", "--sandbox-root", str(tmp_path)]
    server = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=(tmp_path / "server.log").open("w"), text=True, env=env
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        run = subprocess.run(
            [NODE or "node", "drive_emulator.mjs", url],
            cwd=TS_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    called = {line[3:] for line in run.stdout.splitlines() if line.startswith("ok ")}
    for method in (
        "agents.create", "agents.retrieve", "agents.update", "agents.list", "agents.versions.list", "agents.archive",
        "environments.create", "environments.retrieve", "environments.update", "environments.list",
        "environments.archive", "environments.delete", "environments.work.poll", "environments.work.heartbeat",
        "sessions.create", "sessions.retrieve", "sessions.update", "sessions.list", "sessions.archive",
        "sessions.delete", "sessions.events.send", "sessions.events.list", "sessions.events.stream",
        "sessions.resources.add", "sessions.resources.list", "sessions.resources.retrieve",
        "sessions.resources.delete", "sessions.resources.update", "sessions.threads.list", "sessions.threads.retrieve",
        "sessions.threads.events.list", "sessions.threads.events.stream",
        "files.upload", "files.list", "files.retrieveMetadata", "files.download", "files.delete",
        "memory_stores.create", "memory_stores.retrieve", "memory_stores.update", "memory_stores.list",
        "memory_stores.archive", "memory_stores.delete", "memory_stores.memories.create",
        "memory_stores.memories.retrieve", "memory_stores.memories.update", "memory_stores.memories.list",
        "memory_stores.memories.delete", "memory_stores.memory_versions.list",
        "memory_stores.memory_versions.retrieve", "memory_stores.memory_versions.redact",
        "vaults.create", "vaults.retrieve", "vaults.update", "vaults.list", "vaults.archive", "vaults.delete",
        "vaults.credentials.create", "vaults.credentials.retrieve", "vaults.credentials.update",
        "vaults.credentials.list", "vaults.credentials.mcpOAuthValidate", "vaults.credentials.archive", "vaults.credentials.delete",
        "deployments.create", "deployments.retrieve", "deployments.update", "deployments.list", "deployments.run",
        "deployments.pause", "deployments.unpause", "deployments.archive", "deployment_runs.retrieve",
        "deployment_runs.list", "dreams.create", "dreams.retrieve", "dreams.list", "dreams.archive",
    ):  # fmt: skip
        assert method in called, f"{method} was not called through the TypeScript SDK:\n{out}"
    log = (tmp_path / "server.log").read_text()
    assert "off the SDK shape" not in log, log


# -- the client's own events on the wire ----------------------------------------------------------
def _wait(client: Any, sid: str, predicate: Any, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = client.beta.sessions.events.with_raw_response.list(sid).http_response.json()["data"]
        if predicate(listed):
            return listed  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"timed out; events: {[e['type'] for e in listed]}")


def _idles(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "session.status_idle"]


def test_every_kind_of_sent_event_goes_through_the_wire_check(client: Any) -> None:
    """Confirmations, interrupts, system messages and outcomes, sent over HTTP: their echoes and
    the events they cause are checked by the conftest like every other response."""
    agent = client.beta.agents.create(
        name="wire-sent",
        model="claude-sonnet-4-6",
        metadata={"emulator_brain": "scenario:confirm"},
        tools=[{"type": "agent_toolset_20260401"}],
    )
    env = client.beta.environments.create(name="wire-sent-env")
    sid = client.beta.sessions.create(agent=agent.id, environment_id=env.id).id
    send = client.beta.sessions.events.send

    def text(t: str) -> dict[str, Any]:
        return {"type": "user.message", "content": [{"type": "text", "text": t}]}

    send(sid, events=[text("go")])
    events = _wait(
        client, sid, lambda ev: _idles(ev) and _idles(ev)[-1]["stop_reason"]["type"] == "requires_action"
    )
    ask = _idles(events)[-1]["stop_reason"]["event_ids"][0]
    send(sid, events=[{"type": "user.tool_confirmation", "tool_use_id": ask, "result": "allow"}])
    _wait(client, sid, lambda ev: _idles(ev)[-1]["stop_reason"]["type"] == "end_turn")

    send(
        sid,
        events=[
            text("[[emulator: echo]]\nwith context"),
            {"type": "system.message", "content": [{"type": "text", "text": "be brief"}]},
        ],
    )
    _wait(client, sid, lambda ev: len(_idles(ev)) >= 3)
    send(
        sid,
        events=[
            {
                "type": "user.define_outcome",
                "description": "[[emulator: echo]]\nsay done",
                "rubric": {"type": "text", "content": "says done"},
                "max_iterations": 1,
            }
        ],
    )
    _wait(
        client,
        sid,
        lambda ev: any(e["type"] == "span.outcome_evaluation_end" for e in ev) and len(_idles(ev)) >= 4,
    )
    send(sid, events=[text("[[emulator: scenario slow]]\nwait")])
    _wait(
        client, sid, lambda ev: any(e["type"] == "agent.message" and "long job" in json.dumps(e) for e in ev)
    )
    send(sid, events=[{"type": "user.interrupt"}])
    listed = _wait(
        client, sid, lambda ev: any(e["type"] == "user.interrupt" for e in ev) and len(_idles(ev)) >= 5
    )
    kinds = {e["type"] for e in listed}
    assert {"user.tool_confirmation", "system.message", "user.define_outcome", "user.interrupt"} <= kinds, (
        kinds
    )


def test_a_repository_resource_takes_a_new_token_and_never_echoes_it(client: Any, tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "README.md").write_text("hi")
    agent = client.beta.agents.create(name="repo-token", model="claude-sonnet-4-6")
    env = client.beta.environments.create(name="repo-token-env")
    session = client.beta.sessions.create(
        agent=agent.id,
        environment_id=env.id,
        resources=[
            {"type": "github_repository", "url": (tmp_path / "repo").as_uri(), "authorization_token": "t0"}
        ],
    )
    repo = session.resources[0]
    raw = client.beta.sessions.resources.with_raw_response.update(
        repo.id, session_id=session.id, authorization_token="ghp_rotated"
    ).http_response
    assert raw.json()["id"] == repo.id and "ghp_rotated" not in raw.text
    with pytest.raises(anthropic.BadRequestError):
        f = client.beta.files.upload(file=("a.txt", b"a", "text/plain"))
        added = client.beta.sessions.resources.add(session.id, type="file", file_id=f.id)
        client.beta.sessions.resources.update(added.id, session_id=session.id, authorization_token="x")


def test_a_sessions_coordinator_roster_holds_agent_snapshots(client: Any) -> None:
    worker = client.beta.agents.create(name="roster-worker", model="claude-haiku-4-5", system="work")
    boss = client.beta.agents.create(
        name="roster-boss",
        model="claude-sonnet-4-6",
        multiagent={"type": "coordinator", "agents": [worker.id, {"type": "self"}]},
    )
    assert [a.id for a in boss.multiagent.agents] == [worker.id, boss.id]  # the agent keeps references
    env = client.beta.environments.create(name="roster-env")
    session = client.beta.sessions.with_raw_response.create(
        agent=boss.id, environment_id=env.id
    ).http_response
    roster = session.json()["agent"]["multiagent"]["agents"]
    assert [(a["id"], a["name"], a["model"]["id"]) for a in roster] == [
        (worker.id, "roster-worker", "claude-haiku-4-5"),
        (boss.id, "roster-boss", "claude-sonnet-4-6"),
    ]
    assert roster[0]["system"] == "work" and "multiagent" not in roster[1]


def test_a_multiagent_20261001_gets_its_documented_defaults_and_session_snapshots(client: Any) -> None:
    worker = client.beta.agents.create(name="sub-worker", model="claude-haiku-4-5")
    lead = client.beta.agents.create(
        name="sub-lead",
        model="claude-sonnet-4-6",
        multiagent={
            "type": "multiagent_20261001",
            "subagents": {"type": "enabled", "predefined_agents": [worker.id]},
        },
    )
    wire = client.beta.agents.with_raw_response.retrieve(lead.id).http_response.json()["multiagent"]
    assert wire == {
        "type": "multiagent_20261001",
        "advisor": {"type": "disabled"},
        "subagents": {
            "type": "enabled",
            "inline_agents": {"type": "enabled"},
            "predefined_agents": [{"type": "agent", "id": worker.id, "version": 1}],
        },
        "workflows": {"type": "enabled", "inline_agents": {"type": "enabled"}, "predefined_agents": []},
    }
    env = client.beta.environments.create(name="sub-env")
    session = client.beta.sessions.with_raw_response.create(
        agent=lead.id, environment_id=env.id
    ).http_response
    predefined = session.json()["agent"]["multiagent"]["subagents"]["predefined_agents"]
    assert [(a["id"], a["name"]) for a in predefined] == [(worker.id, "sub-worker")]
