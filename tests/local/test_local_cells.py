"""`%%agent --local` end to end on the emulator: the kernel's worker runs the agent's tools in the
working folder, nothing is uploaded, approvals ask, paths outside the folder are refused, and
every failure (bad folder, a command that never ends, a worker that dies, a lost lease) is
followed by a cell that works."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from resource_kit import wait_for

import nb_agents
from nb_agents.local import HOST, STOPPED_TEXT
from nb_agents.local.slots import short_host
from nb_agents.local.toolset import CUT_TEXT
from nb_agents.view import render_text


def results(run: Any) -> list[Any]:
    """The results of this turn's own tool calls, in order."""
    mine = [e.id for e in run.events if e.type == "agent.tool_use"]
    got = {e.tool_use_id: e for e in run.events if e.type == "user.tool_result"}
    return [got[i] for i in mine if i in got]


def result_text(event: Any) -> str:
    return " ".join(getattr(b, "text", "") or "" for b in (event.content or []))


def test_profile_runs_in_the_kernel_and_uploads_nothing(ip: Any, emu: Any) -> None:
    ip.user_ns["readings"] = pd.DataFrame({"t": range(50), "v": [i * 1.5 for i in range(50)]})
    uploads = emu.store.stats["uploads"]
    ip.run_cell_magic("agent", "--local --auto --out r", "Profile {{readings}} and chart it.")
    r = ip.user_ns["r"]
    assert r.stop_reason == "end_turn"
    assert emu.store.stats["uploads"] == uploads  # no Files API call at all
    folder = Path("agent_workspace/default").resolve()
    assert (folder / "inputs/readings.parquet").is_file()
    assert sorted(r.outputs) == ["readings_hist.png", "readings_profile.csv"]
    art = r.outputs["readings_profile.csv"]
    assert art.path == folder / "outputs/readings_profile.csv" and art.file_id == ""
    assert list(art.load()["name"]) == ["t", "v"]
    sent = next(e for e in r.events if e.type == "user.message").content[0].text
    assert "`inputs/readings.parquet`" in sent and "50 rows x 2 columns" in sent  # the schema card
    assert "50 rows × 2 columns" in r.text  # the analyst profiled the local table
    sess = nb_agents.sessions.registry()["default"]
    env = sess.client.beta.environments.retrieve(sess.remote.environment_id)
    assert env.config.type == "self_hosted" and env.name == f"nb-agents-local-{short_host()}-0"
    assert HOST.status()["sessions"] == ["default"]
    # egress: the prompt and the worker's tool results left the kernel, no file did
    assert r.egress.files_uploaded == 0 and r.egress.upload_bytes == 0
    posted = [e for e in results(r)]
    by_name = r.egress.tool_bytes_by_name
    assert posted and set(by_name) <= {"bash", "read", "write", "edit", "glob", "grep"} and sum(by_name.values()) > 0
    assert sum(t.count for t in r.egress.tools) == len(posted)


def test_bash_write_edit_ask_by_default_and_reads_are_free(ip: Any, scenario: Any, answers: Any) -> None:
    Path("agent_workspace/default").mkdir(parents=True)
    Path("agent_workspace/default/notes.txt").write_text("hello\n")
    asked = answers("y", "n")
    steps = [{"tool": "read", "input": {"file_path": "notes.txt"}},
             {"tool": "write", "input": {"file_path": "outputs/a.txt", "content": "written here"}},
             {"tool": "bash", "input": {"command": "echo should-not-run > outputs/b.txt"}},
             {"say": "done"}]
    ip.run_cell_magic("agent", "--local --out r", scenario(steps) + "go")
    r = ip.user_ns["r"]
    assert len(asked) == 2  # write and bash asked, read did not
    assert Path("agent_workspace/default/outputs/a.txt").read_text() == "written here"
    assert not Path("agent_workspace/default/outputs/b.txt").exists()
    assert "hello" in result_text(results(r)[0])
    assert list(r.outputs) == ["a.txt"]


def test_paths_outside_the_folder_are_refused_unless_allowed(ip: Any, scenario: Any, tmp_path: Any) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text("s3cret")
    steps = [{"tool": "read", "input": {"file_path": str(outside / "secret.txt")}},
             {"tool": "read", "input": {"file_path": "../../elsewhere/secret.txt"}}, {"say": "ok"}]
    ip.run_cell_magic("agent", "--local --auto --out r", scenario(steps) + "go")
    refused = results(ip.user_ns["r"])
    assert [e.is_error for e in refused] == [True, True]
    assert all("s3cret" not in result_text(e) for e in refused)
    ip.run_cell_magic("agent", f"--local --auto --allow-path {outside} --out r2", scenario(steps[:1] + steps[2:], "s2") + "go")
    assert "s3cret" in result_text(results(ip.user_ns["r2"])[0])


def test_a_folder_that_is_not_writable_is_one_line_then_the_next_cell_works(ip: Any, capsys: Any, scenario: Any,
                                                                             tmp_path: Any) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    ip.run_cell(f"%%agent --local --auto --workdir {blocker}/sub\nhi")
    captured = capsys.readouterr()
    text = (captured.out + captured.err).strip()
    assert "not a writable folder" in text and "Traceback" not in text
    ip.run_cell(f"%%agent --local --auto --allow-path {tmp_path}/missing\nhi")
    captured = capsys.readouterr()
    text = (captured.out + captured.err).strip()
    assert "--allow-path" in text and "not an existing folder" in text and "Traceback" not in text
    ip.run_cell_magic("agent", "--local --auto --out r", scenario([{"tool": "bash", "input": {"command": "echo ok"}},
                                                                   {"say": "fine"}], "ok") + "go")
    assert ip.user_ns["r"].stop_reason == "end_turn" and result_text(results(ip.user_ns["r"])[0]) == "ok"


def test_a_command_that_never_ends_is_stopped_and_the_next_cell_works(ip: Any, scenario: Any) -> None:
    steps = [{"tool": "bash", "input": {"command": "echo started > started.txt; sleep 120"}}, {"say": "x"}]
    ip.run_cell_magic("agent", "--local --auto --bg", scenario(steps) + "go")
    marker = Path("agent_workspace/default/started.txt")
    wait_for(marker.exists, timeout=30)
    stopped = time.monotonic()
    ip.run_line_magic("agent", "interrupt")  # what the stop button / Ctrl-C of a foreground cell also do
    ip.run_line_magic("agent", "wait")
    assert time.monotonic() - stopped < 20  # not the 120 s of the command
    assert ip.user_ns["_agent"].interrupted
    # the local command was killed
    wait_for(lambda: any(STOPPED_TEXT in result_text(e) for e in _history_results()), timeout=10, interval=0.1)
    ip.run_cell_magic("agent", "--local --auto --out r2", scenario([{"tool": "bash", "input": {"command": "echo again"}},
                                                                    {"say": "fine"}], "again") + "go")
    assert ip.user_ns["r2"].stop_reason == "end_turn"
    assert result_text(results(ip.user_ns["r2"])[0]) == "again"


def test_a_foreground_timeout_stops_the_local_command(ip: Any, scenario: Any) -> None:
    steps = [{"tool": "bash", "input": {"command": "sleep 120"}}, {"say": "x"}]
    started = time.monotonic()
    ip.run_cell_magic("agent", "--local --auto --timeout 8 --out r", scenario(steps) + "go")
    assert ip.user_ns["r"].interrupted and time.monotonic() - started < 40


def _history_results() -> list[Any]:
    sess = nb_agents.sessions.registry()["default"]
    return [e for e in sess.client.beta.sessions.events.list(sess.session_id) if e.type == "user.tool_result"]


def test_a_worker_that_dies_is_restarted_and_the_view_says_so(ip: Any, emu: Any, scenario: Any,
                                                              monkeypatch: Any) -> None:
    monkeypatch.setenv("NB_AGENTS_LOCAL_CONCURRENCY", "1")
    ip.run_cell_magic("agent", "--local --auto --out r0", scenario([{"say": "warm"}]) + "go")
    HOST.stop()
    # a fatal error ends the SDK's poll loop (the client itself tries 3 times: injected errors say retry)
    emu.faults.fail_next(3, 401, "GET /v1/environments/*/work/poll")
    ip.run_cell_magic("agent", "--local --auto --out r", scenario([{"tool": "bash", "input": {"command": "echo up"}},
                                                                   {"say": "fine"}], "up") + "go")
    r = ip.user_ns["r"]
    assert r.stop_reason == "end_turn" and result_text(results(r)[0]) == "up"
    assert "the local worker stopped" in render_text(r.transcript)
    assert "AuthenticationError" in (HOST.status()["last_error"] or "")


def test_a_lost_lease_is_shown_and_the_call_still_runs_once(ip: Any, emu: Any, scenario: Any) -> None:
    steps = [{"tool": "bash", "input": {"command": "echo run >> count.txt; sleep 3; echo ran"}}, {"say": "fine"}]
    ip.run_cell_magic("agent", "--local --auto --bg", scenario(steps) + "go")
    count = Path("agent_workspace/default/count.txt")
    wait_for(count.exists, timeout=30, interval=0.02)
    queue = emu.app.state.work
    [held] = [i for i in queue.items.values() if i["state"] == "active"]
    queue.leases[held["id"]].last_heartbeat = "another-worker"  # someone else holds the lease now
    ip.run_line_magic("agent", "wait --timeout 60")
    r = ip.user_ns["_agent"]
    assert r.stop_reason == "end_turn"
    assert "lost this session's lease" in render_text(r.transcript)
    assert count.read_text() == "run\n"  # the call ran once, though it was dispatched again
    # the SDK either let the first run finish, or cut it when the lease went: then the agent is told so
    assert result_text(results(r)[0]) in ("ran", f"bash: {CUT_TEXT}")


def test_a_call_whose_result_never_landed_is_not_run_twice_after_a_worker_restart(
        ip: Any, emu: Any, scenario: Any) -> None:
    steps = [{"tool": "bash", "input": {"command": "echo run >> count.txt; sleep 1; echo ran"}}, {"say": "fine"}]
    ip.run_cell_magic("agent", "--local --auto --bg", scenario(steps) + "go")
    count = Path("agent_workspace/default/count.txt")
    wait_for(count.exists, timeout=20, interval=0.02)
    emu.faults.fail_next(1, 400, "POST /v1/sessions/*/events")  # the worker's result is refused for good
    time.sleep(1.5)
    sess = nb_agents.sessions.registry()["default"]
    opts = sess.options(local=True, local_idle=1.0)
    HOST.stop()  # the worker goes away with the call unanswered...
    sess.files.local.serve(str(sess.session_id), str(sess.remote.environment_id), opts)  # ...and comes back
    run = sess.collect(30)
    assert run.stop_reason == "end_turn"
    assert count.read_text() == "run\n"  # executed once
    assert HOST.ledger.replayed == 1
    assert result_text(results(run)[-1]) == "ran"


def test_custom_kernel_tools_and_background_runs(ip: Any, scenario: Any) -> None:
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return f"sunny in {city}"

    ip.user_ns["get_weather"] = get_weather
    steps = [{"custom_tool": "get_weather", "input": {"city": "Paris"}},
             {"tool": "bash", "input": {"command": "echo local"}}, {"say": "done"}]
    ip.run_cell_magic("agent", "--local --auto --tools get_weather --bg", scenario(steps) + "go")
    ip.run_line_magic("agent", "wait")
    r = ip.user_ns["_agent"]
    assert r.stop_reason == "end_turn"
    custom = [e for e in r.events if e.type == "user.custom_tool_result"]
    assert "sunny in Paris" in json.dumps([b.text for b in custom[0].content])
    assert result_text(results(r)[0]) == "local"


def test_map_local_runs_every_item_here(ip: Any, scenario: Any) -> None:
    directive = scenario([{"tool": "bash", "input": {"command": "pwd"}}, {"say": "ok"}])
    with pytest.raises(nb_agents.errors.ConfigError, match="auto=True"):
        nb_agents.map(directive + "item {{item}}", [1, 2], local=True, live=False)
    result = nb_agents.map(directive + "item {{item}}", [1, 2], local=True, auto=True, live=False, concurrency=2)
    assert [i.status for i in result.items] == ["done", "done"]
    folders = sorted(p.name for p in Path("agent_workspace").iterdir())
    assert folders == ["map-0-0", "map-1-1"]  # one folder per item session


def test_attach_after_a_kernel_restart_serves_the_session_again(ip: Any, scenario: Any) -> None:
    ip.run_cell_magic("agent", "--local --auto --out r", scenario([{"say": "first"}]) + "go")
    sid = ip.user_ns["r"].session_id
    HOST.stop()  # a new kernel: no worker, no sessions
    HOST.specs.clear()
    nb_agents.sessions.registry().clear()
    ip.run_line_magic("agent", f"attach {sid} --session back")
    assert HOST.running and HOST.status()["sessions"] == ["back"]
    steps = [{"tool": "bash", "input": {"command": "pwd"}}, {"say": "again"}]
    ip.run_cell_magic("agent", "--local --auto -s back --out r2", scenario(steps, "back") + "go")
    r2 = ip.user_ns["r2"]
    assert r2.session_id == sid and result_text(results(r2)[0]).endswith("agent_workspace/back")


def test_local_stop_and_the_last_session_stop_the_worker(ip: Any, scenario: Any) -> None:
    ip.run_cell_magic("agent", "--local --auto", scenario([{"say": "hi"}]) + "go")
    assert HOST.running and any(t.name == "nb-agents-local-worker" for t in threading.enumerate())
    assert "running" in repr(ip.run_line_magic("agent", "local"))
    assert "stopped" in repr(ip.run_line_magic("agent", "local stop"))
    assert not HOST.running
    ip.run_cell_magic("agent", "--local --auto", scenario([{"say": "hi"}], "hi2") + "go")  # starts again
    assert HOST.running
    ip.run_line_magic("agent", "new")  # no local session left
    assert not HOST.running


def test_record_replay_budget_and_async_work_in_local_mode(ip: Any, scenario: Any, tmp_path: Any) -> None:
    steps = [{"tool": "bash", "input": {"command": "echo recorded"}}, {"say": "done"}]
    cassette = tmp_path / "local.jsonl"
    ip.run_cell_magic("agent", f"--local --auto --max-usd 5 --record {cassette} --out r", scenario(steps) + "go")
    r = ip.user_ns["r"]
    assert r.stop_reason == "end_turn" and cassette.is_file()
    assert nb_agents.sessions.registry()["default"].remote.budget is not None
    replay = nb_agents.replay(str(cassette), speed=None, view=False, outputs_dir=tmp_path / "replayed")
    assert "recorded" in render_text(replay.transcript)

    async def go() -> Any:
        sess = nb_agents.session("async-local", local=True)
        return await sess.ask_async(scenario(steps, "async") + "go", auto=True, live=False)

    import asyncio

    run = asyncio.run(go())
    assert run.stop_reason == "end_turn" and result_text(results(run)[0]) == "recorded"


def test_a_dry_run_in_local_mode_says_nothing_would_be_uploaded(ip: Any, emu: Any) -> None:
    ip.user_ns["df"] = pd.DataFrame({"a": [1]})
    uploads = emu.store.stats["uploads"]
    ip.run_cell_magic("agent", "--local --dry-run --out plan", "Profile {{df}}")
    plan = ip.user_ns["plan"]
    assert plan.uploads == ("df (written to agent_workspace/default/inputs, no upload)",)
    assert emu.store.stats["uploads"] == uploads and not HOST.running


def test_a_worker_that_keeps_dying_ends_the_run_and_the_next_cell_works(ip: Any, emu: Any, scenario: Any,
                                                                        monkeypatch: Any) -> None:
    monkeypatch.setenv("NB_AGENTS_LOCAL_CONCURRENCY", "1")
    ip.run_cell_magic("agent", "--local --auto --out r0", scenario([{"say": "warm"}]) + "go")
    HOST.stop()
    emu.faults.fail_next(12, 401, "GET /v1/environments/*/work/poll")  # the first try and three restarts
    steps = [{"tool": "bash", "input": {"command": "echo never"}}, {"say": "x"}]
    ip.run_cell_magic("agent", "--local --auto --out r", scenario(steps, "dies") + "go")
    r = ip.user_ns["r"]
    text = render_text(r.transcript)
    assert "was not restarted" in text and "user.interrupt" in [e.type for e in r.events]  # not a hang
    assert all(result_text(e) != "never" for e in results(r))
    assert "last error" in repr(ip.run_line_magic("agent", "local"))
    steps = [{"tool": "bash", "input": {"command": "echo back"}}, {"say": "fine"}]
    ip.run_cell_magic("agent", "--local --auto --out r2", scenario(steps, "back") + "go")  # a fresh worker
    assert ip.user_ns["r2"].stop_reason == "end_turn" and result_text(results(ip.user_ns["r2"])[0]) == "back"


def test_local_mode_refuses_a_cloud_environment_in_one_line(ip: Any, capsys: Any) -> None:
    sess_client = nb_agents.session("probe").connect()
    env = sess_client.beta.environments.create(name="a-cloud-one", config={"type": "cloud"})
    ip.run_cell(f"%%agent --local --auto --environment {env.id}\nhi")
    captured = capsys.readouterr()
    text = (captured.out + captured.err).strip()
    assert "is not a self-hosted environment" in text and "Traceback" not in text
    assert not HOST.specs  # nothing left registered


def test_switching_between_cloud_and_local_starts_a_new_conversation(ip: Any, scenario: Any) -> None:
    ip.run_cell_magic("agent", "--out c", scenario([{"say": "cloud"}], "c") + "go")
    ip.run_cell_magic("agent", "--local --auto --out l", scenario([{"say": "local"}], "l") + "go")
    cloud, local = ip.user_ns["c"], ip.user_ns["l"]
    assert local.session_id != cloud.session_id and HOST.running
    assert "this cell starts a new conversation (local mode)" in render_text(local.transcript)
    ip.run_cell_magic("agent", "--out c2", scenario([{"say": "cloud again"}], "c2") + "go")
    assert ip.user_ns["c2"].session_id not in (cloud.session_id, local.session_id)
    assert not HOST.running  # no local session left


def test_config_makes_local_the_default(ip: Any, scenario: Any) -> None:
    ip.run_line_magic("config", "AgentMagic.local = True")
    try:
        ip.run_cell_magic("agent", "--auto --out r", scenario([{"tool": "bash", "input": {"command": "pwd"}},
                                                              {"say": "ok"}]) + "go")
        assert result_text(results(ip.user_ns["r"])[0]).endswith("agent_workspace/default")
    finally:
        ip.run_line_magic("config", "AgentMagic.local = False")
