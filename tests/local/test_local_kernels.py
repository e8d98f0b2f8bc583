"""Several kernels on one machine: each serves its own `nb-agents-local-<host>-<n>` environment
(local/slots.py), so none claims another's sessions; an attached session's environment is served
beside this kernel's own; a session claimed by a kernel that does not know it is said, not
silent; and a slot folder that cannot be written falls back to a per-process name in one line."""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any

from resource_kit import wait_for

import nb_agents
from nb_agents.api import make_client
from nb_agents.api.client import backend
from nb_agents.local import HOST, LocalSpec, WorkerHost
from nb_agents.local.slots import short_host, slot_folder
from nb_agents.view import render_text


def result_texts(run: Any) -> list[str]:
    return [" ".join(getattr(b, "text", "") or "" for b in (e.content or []))
            for e in run.events if e.type == "user.tool_result"]


def env_name(ip: Any, run: Any) -> str:
    client = make_client()
    remote = client.beta.sessions.retrieve(run.session_id)
    return str(client.beta.environments.retrieve(remote.environment_id).name)


def hold_slot(number: int) -> int:
    """Another kernel of this machine holding slot `number` of the current backend (its lock file)."""
    where = backend()
    folder = slot_folder() / hashlib.sha256(f"{where.kind}:{where.base_url}".encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_two_kernels_serve_their_own_environments(ip: Any, scenario: Any, tmp_path: Path) -> None:
    other = WorkerHost()  # another kernel, started first: it takes slot 0 and serves it
    try:
        name0 = other.environment_name("nb-agents-local")
        assert name0 == f"nb-agents-local-{short_host()}-0"
        client = make_client()
        env0 = client.beta.environments.create(name=name0, config={"type": "self_hosted"}).id
        other.serve(LocalSpec("someone-else", "theirs", tmp_path), environment_id=env0, concurrency=2, idle=1)
        steps = [{"tool": "bash", "input": {"command": "echo mine"}}, {"say": "done"}]
        ip.run_cell_magic("agent", "--local --auto --out r", scenario(steps) + "go")
        r = ip.user_ns["r"]
        assert r.stop_reason == "end_turn" and result_texts(r) == ["mine"]
        assert env_name(ip, r) == f"nb-agents-local-{short_host()}-1"  # this kernel's own slot
        assert HOST.claims >= 1 and other.claims == 0 and other.status()["foreign_sessions"] == []
        assert HOST.status()["environment_ids"] != [env0]
    finally:
        other.stop()


def test_a_stopped_kernel_frees_its_slot_and_the_environment_is_found_again(ip: Any, scenario: Any) -> None:
    ip.run_cell_magic("agent", "--local --auto --out r", scenario([{"say": "one"}]) + "go")
    first = make_client().beta.sessions.retrieve(ip.user_ns["r"].session_id).environment_id
    ip.run_line_magic("agent", "local stop")
    assert HOST.slot is None  # released: another kernel (or this one) may take it
    ip.run_line_magic("agent", "new")
    ip.run_cell_magic("agent", "--local --auto --out r2", scenario([{"say": "two"}], "two") + "go")
    again = make_client().beta.sessions.retrieve(ip.user_ns["r2"].session_id).environment_id
    assert again == first  # same slot, same environment: no pile-up


def test_an_attached_session_is_served_beside_this_kernels_own(ip: Any, scenario: Any) -> None:
    ip.run_cell_magic("agent", "--local --auto -s a --out ra", scenario([{"say": "a"}], "a") + "go")
    sid_a = ip.user_ns["ra"].session_id
    env_a = make_client().beta.sessions.retrieve(sid_a).environment_id
    HOST.stop()  # a new kernel, while another one holds slot 0 (the first kernel's)
    HOST.specs.clear()
    nb_agents.sessions.registry().clear()
    fd = hold_slot(0)
    try:
        steps = [{"tool": "bash", "input": {"command": "echo b"}}, {"say": "b"}]
        ip.run_cell_magic("agent", "--local --auto -s b --out rb", scenario(steps, "b") + "go")
        env_b = make_client().beta.sessions.retrieve(ip.user_ns["rb"].session_id).environment_id
        assert env_b != env_a and result_texts(ip.user_ns["rb"]) == ["b"]
        ip.run_line_magic("agent", f"attach {sid_a} --session a2")
        assert HOST.status()["environment_ids"] == [env_b, env_a]
        for name, word in (("a2", "again"), ("b", "still")):
            steps = [{"tool": "bash", "input": {"command": f"echo {word}"}}, {"say": word}]
            ip.run_cell_magic("agent", f"--local --auto -s {name} --out r", scenario(steps, word) + "go")
            assert result_texts(ip.user_ns["r"])[-1] == word
        assert "running for environment" in repr(ip.run_line_magic("agent", "local"))
    finally:
        os.close(fd)


def test_a_session_claimed_by_a_kernel_that_does_not_know_it_is_said(ip: Any, scenario: Any,
                                                                     tmp_path: Path) -> None:
    ip.run_cell_magic("agent", "--local --auto --out r", scenario([{"say": "hi"}]) + "go")
    sid = ip.user_ns["r"].session_id
    client = make_client()
    env = client.beta.sessions.retrieve(sid).environment_id
    ip.run_line_magic("agent", "local stop")
    other = WorkerHost()  # e.g. slot 0 taken over after a crash, by a kernel that has no spec for it
    try:
        other.serve(LocalSpec("unrelated", "theirs", tmp_path), environment_id=env, concurrency=1, idle=1)
        client.beta.sessions.events.send(sid, events=[{"type": "user.message",
                                                       "content": [{"type": "text", "text": "hello"}]}])
        wait_for(lambda: other.foreign, timeout=10)
        assert other.status()["foreign_sessions"] == [sid]
        assert any("another kernel made" in line for line in other.status()["recent_log"])
    finally:
        other.stop()
        client.beta.sessions.events.send(sid, events=[{"type": "user.interrupt"}])


def test_a_slot_folder_that_cannot_be_written_falls_back_in_one_line(ip: Any, scenario: Any, monkeypatch: Any,
                                                                    tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    steps = [{"tool": "bash", "input": {"command": "echo ok"}}, {"say": "fine"}]
    ip.run_cell_magic("agent", "--local --auto --out r", scenario(steps, "ok") + "go")
    r = ip.user_ns["r"]
    assert r.stop_reason == "end_turn" and result_texts(r) == ["ok"]
    shown = render_text(r.transcript)
    assert "is not writable" in shown and "own process" in shown and "Traceback" not in shown
    assert env_name(ip, r) == f"nb-agents-local-{short_host()}-p{os.getpid()}"
    ip.run_cell_magic("agent", "--local --auto --out r2", scenario(steps, "ok2") + "go")  # the next cell works
    assert result_texts(ip.user_ns["r2"]) == ["ok"] and "is not writable" not in render_text(ip.user_ns["r2"].transcript)
