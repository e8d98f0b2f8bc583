"""Fixtures for background runs and fan-out: the in-kernel emulator (one per module) and a real
IPython shell with the extension loaded (text view, so nothing needs a frontend)."""

from __future__ import annotations

import pytest
from agent_shell import agent_shell, offline_emulator


@pytest.fixture(scope="module")
def emu():
    yield from offline_emulator()


@pytest.fixture()
def ip(emu, monkeypatch, tmp_path):
    from nb_agents.sessions import registry

    monkeypatch.chdir(tmp_path)
    with agent_shell(emu, monkeypatch) as shell:
        yield shell
        # a background run a test left going must not outlive it
        for sess in list(registry().values()):
            if sess.active is not None and not sess.active.done:
                sess.active.interrupt()
                sess.active.wait(20, show=False)


def user_messages(emu, session_id: str) -> int:
    """How many user.message events the emulator holds for a session (exactly-once checks)."""
    c = emu.client(max_retries=0)
    try:
        return sum(1 for e in c.beta.sessions.events.list(session_id, limit=1000) if e.type == "user.message")
    finally:
        c.close()
