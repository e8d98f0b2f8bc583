"""api/agent_params.py and api/session_params.py: Options -> agent / environment / session / outcome params, and its one-line errors."""

from __future__ import annotations

import types

import pytest

from nb_agents.api import agent_params as ac
from nb_agents.api import config_hash
from nb_agents.api import session_params as sp
from nb_agents.config import Options, resolve_options
from nb_agents.errors import ConfigError


def opts(**kw):
    return resolve_options(kw, environ={}, start=None)


def test_list_options_accept_strings_from_flags_env_and_pyproject(tmp_path):
    o = opts(packages="pip:pandas,scikit-learn apt:ffmpeg numpy", skills="xlsx, pdf")
    assert o.packages == ("pip:pandas", "pip:scikit-learn", "apt:ffmpeg", "pip:numpy")
    assert o.skills == ("xlsx", "pdf")
    env = resolve_options({}, environ={"NB_AGENTS_MCP": "docs=https://docs.test/mcp", "NB_AGENTS_NETWORK": "limited"})
    assert env.mcp == ("docs=https://docs.test/mcp",) and env.network == "limited" and env.sources["mcp"] == "env"
    (tmp_path / "pyproject.toml").write_text('[tool.nb_agents]\nskills = ["docx"]\nmax-iterations = 5\n')
    py = resolve_options({}, environ={}, start=tmp_path)
    assert py.skills == ("docx",) and py.max_iterations == 5 and py.sources["skills"] == "pyproject"


def test_packages_by_manager_and_unknown_manager():
    assert ac.parse_packages(("pandas", "apt:ffmpeg", "npm:left-pad")) == {
        "pip": ["pandas"], "apt": ["ffmpeg"], "npm": ["left-pad"]}
    with pytest.raises(ConfigError, match=r"unknown package manager 'ap' \(did you mean 'apt'\?\)"):
        ac.parse_packages(("ap:ffmpeg",))


def test_environment_networking_rules():
    default = ac.environment_config(Options())
    assert default == {"type": "cloud", "networking": {"type": "unrestricted"},
                       "packages": {"type": "packages", "pip": ["pandas", "numpy", "matplotlib", "pyarrow"]}}
    with pytest.raises(ConfigError, match="--allow-package-managers"):
        ac.environment_config(opts(network="limited", packages="pip:pandas"))
    with pytest.raises(ConfigError, match="need --network limited"):
        ac.environment_config(opts(allow_hosts=["pypi.org"]))
    limited = ac.environment_config(opts(network="limited", packages="apt:ffmpeg", allow_package_managers=True,
                                         allow_hosts="example.com,api.test", allow_mcp_servers=True))
    assert limited["networking"] == {"type": "limited", "allowed_hosts": ["example.com", "api.test"],
                                     "allow_package_managers": True, "allow_mcp_servers": True}
    assert limited["packages"] == {"type": "packages", "apt": ["ffmpeg"]}
    with pytest.raises(ConfigError, match="network"):
        ac.environment_config(opts(network="open"))


def test_skills_anthropic_custom_versions_and_limits():
    assert ac.parse_skills(("xlsx", "skill_01abc@3", "skill_x")) == [
        {"type": "anthropic", "skill_id": "xlsx"},
        {"type": "custom", "skill_id": "skill_01abc", "version": "3"},
        {"type": "custom", "skill_id": "skill_x"},
    ]
    with pytest.raises(ConfigError, match=r"'xslx'.*did you mean 'xlsx'"):
        ac.parse_skills(("xslx",))
    with pytest.raises(ConfigError, match="at most 20 skills"):
        ac.parse_skills(tuple(f"skill_{i}" for i in range(21)))
    with pytest.raises(ConfigError, match="listed twice"):
        ac.parse_skills(("pdf", "pdf@2"))


def test_mcp_servers_toolsets_and_subagents():
    o = opts(mcp=["docs=https://docs.test/mcp"], subagents="agent_a,agent_b@2,self", skills="pdf")
    params = ac.agent_params(o, {"model": "m", "system": "s", "tools": [{"type": "agent_toolset_20260401"}]})
    assert params["mcp_servers"] == [{"type": "url", "name": "docs", "url": "https://docs.test/mcp"}]
    assert params["tools"][1] == {"type": "mcp_toolset", "mcp_server_name": "docs",
                                  "default_config": {"permission_policy": {"type": "always_ask"}}}
    assert params["multiagent"] == {"type": "coordinator", "agents": [
        "agent_a", {"type": "agent", "id": "agent_b", "version": 2}, {"type": "self"}]}
    assert params["skills"] == [{"type": "anthropic", "skill_id": "pdf"}]
    # the default agent's params (and so its config hash) are unchanged by the new options
    base = {"model": "m", "system": "s", "tools": []}
    assert config_hash(ac.agent_params(Options(), base)) == config_hash(base)
    assert ac.cleared_fields(base) == {"skills": [], "mcp_servers": [], "multiagent": None}
    for bad, match in [("docs", "NAME=URL"), ("docs=ftp://x", "https://"), ("a=https://x,a=https://y", "twice")]:
        with pytest.raises(ConfigError, match=match):
            ac.mcp_servers(bad.split(","))


def test_agent_ref_pins_a_version():
    assert ac.split_agent_ref("agent_01x") == ("agent_01x", None)
    assert ac.split_agent_ref("agent_01x@4") == ("agent_01x", 4)
    with pytest.raises(ConfigError, match="whole number"):
        ac.split_agent_ref("agent_01x@latest")


def test_repositories_checkout_and_token_from_the_environment():
    o = opts(repos=["https://github.com/o/r@main", "https://github.com/o/s.git@0123abc", "git@github.com:o/t.git"],
             repo_token_env="GH_TOKEN")
    res = sp.repo_resources(o, environ={"GH_TOKEN": "ghp_secret"})
    assert res[0] == {"type": "github_repository", "url": "https://github.com/o/r",
                      "checkout": {"type": "branch", "name": "main"}, "authorization_token": "ghp_secret"}
    assert res[1]["checkout"] == {"type": "commit", "sha": "0123abc"}
    assert res[2]["url"] == "git@github.com:o/t.git" and "checkout" not in res[2]
    assert "ghp_secret" not in repr(o)  # only the variable's name is an option
    with pytest.raises(ConfigError, match="GH_TOKEN is not set"):
        sp.repo_resources(o, environ={})


def test_memory_stores_and_vaults():
    o = opts(memory=["memstore_a", "memstore_b:read_only"], vaults="vlt_1")
    kw = sp.session_kwargs(o, "default", shell=types.SimpleNamespace(user_ns={}, execution_count=0))
    assert kw["resources"] == [{"type": "memory_store", "memory_store_id": "memstore_a"},
                               {"type": "memory_store", "memory_store_id": "memstore_b", "access": "read_only"}]
    assert kw["vault_ids"] == ["vlt_1"]
    with pytest.raises(ConfigError, match="memory store id"):
        sp.memory_resources(opts(memory=["notes"]))
    with pytest.raises(ConfigError, match="read_only or read_write"):
        sp.memory_resources(opts(memory=["memstore_a:ro"]))
    with pytest.raises(ConfigError, match="vault id"):
        sp.session_kwargs(opts(vaults=["v1"]), "x", shell=types.SimpleNamespace(user_ns={}, execution_count=0))


def test_title_and_metadata_name_the_notebook_and_cell(monkeypatch):
    shell = types.SimpleNamespace(user_ns={"__session__": "/home/me/work/analysis.ipynb"}, execution_count=7)
    assert sp.session_title(Options(), "default", shell) == "analysis.ipynb cell 7 · default"
    meta = sp.session_metadata("default", shell)
    assert meta["created_by"] == "nb_agents" and meta["notebook"] == "analysis.ipynb" and meta["cell"] == "7"
    monkeypatch.setenv("JPY_SESSION_NAME", "/srv/other.ipynb")
    bare = types.SimpleNamespace(user_ns={}, execution_count=None)
    assert sp.session_title(Options(), "s", bare) == "other.ipynb · s"
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert sp.session_title(Options(), "s", bare) == "nb_agents: s"
    assert sp.session_title(opts(title="Mine"), "s", shell) == "Mine"
    long = sp.session_metadata("x" * 900, shell)
    assert len(long) <= 16 and all(len(k) <= 64 and len(v) <= 512 for k, v in long.items())


def test_turn_events_message_or_outcome(tmp_path):
    assert sp.turn_events("hi", Options()) == [{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]
    with pytest.raises(ConfigError, match="--rubric"):
        sp.turn_events("hi", opts(outcome="A report"))
    rubric = tmp_path / "rubric.md"
    rubric.write_text("- has a title\n- has a chart\n")
    (event,) = sp.turn_events("use the data", opts(outcome="A report", rubric=str(rubric), max_iterations=5))
    assert event == {"type": "user.define_outcome", "description": "A report\n\nuse the data",
                     "rubric": {"type": "text", "content": "- has a title\n- has a chart\n"}, "max_iterations": 5}
    (inline,) = sp.turn_events("", opts(outcome="A report", rubric="Has a title"))
    assert inline["description"] == "A report" and inline["rubric"]["content"] == "Has a title"
    with pytest.raises(ConfigError, match="1 to 20"):
        sp.turn_events("x", opts(outcome="A", rubric="r", max_iterations=21))
