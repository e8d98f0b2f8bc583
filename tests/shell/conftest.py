"""A real IPython shell with the extension loaded, on the offline emulator (one per module)."""

from __future__ import annotations

import pytest
from agent_shell import ECHO, agent_shell, offline_emulator, scenario_writer

__all__ = ["ECHO"]


@pytest.fixture(scope="module")
def emu():
    yield from offline_emulator()


@pytest.fixture()
def ip(emu, monkeypatch):
    with agent_shell(emu, monkeypatch) as shell:
        yield shell


@pytest.fixture()
def scenario(tmp_path):
    """Write steps as a scenario file; returns the directive line that selects it."""
    return scenario_writer(tmp_path)
