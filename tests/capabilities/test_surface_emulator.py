"""The emulator's side of the surface, through the SDK: environments, repositories, memory stores,
MCP servers and tool calls, outcomes (session.outcome_evaluations)."""

from __future__ import annotations

import json
import time

import anthropic
import pytest

from nb_agents.emulator.validation import conforms

TOOLSET = {"type": "agent_toolset_20260401"}


@pytest.fixture()
def sdk(make_emulator, tmp_path):
    emu = make_emulator(sandbox_root=str(tmp_path / "sandboxes"))
    client = emu.client(max_retries=0)
    env = client.beta.environments.create(name="e", config={"type": "cloud", "networking": {"type": "unrestricted"}})
    yield emu, client, env.id
    client.close()


def _agent(client, **kw):
    kw.setdefault("tools", [TOOLSET])
    return client.beta.agents.create(name="a", model="claude-sonnet-4-6", **kw).id


def _events(client, sid, kind=None):
    return [e for e in client.beta.sessions.events.list(sid, limit=1000) if kind is None or e.type == kind]


def _wait_idle(client, sid, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.beta.sessions.retrieve(sid).status == "idle" and _events(client, sid, "session.status_idle"):
            return _events(client, sid, "session.status_idle")[-1]
        time.sleep(0.05)
    raise AssertionError("session did not go idle")


def _all_events_conform(emu, sid):
    """Every persisted event is exactly an SDK event model (no unknown keys, right types)."""
    from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents

    events = emu.store.sessions[sid].runtime.events
    assert events and all(conforms(BetaManagedAgentsStreamSessionEvents, e) == [] for e in events)


def _sandbox(emu, sid):
    return emu.store.sessions[sid].runtime.sandbox


def test_limited_networking_refuses_packages_without_package_managers(sdk):
    _emu, client, _env = sdk
    config = {"type": "cloud", "networking": {"type": "limited"}, "packages": {"pip": ["pandas"]}}
    with pytest.raises(anthropic.BadRequestError, match="allow_package_managers"):
        client.beta.environments.create(name="lim", config=config)
    config["networking"]["allow_package_managers"] = True
    env = client.beta.environments.create(name="lim", config=config)
    assert env.config.packages.pip == ["pandas"] and env.config.networking.allow_package_managers is True


def test_local_repositories_are_cloned_and_checked_out(sdk, git_repo, tmp_path):
    emu, client, env = sdk
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "data.csv").write_text("a,b\n")
    session = client.beta.sessions.create(agent=_agent(client), environment_id=env, resources=[
        {"type": "github_repository", "url": str(git_repo), "checkout": {"type": "branch", "name": "feature"},
         "authorization_token": "ghp_never_echoed"},
        {"type": "github_repository", "url": plain.as_uri(), "mount_path": "/workspace/data"},
    ])
    box = _sandbox(emu, session.id)
    assert (box.host("/workspace/demo-repo/feature.txt")).read_text() == "feature\n"
    assert (box.host("/workspace/data/data.csv")).is_file()
    wire = emu.store.sessions[session.id].session
    assert "ghp_never_echoed" not in json.dumps(wire)
    assert [r.mount_path for r in session.resources] == ["/workspace/demo-repo", "/workspace/data"]
    assert session.resources[0].checkout.name == "feature"
    assert not _events(client, session.id, "session.error")
    from anthropic.types.beta import BetaManagedAgentsSession

    assert conforms(BetaManagedAgentsSession, wire) == []


def test_unreachable_repositories_get_repository_errors_and_the_session_continues(sdk, git_repo, tmp_path):
    _emu, client, env = sdk
    session = client.beta.sessions.create(agent=_agent(client), environment_id=env, resources=[
        {"type": "github_repository", "url": "https://github.com/octo/private"},
        {"type": "github_repository", "url": str(tmp_path / "missing")},
        {"type": "github_repository", "url": str(git_repo), "checkout": {"type": "branch", "name": "nope"}},
    ], metadata={"emulator_brain": "echo"})
    errors = [e.error for e in _events(client, session.id, "session.error")]
    assert [e.type for e in errors] == ["repository_clone_error", "repository_not_found_error",
                                        "repository_checkout_error"]
    assert all(e.retry_status.type == "retrying" for e in errors)
    _all_events_conform(_emu, session.id)
    assert errors[0].repository_url == "https://github.com/octo/private"
    client.beta.sessions.events.send(session.id, events=[{"type": "user.message",
                                                          "content": [{"type": "text", "text": "still here"}]}])
    assert _wait_idle(client, session.id).stop_reason.type == "end_turn"


def test_memory_stores_persist_across_sessions_and_read_only_is_read_only(sdk, tmp_path):
    emu, client, env = sdk
    agent = _agent(client)
    notes = client.beta.memory_stores.create(name="Notes 01").id
    first = client.beta.sessions.create(agent=agent, environment_id=env, resources=[
        {"type": "memory_store", "memory_store_id": notes, "instructions": "Keep notes here."}])
    (res,) = first.resources
    assert (res.type, res.mount_path, res.access) == ("memory_store", "/mnt/memory/notes-01", "read_write")
    _sandbox(emu, first.id).host(res.mount_path + "/prefs.md").write_text("likes tables\n")
    second = client.beta.sessions.create(agent=agent, environment_id=env, resources=[
        {"type": "memory_store", "memory_store_id": notes, "access": "read_only"}])
    mounted = _sandbox(emu, second.id).host("/mnt/memory/notes-01/prefs.md")
    assert mounted.read_text() == "likes tables\n"
    assert not mounted.stat().st_mode & 0o222
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"name": "w", "steps": [{"tool": "write", "input": {
        "file_path": "/mnt/memory/notes-01/prefs.md", "content": "changed"}}]}))
    client.beta.sessions.events.send(second.id, events=[{"type": "user.message", "content": [
        {"type": "text", "text": f"[[emulator: scenario {path}]]\nwrite"}]}])
    _wait_idle(client, second.id)
    (result,) = _events(client, second.id, "agent.tool_result")
    assert result.is_error is True and mounted.read_text() == "likes tables\n"
    from anthropic.types.beta import BetaManagedAgentsSession

    assert conforms(BetaManagedAgentsSession, emu.store.sessions[first.id].session) == []
    listed = client.beta.sessions.list(memory_store_id=notes)
    assert {s.id for s in listed} == {first.id, second.id}
    with pytest.raises(anthropic.BadRequestError, match="at most 8"):
        client.beta.sessions.create(agent=agent, environment_id=env, resources=[
            {"type": "memory_store", "memory_store_id": f"memstore_{i}"} for i in range(9)])  # counted first


def _mcp_agent(client, url="https://docs.test/mcp", policy=None):
    toolset = {"type": "mcp_toolset", "mcp_server_name": "docs"}
    if policy:
        toolset["default_config"] = {"permission_policy": {"type": policy}}
    return _agent(client, mcp_servers=[{"type": "url", "name": "docs", "url": url}], tools=[TOOLSET, toolset])


def test_unreachable_mcp_servers_fail_to_connect(sdk):
    _emu, client, env = sdk
    session = client.beta.sessions.create(
        agent=client.beta.agents.create(name="m", model="claude-sonnet-4-6", tools=[
            TOOLSET, {"type": "mcp_toolset", "mcp_server_name": "gh"}],
            mcp_servers=[{"type": "url", "name": "gh", "url": "https://api.github.com/mcp"}]).id,
        environment_id=env)
    (error,) = [e.error for e in _events(client, session.id, "session.error")]
    assert error.type == "mcp_connection_failed_error" and error.mcp_server_name == "gh"


def _mcp_turn(client, env, agent, scenario_dir):
    steps = [{"mcp": "search", "server": "docs", "input": {"q": "merge"}, "result": "3 pages", "say": "Searching."},
             {"say": "Done."}]
    path = scenario_dir / "mcp.json"
    path.write_text(json.dumps({"name": "mcp", "steps": steps}))
    session = client.beta.sessions.create(agent=agent, environment_id=env)
    client.beta.sessions.events.send(session.id, events=[{"type": "user.message", "content": [
        {"type": "text", "text": f"[[emulator: scenario {path}]]\ngo"}]}])
    return session.id


@pytest.mark.parametrize("answer", ["allow", "deny"])
def test_mcp_tool_calls_ask_by_default(sdk, tmp_path, answer):
    emu, client, env = sdk
    sid = _mcp_turn(client, env, _mcp_agent(client), tmp_path)
    idle = _wait_idle(client, sid)
    assert idle.stop_reason.type == "requires_action"
    (use,) = _events(client, sid, "agent.mcp_tool_use")
    assert (use.name, use.mcp_server_name, use.evaluated_permission) == ("search", "docs", "ask")
    assert idle.stop_reason.event_ids == [use.id]
    confirmation = {"type": "user.tool_confirmation", "tool_use_id": use.id, "result": answer}
    if answer == "deny":
        confirmation["deny_message"] = "not now"
    client.beta.sessions.events.send(sid, events=[confirmation])
    deadline = time.monotonic() + 20
    while not _events(client, sid, "agent.mcp_tool_result") or client.beta.sessions.retrieve(sid).status != "idle":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (result,) = _events(client, sid, "agent.mcp_tool_result")
    assert result.mcp_tool_use_id == use.id
    _all_events_conform(emu, sid)
    if answer == "allow":
        assert result.is_error is False and result.content[0].text == "3 pages"
    else:
        assert result.is_error is True and "not now" in result.content[0].text


def test_mcp_always_allow_runs_without_asking(sdk, tmp_path):
    _emu, client, env = sdk
    sid = _mcp_turn(client, env, _mcp_agent(client, policy="always_allow"), tmp_path)
    assert _wait_idle(client, sid).stop_reason.type == "end_turn"
    (result,) = _events(client, sid, "agent.mcp_tool_result")
    assert result.content[0].text == "3 pages"
    assert not _events(client, sid, "session.error")


def test_mcp_blocked_by_limited_networking(sdk):
    _emu, client, _env = sdk
    env = client.beta.environments.create(name="lim", config={"type": "cloud", "networking": {"type": "limited"}})
    session = client.beta.sessions.create(agent=_mcp_agent(client), environment_id=env.id)
    (error,) = [e.error for e in _events(client, session.id, "session.error")]
    assert error.type == "mcp_connection_failed_error"


def test_coordinator_rosters_are_checked(sdk):
    _emu, client, _env = sdk
    worker = _agent(client)
    boss = _agent(client, multiagent={"type": "coordinator", "agents": [worker, {"type": "self"}]})
    roster = client.beta.agents.retrieve(boss).multiagent.agents
    assert [(getattr(a, "id", None), a.type) for a in roster] == [(worker, "agent"), (boss, "agent")]
    for agents, match in [(["agent_missing"], "was not found"), ([worker, worker], "listed twice"),
                          ([boss], "itself a coordinator")]:
        with pytest.raises(anthropic.BadRequestError, match=match):
            _agent(client, multiagent={"type": "coordinator", "agents": agents})
