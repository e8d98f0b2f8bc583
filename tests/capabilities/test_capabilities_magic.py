"""Agent capabilities through `%%agent` flags, `%config` and `%agent envs/agents/status` in a real shell."""

from __future__ import annotations

import builtins

import pytest

from nb_agents.errors import ConfigError
from nb_agents.view import render_text

from .conftest import ECHO


def cell(ip, line, body):
    ip.run_cell_magic("agent", line, body)
    return ip.user_ns["_agent"]


def _remote(ip, name="default"):
    from nb_agents.sessions import registry

    sess = registry()[name]
    return sess.client.beta.sessions.retrieve(sess.session_id)


def test_environment_flags_and_envs_listing(ip):
    run = cell(ip, '--packages "pip:pandas,scikit-learn apt:ffmpeg" --network limited --allow-package-managers '
                   "--allow-host pypi.org --allow-host files.pythonhosted.org", ECHO + "hi")
    env = run and ip.run_line_magic("agent", "envs")
    (row,) = [r for r in env if r["id"] == _remote(ip).environment_id]
    assert row["packages"] == "pip:pandas,scikit-learn apt:ffmpeg"
    assert row["networking"] == "limited (hosts: pypi.org, files.pythonhosted.org) + package managers"
    assert "pip:pandas,scikit-learn apt:ffmpeg" in repr(env)


def test_refusals_are_one_line_errors(ip, capsys):
    with pytest.raises(ConfigError, match="--allow-package-managers"):
        cell(ip, '--network limited --packages "pip:pandas"', ECHO + "hi")
    with pytest.raises(ConfigError, match=r"'xslx'.*did you mean 'xlsx'"):
        cell(ip, "--skills xlsx,xslx", ECHO + "hi")
    with pytest.raises(ConfigError, match="NAME=URL"):
        cell(ip, "--mcp docs", ECHO + "hi")
    with pytest.raises(ConfigError, match="--rubric"):
        cell(ip, '--outcome "A report"', ECHO + "hi")
    ip.run_cell('%%agent --memory notes:ro\nhi')
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["ConfigError: memory: access 'ro' in 'notes:ro' must be read_only or read_write"]


def test_config_defaults_apply_to_cells(ip):
    ip.run_line_magic("config", 'AgentMagic.skills = ["docx"]')
    try:
        cell(ip, "", ECHO + "hi")
        assert [s.skill_id for s in _remote(ip).agent.skills] == ["docx"]
    finally:
        ip.run_line_magic("config", "AgentMagic.skills = []")


def test_repo_memory_status_title_and_metadata(ip, emu, git_repo):
    ip.user_ns["__session__"] = "/home/me/analysis.ipynb"
    store = emu.client().beta.memory_stores.create(name="nb").id  # an id is sent as given: it must exist
    run = cell(ip, f"--repo {git_repo}@feature --repo https://github.com/octo/private --memory {store}:read_only",
               ECHO + "hi")
    remote = _remote(ip)
    assert remote.title.startswith("analysis.ipynb cell ") and remote.title.endswith(" · default")
    assert remote.metadata["notebook"] == "analysis.ipynb" and remote.metadata["created_by"] == "nb_agents"
    status = repr(ip.run_line_magic("agent", "status"))
    assert f"memory {store} (read_only) at /mnt/memory/nb" in status
    assert f"repo {git_repo} at /workspace/demo-repo" in status
    (error,) = run.transcript.errors
    assert error.error_type == "repository_clone_error"
    assert "continues without this repository" in render_text(run.transcript)


def test_mcp_and_vault_flags_with_approval(ip, emu, scenario, monkeypatch):
    monkeypatch.setattr(builtins, "input", lambda prompt="": "y")
    steps = [{"mcp": "search", "server": "docs", "input": {"q": "x"}, "result": "found", "say": "Looking."},
             {"say": "Found it."}]
    vault = emu.client().beta.vaults.create(display_name="creds").id
    run = cell(ip, f"--mcp docs=https://docs.test/mcp --vault {vault}", scenario(steps) + "search")
    (call,) = run.tool_calls
    assert (call.kind, call.server, call.status, call.result_text) == ("mcp", "docs", "done", "found")
    assert _remote(ip).vault_ids == [vault] and run.text.endswith("Found it.")
    assert "MCP docs (tools ask first)" in render_text(run.transcript)  # the set-up line of a new session


def test_outcome_flags(ip, tmp_path):
    (tmp_path / "rubric.md").write_text("- has a summary\n")
    run = cell(ip, '--outcome "A draft with a summary" --rubric rubric.md --max-iterations 5',
               "[[emulator: scenario outcome]]\ndraft it")
    assert run.outcome.result == "satisfied" and run.outcome.iterations == 2
    (sent,) = [e for e in run.events if e.type == "user.define_outcome"]
    assert sent.max_iterations == 5 and sent.rubric.content == "- has a summary\n"
    shown = render_text(run.transcript)
    assert "satisfied" in shown and "outcome: A draft with a summary (up to 5 evaluations)" in shown
    assert (tmp_path / "agent_outputs" / "default" / "draft.md").is_file()


def test_subagents_agents_listing_and_version_pin(ip):
    from nb_agents.api import make_client

    client = make_client()
    reviewer = client.beta.agents.create(name="magic-reviewer", model="claude-sonnet-4-6",
                                         tools=[{"type": "agent_toolset_20260401"}])
    run = cell(ip, f"-s coord --subagents {reviewer.id}", "[[emulator: scenario threads]]\nreview it")
    coordinator = _remote(ip, "coord").agent
    assert coordinator.multiagent.agents[0].id == reviewer.id
    shown = render_text(run.transcript)
    assert "thread reviewer" in shown and "<- reviewer: Reviewed: two typos fixed." in shown
    client.beta.agents.update(reviewer.id, system="Review carefully.")
    listing = ip.run_line_magic("agent", "agents")
    (row,) = [r for r in listing if r["id"] == reviewer.id]
    assert row["versions"] == "1,2" and row["version"] == 2
    cell(ip, f"-s pinned --agent {reviewer.id}@1", ECHO + "hi")
    assert _remote(ip, "pinned").agent.version == 1 and _remote(ip, "pinned").agent.system is None
