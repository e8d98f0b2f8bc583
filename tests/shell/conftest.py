"""A real IPython shell with the extension loaded, on the offline emulator (one per module)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def emu():
    from nb_agents import client

    emulator = client.go_offline()
    yield emulator
    client.go_online()


@pytest.fixture()
def ip(emu, monkeypatch):
    from IPython.testing.globalipapp import get_ipython, start_ipython

    from nb_agents.session import registry

    monkeypatch.setenv("NB_AGENTS_VIEW", "text")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("NB_AGENTS_INTERRUPT_WAIT", "10")
    shell = start_ipython() or get_ipython()
    shell.run_line_magic("load_ext", "nb_agents")
    registry().clear()
    emu.faults.reset()
    yield shell
    registry().clear()
    emu.faults.reset()
    shell.run_line_magic("unload_ext", "nb_agents")


@pytest.fixture()
def scenario(tmp_path):
    """Write steps as a scenario file; returns the directive line that selects it."""

    def make(steps, name="s"):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"name": name, "steps": steps}))
        return f"[[emulator: scenario {path}]]\n"

    return make


ECHO = "[[emulator: echo]]\n"
