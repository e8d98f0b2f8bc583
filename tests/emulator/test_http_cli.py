"""`python -m nb_agents.emulator --port 0` prints its base URL and serves until interrupted,
and the in-process handle cleans up after itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import anthropic

from nb_agents.emulator import Emulator, start_emulator


def test_cli_serves_the_api_until_interrupted(tmp_path: Any) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nb_agents.emulator",
            "--port",
            "0",
            "--brain",
            "echo",
            "--sandbox-root",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        c = anthropic.Anthropic(base_url=url, api_key="anything", max_retries=0)
        agent = c.beta.agents.create(name="cli", model="claude-sonnet-4-6")
        env = c.beta.environments.create(name="cli-env")
        s = c.beta.sessions.create(agent=agent.id, environment_id=env.id)
        assert c.beta.sessions.retrieve(s.id).status == "idle"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0


def test_handle_lifecycle_and_sandbox_cleanup() -> None:
    emu = start_emulator("echo")
    root = emu.config.sandbox_root
    assert emu.running and root is not None and os.path.isdir(root)
    c = emu.client(max_retries=0)
    agent = c.beta.agents.create(name="h", model="claude-sonnet-4-6")
    env = c.beta.environments.create(name="h-env")
    f = c.beta.files.upload(file=("a.csv", b"a\n1\n"))
    c.beta.sessions.create(
        agent=agent.id, environment_id=env.id, resources=[{"type": "file", "file_id": f.id}]
    )
    assert emu.stats["sessions_created"] == 1 and emu.stats["requests:POST /v1/sessions"] == 1
    emu.close()
    assert not emu.running and not os.path.exists(root)
    emu.close()  # idempotent


def test_close_ends_open_streams() -> None:
    with Emulator("echo") as emu:
        c = emu.client(max_retries=0)
        agent = c.beta.agents.create(name="h", model="claude-sonnet-4-6")
        env = c.beta.environments.create(name="h-env")
        sid = c.beta.sessions.create(agent=agent.id, environment_id=env.id).id
        stream = c.beta.sessions.events.stream(sid)
    # the server stopped: the open stream ends instead of hanging
    assert list(stream) == []
