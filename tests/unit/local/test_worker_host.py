"""local.worker / local.setup without a server: the key, the folder checks, approvals, spec updates."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from nb_agents.config import resolve_options
from nb_agents.errors import ConfigError, FileSyncError
from nb_agents.local import LocalSpec, WorkerHost, prepare_local, workdir_for
from nb_agents.local.worker import environment_key
from nb_agents.sessions.session import local_approvals


def test_the_worker_needs_an_environment_key_for_the_service(monkeypatch: Any) -> None:
    monkeypatch.delenv("ANTHROPIC_ENVIRONMENT_KEY", raising=False)
    assert environment_key(offline=True)
    with pytest.raises(ConfigError, match="ANTHROPIC_ENVIRONMENT_KEY"):
        environment_key(offline=False)
    monkeypatch.setenv("ANTHROPIC_ENVIRONMENT_KEY", "sk-ant-oat01-x")
    assert environment_key(offline=False) == "sk-ant-oat01-x"


def test_bash_write_and_edit_ask_unless_the_cell_chose(monkeypatch: Any) -> None:
    assert local_approvals({}) == {"ask": "bash,write,edit"}
    assert local_approvals({"tools": "f"}) == {"tools": "f", "ask": "bash,write,edit"}
    for chosen in ({"auto": True}, {"ask": "bash"}, {"ask_all": True}):
        assert local_approvals(chosen) == chosen


def test_the_folder_defaults_per_session_and_is_checked(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")  # a backend (no call is made)
    monkeypatch.setenv("ANTHROPIC_ENVIRONMENT_KEY", "sk-ant-oat01-test")
    opts = resolve_options({"local": True})
    assert workdir_for(opts, "my session/1") == Path("agent_workspace/my session_1")
    run = prepare_local("a", opts, {})
    assert run.folder.root == (tmp_path / "agent_workspace/a") and run.prepared is None
    with pytest.raises(ConfigError, match="--allow-path nope: not an existing folder"):
        prepare_local("a", resolve_options({"local": True, "allow_paths": ["nope"]}), {})
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileSyncError, match="not a writable folder"):
        prepare_local("a", resolve_options({"local": True, "workdir": str(tmp_path / "f")}), {})


def test_options_of_local_mode_are_checked() -> None:
    assert resolve_options({"local_concurrency": 2}).local_concurrency == 2
    with pytest.raises(ConfigError):
        resolve_options({"local_concurrency": 0})
    with pytest.raises(ConfigError, match="local_idle"):
        resolve_options({"local_idle": -1})


def test_a_later_cell_updates_the_spec_the_running_tools_read(tmp_path: Path) -> None:
    ctx = SimpleNamespace(workdir=tmp_path, allowed_roots=[])
    spec = LocalSpec("tok", "s", tmp_path, session_id="sesn_1", ctx=ctx)
    spec.update(LocalSpec("tok", "s", tmp_path / "b", allow_paths=(tmp_path,)))
    assert ctx.workdir == tmp_path / "b" and ctx.allowed_roots == [tmp_path] and spec.session_id == "sesn_1"


def test_a_host_that_never_started_stops_quietly() -> None:
    host = WorkerHost()
    assert host.stop() is False and host.interrupt("sesn_x") == 0
    assert host.status()["running"] is False
    host.release("unknown")


def test_without_the_environment_key_nothing_is_prepared(tmp_path: Path, monkeypatch: Any) -> None:
    from nb_agents.api import client

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(client, "_emulator", None)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("ANTHROPIC_ENVIRONMENT_KEY", raising=False)
    with pytest.raises(ConfigError, match="ANTHROPIC_ENVIRONMENT_KEY"):
        prepare_local("a", resolve_options({"local": True}), {})
    assert not (tmp_path / "agent_workspace").exists()


def test_each_host_takes_the_lowest_free_slot_and_frees_it_on_stop(tmp_path: Path, monkeypatch: Any) -> None:
    from nb_agents.local.slots import short_host

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")  # a backend (no call is made)
    a, b = WorkerHost(), WorkerHost()
    assert a.environment_name("nb-agents-local") == f"nb-agents-local-{short_host()}-0"
    assert a.environment_name("nb-agents-local").endswith("-0")  # held: asked again, the same
    assert b.environment_name("nb-agents-local").endswith("-1")
    a.stop()
    c = WorkerHost()
    assert c.environment_name("nb-agents-local").endswith("-0")  # a's slot, free again
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # another backend: slots of its own
    assert a.environment_name("nb-agents-local").endswith("-0")
    for host in (a, b, c):
        host.stop()
    assert not list((tmp_path / "nb_agents/local-slots").glob("*/[2-9].lock"))


def test_no_slot_folder_means_a_per_process_name_said_once(tmp_path: Path, monkeypatch: Any) -> None:
    import os

    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    host = WorkerHost()
    assert host.environment_name("e").endswith(f"-p{os.getpid()}")
    note = host.take_slot_note()
    assert note and "is not writable" in note and "\n" not in note
    assert host.take_slot_note() is None
    host.stop()


def test_a_stopped_host_takes_its_slot_again_when_its_session_is_served_again(tmp_path: Path,
                                                                             monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    a, b = WorkerHost(), WorkerHost()
    assert a.environment_name("e").endswith("-0")
    a.stop()  # `%agent local stop`: the session stays, its environment is slot 0's
    a._hold_again()  # what `serve` does when the session's next cell starts the worker again
    assert a.slot is not None and a.slot.number == 0
    assert b.environment_name("e").endswith("-1")  # so a new kernel does not take slot 0 meanwhile
    a.stop()
    assert b.environment_name("e").endswith("-1")
    c = WorkerHost()
    assert c.environment_name("e").endswith("-0")  # taken by another kernel while a was stopped
    a._hold_again()
    assert a.slot is None and "took slot 0" in a.status()["recent_log"][-1]
    for host in (a, b, c):
        host.stop()
