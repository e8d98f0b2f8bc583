"""`python -m nb_agents.emulator --port 0` prints its base URL and serves until interrupted,
and the in-process handle cleans up after itself."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import anthropic
import numpy as np
import pandas as pd
import pytest

from nb_agents.emulator import Emulator, start_emulator


@pytest.fixture(scope="module")
def cli_url(tmp_path_factory: Any) -> Iterator[str]:
    """A standalone `python -m nb_agents.emulator --port 0` (default brain: the analyst)."""
    root = tmp_path_factory.mktemp("cli-sandboxes")
    cmd = [sys.executable, "-m", "nb_agents.emulator", "--port", "0", "--sandbox-root", str(root)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0  # Ctrl-C is a clean exit


def test_cli_serves_the_api(cli_url: str) -> None:
    c: Any = anthropic.Anthropic(base_url=cli_url, api_key="anything", max_retries=0)
    agent = c.beta.agents.create(name="cli", model="claude-sonnet-4-6")
    env = c.beta.environments.create(name="cli-env")
    s = c.beta.sessions.create(agent=agent.id, environment_id=env.id)
    assert c.beta.sessions.retrieve(s.id).status == "idle"


def _msg(text: str) -> dict[str, Any]:
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}


def test_plain_sdk_walkthrough_of_the_reference(cli_url: str) -> None:
    """API reference §9: upload, session with a file resource, stream a turn, list outputs by
    scope_id, download; the analyst's profile equals pandas' own statistics."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40), "n": rng.integers(0, 9, size=40), "s": list("ab") * 20})
    df.loc[3, "x"] = None
    c: Any = anthropic.Anthropic(base_url=cli_url, api_key="anything", max_retries=0)
    up = c.beta.files.upload(file=("df.csv", df.to_csv(index=False).encode(), "text/csv"))
    agent = c.beta.agents.create(
        name="walk", model="claude-sonnet-4-6", tools=[{"type": "agent_toolset_20260401"}]
    )
    env = c.beta.environments.create(name="walk-env")
    resources = [{"type": "file", "file_id": up.id, "mount_path": "/df.csv"}]
    session = c.beta.sessions.create(agent=agent.id, environment_id=env.id, title="nb", resources=resources)
    assert session.resources[0].mount_path == "/mnt/session/uploads/df.csv"
    text = "Analyse /mnt/session/uploads/df.csv; write results to /mnt/session/outputs/"
    seen = []
    with c.beta.sessions.events.stream(session.id, event_deltas=["agent.message"]) as stream:
        c.beta.sessions.events.send(session.id, events=[_msg(text)])
        for ev in stream:
            seen.append(ev.type)
            if ev.type == "session.status_idle":
                assert ev.stop_reason.type == "end_turn"
                break
    assert {"agent.tool_use", "agent.tool_result", "event_delta", "agent.message"} <= set(seen)
    inputs = {r.file_id for r in session.resources}
    listed = c.beta.files.list(scope_id=session.id, betas=["managed-agents-2026-04-01"])
    outputs = {f.filename: f for f in listed if f.id not in inputs}
    assert {"df_profile.csv", "df_hist.png"} <= set(outputs)
    assert c.beta.files.download(outputs["df_hist.png"].id).read().startswith(b"\x89PNG")
    raw = c.beta.files.download(outputs["df_profile.csv"].id).read()
    profile = pd.read_csv(io.BytesIO(raw)).set_index("name")
    for col in ("x", "n"):
        assert profile.loc[col, "count"] == df[col].count()
        assert profile.loc[col, "nulls"] == df[col].isna().sum()
        for stat in ("mean", "std", "min", "max"):
            assert profile.loc[col, stat] == pytest.approx(getattr(df[col], stat)())
    assert profile.loc["s", "count"] == 40 and pd.isna(profile.loc["s", "mean"])


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


def test_the_listening_socket_hands_out_no_delay_tcp_connections() -> None:
    """Each accepted connection has TCP_NODELAY: without it a request on a kept-alive connection
    waited for the client's delayed ACK (~40 ms a request, docs/benchmarks.md)."""
    import socket

    from nb_agents.emulator.handle import bind_socket

    with bind_socket() as listener, socket.create_connection(listener.getsockname()[:2], timeout=5):
        assert listener.proto == socket.IPPROTO_TCP  # (asyncio sets TCP_NODELAY only on TCP sockets)
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
