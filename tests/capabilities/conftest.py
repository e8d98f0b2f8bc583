"""Fixtures for the capability tests (environments, skills, repositories, MCP, memory, outcomes,
threads): the in-kernel emulator, a real IPython shell with the extension, scenario files and a
local git repository. Outputs go to a temporary working directory."""

from __future__ import annotations

import subprocess

import pytest
from agent_shell import ECHO, clean_sessions, extension_loaded, offline_emulator, offline_env, scenario_writer

__all__ = ["ECHO"]


@pytest.fixture(scope="module")
def emu():
    yield from offline_emulator()


@pytest.fixture()
def api(emu, monkeypatch, tmp_path):
    """The Python API on the emulator: a clean registry, text views, cwd = tmp_path."""
    monkeypatch.chdir(tmp_path)
    offline_env(monkeypatch)
    with clean_sessions(emu):
        yield emu


@pytest.fixture()
def ip(api):
    with extension_loaded() as shell:
        yield shell
        shell.user_ns.pop("__session__", None)


@pytest.fixture()
def scenario(tmp_path):
    """Write steps as a scenario file; returns the directive line that selects it."""
    return scenario_writer(tmp_path)


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

