"""Fixtures for the surface tests (environments, skills, repositories, MCP, memory, outcomes,
threads): the in-kernel emulator, a real IPython shell with the extension, scenario files and a
local git repository. Outputs go to a temporary working directory."""

from __future__ import annotations

import json
import subprocess

import pytest


@pytest.fixture(scope="module")
def emu():
    from nb_agents import client

    emulator = client.go_offline()
    yield emulator
    client.go_online()


@pytest.fixture()
def api(emu, monkeypatch, tmp_path):
    """The Python API on the emulator: a clean registry, text views, cwd = tmp_path."""
    from nb_agents.session import registry

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NB_AGENTS_VIEW", "text")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    registry().clear()
    emu.faults.reset()
    yield emu
    registry().clear()


@pytest.fixture()
def ip(api):
    from IPython.testing.globalipapp import get_ipython, start_ipython

    shell = start_ipython() or get_ipython()
    shell.run_line_magic("load_ext", "nb_agents")
    yield shell
    shell.user_ns.pop("__session__", None)
    shell.run_line_magic("unload_ext", "nb_agents")


@pytest.fixture()
def scenario(tmp_path):
    """Write steps as a scenario file; returns the directive line that selects it."""

    def make(steps, name="s"):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"name": name, "steps": steps}))
        return f"[[emulator: scenario {path}]]\n"

    return make


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   check=True, capture_output=True, timeout=30)


@pytest.fixture()
def git_repo(tmp_path):
    """A local git repository: README.md on main, feature.txt only on branch `feature`."""
    repo = tmp_path / "src" / "demo-repo"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, timeout=30)
    (repo / "README.md").write_text("hello\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "init")
    _git(repo, "checkout", "-qb", "feature")
    (repo / "feature.txt").write_text("feature\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "feature")
    _git(repo, "checkout", "-q", "main")
    return repo


ECHO = "[[emulator: echo]]\n"
