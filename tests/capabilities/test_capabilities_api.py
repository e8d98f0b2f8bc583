"""The surface through the Python API (`nb_agents.session(...).ask(...)`) on the in-kernel emulator."""

from __future__ import annotations

import builtins
import json

import pytest

import nb_agents
from nb_agents.api import list_agents, list_environments
from nb_agents.errors import ConfigError
from nb_agents.view import render_html, render_text

from .conftest import ECHO


def _remote(sess):
    return sess.client.beta.sessions.retrieve(sess.session_id)


def test_environment_packages_networking_and_reuse_by_config_hash(api):
    kw = {"packages": "pip:pandas apt:ffmpeg", "network": "limited", "allow_package_managers": True,
          "allow_hosts": ["example.com"], "environment_name": "surface-env"}
    first = nb_agents.session("e1", **kw)
    first.ask(ECHO + "hi", live=False)
    second = nb_agents.session("e2", **kw)
    second.ask(ECHO + "hi", live=False)
    env_id = _remote(first).environment_id
    assert _remote(second).environment_id == env_id  # found again by name + config hash
    env = first.client.beta.environments.retrieve(env_id)
    assert env.config.packages.apt == ["ffmpeg"] and env.config.packages.pip == ["pandas"]
    assert env.config.networking.type == "limited" and env.config.networking.allowed_hosts == ["example.com"]
    (row,) = [r for r in list_environments(first.client) if r["id"] == env_id]
    assert row["packages"] == "pip:pandas apt:ffmpeg" and row["networking"].startswith("limited (hosts: example.com)")
    third = nb_agents.session("e3", **{**kw, "packages": "pip:polars"})
    third.ask(ECHO + "hi", live=False)
    assert _remote(third).environment_id == env_id  # a changed config updates the same environment
    assert first.client.beta.environments.retrieve(env_id).config.packages.pip == ["polars"]
    with pytest.raises(ConfigError, match="--allow-package-managers"):
        nb_agents.session("e4", packages="pip:x", network="limited").ask(ECHO + "hi", live=False)


def test_skills_versions_and_pinning(api):
    s = nb_agents.session("sk", skills="xlsx,skill_01custom@3", agent_name="surface-skills")
    s.ask(ECHO + "hi", live=False)
    agent = _remote(s).agent
    assert [(k.type, k.skill_id, k.version) for k in agent.skills] == [
        ("anthropic", "xlsx", "20251013"), ("custom", "skill_01custom", "3")]
    s2 = nb_agents.session("sk2", skills="pdf", agent_name="surface-skills")
    s2.ask(ECHO + "hi", live=False)
    assert _remote(s2).agent.id == agent.id and _remote(s2).agent.version == agent.version + 1
    (row,) = [r for r in list_agents(s.client) if r["id"] == agent.id]
    assert row["versions"] == [agent.version, agent.version + 1] and row["skills"] == "pdf@20251013"
    pinned = nb_agents.session("pin", agent_id=f"{agent.id}@{agent.version}")
    pinned.ask(ECHO + "hi", live=False)
    assert _remote(pinned).agent.version == agent.version and _remote(pinned).agent.skills[0].skill_id == "xlsx"
    with pytest.raises(ConfigError, match="at most 20 skills"):
        nb_agents.session("many", skills=[f"skill_{i}" for i in range(21)]).ask(ECHO + "hi", live=False)


def test_repository_memory_vault_title_and_metadata(api, git_repo, monkeypatch):
    from nb_agents.api import session_params as session_config

    monkeypatch.setattr(session_config, "_shell", lambda: None)  # plain Python: no notebook, no cell number
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("SURFACE_TOKEN", "ghp_do_not_store")
    client = api.client()  # ids are sent as given: they must exist
    store, vault = client.beta.memory_stores.create(name="api").id, client.beta.vaults.create(display_name="x").id
    s = nb_agents.session("res", repos=[f"{git_repo}@feature", "https://github.com/octo/unreachable"],
                          repo_token_env="SURFACE_TOKEN", memory=[f"{store}:read_only"], vaults=[vault])
    run = s.ask(ECHO + "hi", live=False)
    remote = _remote(s)
    assert remote.vault_ids == [vault] and remote.title == "nb_agents: res"
    assert remote.metadata["created_by"] == "nb_agents" and remote.metadata["nb_agents_session"] == "res"
    info = s.info()
    assert info["resources"] == [f"repo {git_repo} at /workspace/demo-repo",
                                 "repo https://github.com/octo/unreachable at /workspace/unreachable",
                                 f"memory {store} (read_only) at /mnt/memory/api"]
    (error,) = run.transcript.errors
    assert error.error_type == "repository_clone_error"
    assert "continues without this repository" in render_text(run.transcript)
    everything = json.dumps([remote.model_dump(mode="json"), s.defaults, repr(s.options())]) + repr(run.events)
    assert "ghp_do_not_store" not in everything


def test_outcome_runs_to_a_verdict(api):
    s = nb_agents.session("out")
    run = s.ask("[[emulator: scenario outcome]]\nwrite the draft", outcome="A draft with a summary",
                rubric="The draft has a summary line.", max_iterations=4, live=False)
    assert run.stop_reason == "end_turn"
    o = run.outcome
    assert (o.result, o.iterations, o.explanation, o.max_iterations) == (
        "satisfied", 2, "The draft has a summary now.", 4)
    assert o.satisfied and o.description.startswith("A draft with a summary")
    (sent,) = [e for e in run.events if e.type == "user.define_outcome"]
    assert sent.rubric.content == "The draft has a summary line." and sent.max_iterations == 4
    (evaluation,) = _remote(s).outcome_evaluations
    assert (evaluation.outcome_id, evaluation.result, evaluation.iteration) == (o.outcome_id, "satisfied", 1)
    assert "needs_revision" in [e.result for e in run.events if e.type == "span.outcome_evaluation_end"]
    html = render_html(run.transcript)
    assert "Outcome" in html and "satisfied" in html and "2 evaluations" in html
    with pytest.raises(ConfigError, match="--rubric"):
        s.ask("again", outcome="Another", live=False)


def test_mcp_tools_ask_through_the_approval_flow(api, scenario, monkeypatch):
    answers = iter(["y", "no thanks"])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    steps = [{"mcp": "search", "server": "docs", "input": {"q": "merge"}, "result": "3 pages", "say": "Searching."},
             {"mcp": "fetch", "server": "docs", "input": {"page": 1}, "result": "page 1"},
             {"say": "Done."}]
    s = nb_agents.session("mcp", mcp=["docs=https://docs.test/mcp"])
    run = s.ask(scenario(steps) + "look it up", live=False)
    assert run.stop_reason == "end_turn"
    search, fetch = run.tool_calls
    assert (search.kind, search.server, search.name, search.status, search.result_text) == (
        "mcp", "docs", "search", "done", "3 pages")
    assert fetch.is_error and "no thanks" in fetch.result_text
    text = render_text(run.transcript)
    assert "docs" in text and "search" in text
    toolsets = [t for t in _remote(s).agent.tools if t.type == "mcp_toolset"]
    assert toolsets[0].mcp_server_name == "docs" and toolsets[0].default_config.permission_policy.type == "always_ask"


def test_subagents_coordinator_and_threads(api):
    client = nb_agents.session("probe").connect()
    reviewer = client.beta.agents.create(name="surface-reviewer", model="claude-sonnet-4-6",
                                         tools=[{"type": "agent_toolset_20260401"}])
    s = nb_agents.session("coord", subagents=[reviewer.id], agent_name="surface-coordinator")
    run = s.ask("[[emulator: scenario threads]]\nget it reviewed", live=False)
    roster = _remote(s).agent.multiagent.agents
    assert [(a.id, a.version) for a in roster] == [(reviewer.id, 1)]
    html = render_html(run.transcript)
    assert "thread <b>reviewer</b>" in html and "Reviewed: two typos fixed." in html
    text = render_text(run.transcript)
    assert "-> reviewer: Please review the draft." in text and "<- reviewer: Reviewed: two typos fixed." in text


def test_outcome_with_the_default_brain_revises_once(api):
    s = nb_agents.session("grader")
    run = s.ask("[[emulator: echo]]\nsummarise", outcome="A one-line summary", rubric="One line.", live=False)
    ends = [(e.iteration, e.result) for e in run.events if e.type == "span.outcome_evaluation_end"]
    assert ends == [(0, "needs_revision"), (1, "satisfied")]
    assert run.outcome.result == "satisfied" and run.outcome.iterations == 2 and run.stop_reason == "end_turn"
    (record,) = _remote(s).outcome_evaluations
    assert record.result == "satisfied" and record.iteration == 1 and record.completed_at is not None


def test_custom_tools_keep_the_mcp_toolsets(api, monkeypatch):
    monkeypatch.setattr(builtins, "input", lambda prompt="": "y")

    def word_count(text: str) -> int:
        """Count the words of a text."""
        return len(text.split())

    s = nb_agents.session("mix", mcp=["docs=https://docs.test/mcp"])
    s.ask(ECHO + "first", live=False)  # created with the agent's own tools (+ its MCP toolset)
    s.ask(ECHO + "second", tools=[word_count], live=False)  # a later cell's custom tool: sessions.update
    kinds = [(t.type, getattr(t, "name", None) or getattr(t, "mcp_server_name", None)) for t in _remote(s).agent.tools]
    assert ("mcp_toolset", "docs") in kinds and ("custom", "word_count") in kinds
    both = nb_agents.session("both", mcp=["docs=https://docs.test/mcp"])
    both.ask(ECHO + "hi", tools=[word_count], ask="bash", live=False)  # created with overrides at once
    kinds = [t.type for t in _remote(both).agent.tools]
    assert kinds.count("mcp_toolset") == 1 and "custom" in kinds


def test_dropping_skills_mcp_and_subagents_clears_them_on_the_agent(api):
    client = nb_agents.session("probe2").connect()
    helper = client.beta.agents.create(name="surface-helper", model="claude-sonnet-4-6",
                                       tools=[{"type": "agent_toolset_20260401"}])
    full = nb_agents.session("full", agent_name="surface-clear", skills="pdf", mcp=["docs=https://docs.test/mcp"],
                             subagents=[helper.id])
    full.ask(ECHO + "hi", live=False)
    plain = nb_agents.session("plain", agent_name="surface-clear")
    plain.ask(ECHO + "hi", live=False)  # same agent, a new version without them (update keeps omitted fields)
    before, after = _remote(full).agent, _remote(plain).agent
    assert after.id == before.id and after.version == before.version + 1
    assert before.skills and before.mcp_servers and before.multiagent is not None
    assert after.skills == [] and after.mcp_servers == [] and after.multiagent is None
    assert [t.type for t in after.tools] == ["agent_toolset_20260401"]
