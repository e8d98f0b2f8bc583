"""Fixtures for background runs and fan-out: the in-kernel emulator (one per module) and a real
IPython shell with the extension loaded (text view, so nothing needs a frontend)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def emu():
    from nb_agents import client

    emulator = client.go_offline()
    yield emulator
    client.go_online()


@pytest.fixture()
def ip(emu, monkeypatch, tmp_path):
    from IPython.testing.globalipapp import get_ipython, start_ipython

    from nb_agents.session import registry

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NB_AGENTS_VIEW", "text")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("NB_AGENTS_INTERRUPT_WAIT", "10")
    shell = start_ipython() or get_ipython()
    shell.run_line_magic("load_ext", "nb_agents")
    registry().clear()
    emu.faults.reset()
    yield shell
    for sess in list(registry().values()):
        if sess.active is not None and not sess.active.done:
            sess.active.interrupt()
            sess.active.wait(20, show=False)
    registry().clear()
    emu.faults.reset()
    shell.run_line_magic("unload_ext", "nb_agents")


def user_messages(emu, session_id: str) -> int:
    """How many user.message events the emulator holds for a session (exactly-once checks)."""
    c = emu.client(max_retries=0)
    try:
        return sum(1 for e in c.beta.sessions.events.list(session_id, limit=1000) if e.type == "user.message")
    finally:
        c.close()
