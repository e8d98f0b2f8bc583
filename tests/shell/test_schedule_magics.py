"""Scheduled runs through the magics (real InteractiveShell, emulator): `%%agent --schedule`,
`%agent schedules/trigger/pause/resume/unschedule/runs`, `nb_agents.runs(NAME)[i].wait()`."""

from __future__ import annotations

import pandas as pd
import pytest

import nb_agents
from nb_agents.api import client as nb_client
from nb_agents.sessions import schedules as sched
from nb_agents.view import render_text

CRON = '--schedule "0 8 * * 1-5" --tz Europe/Paris'


def line(ip, text):
    return ip.run_line_magic("agent", text)


def cell(ip, flags, body):
    return ip.run_cell_magic("agent", flags, body)


@pytest.fixture(autouse=True)
def _no_schedules_left(ip, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # agent_outputs/ lands here
    yield
    for dep in sched.schedules():
        sched.unschedule(dep.id)


def api():
    return sched.connect()


def test_a_schedule_cell_creates_one_deployment_and_runs_nothing(ip, capsys):
    ip.user_ns["sales"] = pd.DataFrame({"month": [1, 2, 3], "revenue": [10.0, 20.0, 15.0]})
    assert cell(ip, f"{CRON} --name morning-report", "Profile {{sales}} and chart it.") is None
    out = capsys.readouterr().out.strip()
    assert "\n" not in out
    assert out.startswith("scheduled 'morning-report' (depl_") and "'0 8 * * 1-5' in Europe/Paris" in out
    (dep,) = sched.schedules()
    fires = sched.next_fires(dep)
    assert len(fires) == 3 and all(t.hour == 8 and t.weekday() < 5 for t in fires)
    assert "next: " + ", ".join(sched.fmt_when(t) for t in fires) in out
    assert "sales -> /mnt/session/uploads/sales.parquet" in out
    # from the cell: the prompt (with the frame's mount path and card), the file, agent and environment
    (event,) = dep.initial_events
    text = event.content[0].text
    assert event.type == "user.message" and "`sales` (a pandas DataFrame mounted at `/mnt/session/uploads/sales.parquet`)" in text
    (res,) = dep.resources
    assert res.type == "file" and res.mount_path == "/mnt/session/uploads/sales.parquet"
    assert dep.agent.id.startswith("agent_") and dep.environment_id.startswith("env_") and dep.budget is None
    assert dep.metadata["created_by"] == "nb_agents"
    assert list(api().beta.deployment_runs.list(deployment_id=dep.id)) == []  # not run now
    assert not isinstance(ip.user_ns.get("_agent"), sched.Defined)  # `_agent` keeps the last real run


def test_the_same_name_updates_it_and_a_changed_frame_replaces_the_file(ip, capsys):
    ip.user_ns["sales"] = pd.DataFrame({"revenue": [1.0, 2.0]})
    cell(ip, f"{CRON} --name report", "Profile {{sales}}.")
    (first,) = sched.schedules()
    old_file = first.resources[0].file_id
    ip.user_ns["sales"] = pd.DataFrame({"revenue": [3.0, 4.0, 5.0]})
    cell(ip, '--schedule "30 7 * * *" --tz Asia/Tokyo --name report --max-usd 2 -o defined', "Profile {{sales}}.")
    assert capsys.readouterr().out.splitlines()[-1].startswith("updated 'report' (" + first.id)
    (dep,) = sched.schedules()  # one deployment per name
    assert dep.id == first.id and dep.schedule.expression == "30 7 * * *" and dep.schedule.timezone == "Asia/Tokyo"
    assert dep.budget.max_list_cost.amount == "200"
    (res,) = dep.resources
    assert res.file_id != old_file
    with pytest.raises(Exception, match="404|not found"):
        api().beta.files.retrieve_metadata(old_file)  # the superseded upload is gone
    assert ip.user_ns["defined"].deployment.id == dep.id and not ip.user_ns["defined"].created


def test_an_unchanged_frame_is_not_uploaded_again_and_a_changed_one_is(ip, emu, capsys):
    """Re-running a schedule cell with the same frame keeps its file (no `files.upload`); a changed
    frame is uploaded once and the file it replaces is deleted. Each cell has a FileSync of its
    own, as after a kernel restart: what is kept is on the deployment (`nb_agents_inputs`)."""
    ip.user_ns["sales"] = pd.DataFrame({"revenue": [1.0, 2.0]})
    uploads = emu.stats["uploads"]
    cell(ip, f"{CRON} --name same", "Profile {{sales}}.")
    assert emu.stats["uploads"] == uploads + 1
    (first,) = sched.schedules()
    kept = first.resources[0].file_id
    assert first.metadata["nb_agents_inputs"].startswith(f"{kept}=frame:")
    capsys.readouterr()
    ip.user_ns["sales"] = pd.DataFrame({"revenue": [1.0, 2.0]})  # a new object, the same content
    cell(ip, f"{CRON} --name same", "Profile {{sales}} again.")
    assert "sales -> /mnt/session/uploads/sales.parquet (unchanged)" in capsys.readouterr().out
    assert emu.stats["uploads"] == uploads + 1  # no upload
    (dep,) = sched.schedules()
    assert [r.file_id for r in dep.resources] == [kept] and "again" in dep.initial_events[0].content[0].text
    assert api().beta.files.retrieve_metadata(kept).size_bytes > 0  # still there, still mounted
    ip.user_ns["sales"] = pd.DataFrame({"revenue": [1.0, 2.0, 3.0]})
    cell(ip, f"{CRON} --name same", "Profile {{sales}}.")
    assert "(unchanged)" not in capsys.readouterr().out
    assert emu.stats["uploads"] == uploads + 2
    (dep,) = sched.schedules()
    (res,) = dep.resources
    assert res.file_id != kept and dep.metadata["nb_agents_inputs"].startswith(f"{res.file_id}=frame:")
    with pytest.raises(Exception, match="404|not found"):
        api().beta.files.retrieve_metadata(kept)  # the replaced file is deleted, as before
    api().beta.files.delete(res.file_id)  # a kept file someone deleted is uploaded again
    cell(ip, f"{CRON} --name same", "Profile {{sales}}.")
    assert emu.stats["uploads"] == uploads + 3


def test_outcome_and_rubric_become_a_define_outcome(ip):
    cell(ip, f'{CRON} --name graded --outcome "a tidy report" --rubric "has a chart"', "Write the report.")
    (dep,) = sched.schedules()
    (event,) = dep.initial_events
    assert event.type == "user.define_outcome" and event.description.startswith("a tidy report")
    assert event.rubric.content == "has a chart" and "Write the report." in event.description


def test_the_zone_defaults_to_the_machines(ip, capsys, monkeypatch):
    monkeypatch.setattr(sched, "local_zone", lambda: ("America/Chicago", None))
    cell(ip, '--schedule "0 8 * * *" --name local', "hi")
    assert "in America/Chicago;" in capsys.readouterr().out
    monkeypatch.setattr(sched, "local_zone", lambda: ("UTC", "the machine's time zone has no IANA name: using UTC"))
    cell(ip, '--schedule "0 8 * * *" --name local', "hi")
    assert "in UTC (the machine's time zone has no IANA name: using UTC)" in capsys.readouterr().out


def test_trigger_runs_and_wait_gives_the_same_run_a_cell_gives(ip, capsys):
    ip.user_ns["sales"] = pd.DataFrame({"month": [1, 2, 3], "revenue": [10.0, 20.0, 15.0]})
    cell(ip, f"{CRON} --name morning", "Profile {{sales}} and chart it.")
    capsys.readouterr()
    assert line(ip, "trigger morning") is None
    out = capsys.readouterr().out.strip()
    assert out.startswith("triggered 'morning': run drun_") and ", session sesn_" in out and "\n" not in out
    (scheduled,) = nb_agents.runs("morning")
    assert scheduled.trigger == "manual" and scheduled.session_id and scheduled.error is None
    run = scheduled.wait(timeout=60)
    assert isinstance(run, nb_agents.Run) and run.session_id == scheduled.session_id
    assert run.text and run.stop_reason == "end_turn" and run.cost_usd > 0 and run.usage.output_tokens > 0
    assert "Profile `sales`" in run.prompt
    art = run.outputs["sales_profile.csv"]
    assert art.path.parent.name == scheduled.session_id and art.path.parent.parent.name == "agent_outputs"
    assert art.load().shape[0] > 0
    shown = render_text(run.transcript)  # the view of a cell: the prompt, the answer, the footer
    assert shown.startswith("[idle]") and "you: Profile `sales`" in shown and "Profiling `" in shown
    assert "out tokens" in shown and scheduled.wait() is run  # waited for once
    assert "text/html" in run._repr_mimebundle_()[0]

    table = line(ip, "runs morning")
    assert table.header == ("time", "trigger", "status", "cost", "session / error")
    (row,) = table.rows
    assert row[1:] == ("manual", "idle", f"${run.cost_usd:.4f}", scheduled.session_id)
    listing = line(ip, "schedules")
    (srow,) = listing.rows
    assert srow[0] == "morning" and srow[1] == "0 8 * * 1-5 (Europe/Paris)" and srow[3] == "no"
    assert srow[4:] == ("idle", f"${run.cost_usd:.4f}")

    line(ip, f"attach {scheduled.session_id} --session from-schedule")  # a run's session, in this kernel
    assert ip.user_ns["_agent"].text == run.text
    cell(ip, "-s from-schedule", "[[emulator: echo]]\nand one more thing")
    assert ip.user_ns["_agent"].session_id == scheduled.session_id


def test_pause_resume_unschedule(ip, capsys):
    cell(ip, f"{CRON} --name nightly", "hi")
    capsys.readouterr()
    line(ip, "pause nightly")
    assert capsys.readouterr().out.strip() == "paused 'nightly': it does not fire until %agent resume nightly"
    assert line(ip, "schedules").rows[0][3] == "yes"
    line(ip, "trigger nightly")  # a paused schedule still runs by hand
    assert "session sesn_" in capsys.readouterr().out
    line(ip, "resume nightly")
    assert capsys.readouterr().out.startswith("resumed 'nightly': next ")
    assert sched.find("nightly").status == "active"
    line(ip, "unschedule nightly")
    out = capsys.readouterr().out
    assert out.startswith("unscheduled 'nightly' (depl_") and "archived" in out
    assert sched.schedules() == [] and "no schedules yet" in str(line(ip, "schedules"))


def test_a_failed_run_shows_its_error(ip, capsys):
    nb_agents.session("doomed", environment_name="doomed-env")  # the session's options make the deployment
    cell(ip, f"{CRON} --name doomed -s doomed", "hi")
    dep = sched.find("doomed")
    assert api().beta.environments.retrieve(dep.environment_id).name == "doomed-env"
    api().beta.environments.archive(dep.environment_id)
    capsys.readouterr()
    line(ip, "trigger doomed")
    out = capsys.readouterr().out.strip()
    assert out.startswith("triggered 'doomed': run drun_") and "failed: environment_archived_error" in out
    (row,) = line(ip, "runs doomed").rows
    assert row[2] == "error" and row[4].startswith("environment_archived_error")
    (scheduled,) = nb_agents.runs("doomed")
    with pytest.raises(nb_agents.NbAgentsError, match=r"made no session: environment_archived_error"):
        scheduled.wait(timeout=5)


def test_a_scheduled_fire_on_the_emulators_clock(ip, make_emulator, capsys):
    """The schedule fires by itself: a private emulator whose clock the test moves."""
    from datetime import datetime, timezone

    now = [datetime(2026, 3, 6, 6, 59, 30, tzinfo=timezone.utc).timestamp()]  # a Friday, 07:59:30 in Paris
    emu = make_emulator(clock=lambda: now[0], schedule_interval=3600)
    with nb_client.using_emulator(emu):
        cell(ip, f"{CRON} --name clocked", "[[emulator: echo]]\ngood morning")
        assert "next: Fri 06 Mar 08:00 CET, Mon 09 Mar 08:00 CET, Tue 10 Mar 08:00 CET" in capsys.readouterr().out
        now[0] += 60
        (fired,) = emu.app.state.scheduler.tick_threadsafe()
        (scheduled,) = nb_agents.runs("clocked")
        assert scheduled.trigger == "schedule" and scheduled.session_id == fired["session_id"]
        assert "good morning" in scheduled.wait(timeout=30).text
        assert sched.fmt_when(scheduled.scheduled_at.astimezone(sched.zone_of(sched.find("clocked")))) == (
            "Fri 06 Mar 08:00 CET")
        assert line(ip, "runs clocked").rows[0][1:3] == ("schedule", "idle")
        sched.unschedule("clocked")


def test_help_lists_the_schedule_subcommands(ip, capsys):
    line(ip, "help")
    out = capsys.readouterr().out
    for name in ("schedules", "trigger NAME", "pause NAME", "resume NAME", "unschedule NAME", "runs NAME"):
        assert f"%agent {name}" in out
    assert "--schedule CRON" in out and "--tz ZONE" in out and "--name NAME" in out


def test_a_transient_failure_of_the_create_is_retried_once(ip, emu, capsys):
    emu.faults.fail_next(2, 503, route="POST /v1/deployments")
    cell(ip, f"{CRON} --name flaky", "hi")
    assert capsys.readouterr().out.startswith("scheduled 'flaky'")
    assert [d.name for d in sched.schedules()] == ["flaky"]  # one deployment, whatever the retries
