"""Bad input, scheduled runs: every mistake in a `%%agent --schedule` cell or a schedule
subcommand is one line, creates nothing (no deployment, no uploaded file), and the next cell works."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import nb_agents
from nb_agents.sessions import schedules as sched

from .conftest import one_line

ECHO = "[[emulator: echo]]\\n"


def _files() -> list[str]:
    return [f.id for f in sched.connect().beta.files.list(limit=1000)]


def _next_cell_works(ip: Any, capsys: Any) -> None:
    ip.run_cell(f'%%agent -o after\n{ECHO[:-2]}\nstill here')
    capsys.readouterr()
    assert "still here" in ip.user_ns["after"].text


@pytest.fixture(autouse=True)
def _nothing_created(ip: Any, emu: Any, tmp_path: Any, monkeypatch: Any):
    monkeypatch.chdir(tmp_path)
    ip.user_ns["sales"] = pd.DataFrame({"revenue": [1.0, 2.0]})
    before = _files()
    yield
    assert sched.schedules() == [], "a failed schedule created a deployment"
    assert [f for f in _files() if f not in before] == [], "a failed schedule left an upload behind"


CELL_CASES = [
    ('--tz Europe/Paris', "%%agent: --tz goes with --schedule CRON (a named session is --session NAME)"),
    ('--name report', "%%agent: --name goes with --schedule CRON (a named session is --session NAME)"),
    ('--schedule "0 8 * * 1-5"',
     "%%agent --schedule needs --name NAME (the schedule's name; the same name updates it)"),
    ('--schedule "0 8 * *" --name r',
     "--schedule: '0 8 * *' is not a 5-field cron expression: minute hour day-of-month month "
     "day-of-week, e.g. \"0 8 * * 1-5\" (no seconds or year field, no L, W, #, ? or @daily)"),
    ('--schedule "@daily" --name r', "--schedule: '@daily' is not a 5-field cron expression"),
    ('--schedule "0 25 * * *" --name r', "--schedule: '0 25 * * *' is not a 5-field cron expression"),
    ('--schedule "0 8 * * *" --tz Europe/Pariss --name r',
     "--tz: 'Europe/Pariss' is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC) "
     "(did you mean 'Europe/Paris'?)"),
    ('--schedule "0 8 * * *" --tz CEST --name r', "--tz: 'CEST' is not an IANA time zone"),
    ('--schedule "0 8 * * *" --name r --bg',
     "%%agent --schedule does not go with --bg: a schedule runs later, on the server"),
    ('--schedule "0 8 * * *" --name r --dry-run', "%%agent --schedule does not go with --dry-run"),
    ('--schedule "0 8 * * *" --name r --map sales', "%%agent --schedule does not go with --map"),
    ('--schedule "0 8 * * *" --name r --tools len',
     "%%agent --schedule does not go with --tools: no kernel answers a scheduled run"),
    ('--schedule "0 8 * * *" --name r --ask bash', "%%agent --schedule does not go with --ask"),
    ('--schedule "0 8 * * *" --name r --outcome "a report"', "--outcome needs --rubric TEXT or a rubric file"),
    ('--schedule "0 8 * * *" --name r --max-usd -1', "bad value for max_usd: -1.0"),
    ('--schedule "0 8 * * *" --name r --local', "--schedule does not go with local mode: a scheduled run fires on"),
]


@pytest.mark.parametrize(("flags", "message"), CELL_CASES, ids=[c[0] for c in CELL_CASES])
def test_bad_schedule_cell(ip: Any, capsys: Any, flags: str, message: str) -> None:
    out = one_line(ip, f"%%agent {flags}\nProfile {{{{sales}}}}.", capsys)
    assert out.partition(": ")[2].startswith(message) and "\n" not in out
    _next_cell_works(ip, capsys)


def test_local_mode_by_config_is_refused_too(ip: Any, capsys: Any) -> None:
    ip.run_line_magic("config", "AgentMagic.local = True")
    try:
        out = one_line(ip, '%%agent --schedule "0 8 * * *" --name r\nProfile {{sales}}.', capsys)
        assert "--schedule does not go with local mode" in out and "AgentMagic.local = False" in out
    finally:
        ip.run_line_magic("config", "AgentMagic.local = False")
    _next_cell_works(ip, capsys)


def test_empty_schedule_cell(ip: Any, capsys: Any) -> None:
    out = one_line(ip, '%%agent --schedule "0 8 * * *" --name r\n   ', capsys)
    assert out == "ConfigError: %%agent --schedule: the cell is empty: write the prompt below the %%agent line"
    _next_cell_works(ip, capsys)


def test_unknown_variable_creates_nothing(ip: Any, capsys: Any) -> None:
    out = one_line(ip, '%%agent --schedule "0 8 * * *" --name r\nProfile {{slaes}}.', capsys)
    assert out.startswith("InterpolationError: ") and "did you mean 'sales'" in out
    _next_cell_works(ip, capsys)


def test_refused_by_the_api_leaves_no_upload(ip: Any, emu: Any, capsys: Any) -> None:
    emu.faults.fail_next(1, 400, route="POST /v1/deployments")
    out = one_line(ip, '%%agent --schedule "0 8 * * *" --name r\nProfile {{sales}}.', capsys)
    assert out.startswith("AgentAPIError: ") and "400" in out  # (the fixture: the frame's upload was deleted)
    _next_cell_works(ip, capsys)


@pytest.mark.parametrize("sub", ["trigger", "pause", "resume", "unschedule", "runs"])
def test_schedule_subcommands_need_a_known_name(ip: Any, capsys: Any, sub: str) -> None:
    assert one_line(ip, f"%agent {sub}", capsys) == f"ConfigError: usage: %agent {sub} NAME"
    assert one_line(ip, f"%agent {sub} a b", capsys) == f"ConfigError: usage: %agent {sub} NAME"
    assert one_line(ip, f"%agent {sub} nope", capsys) == (
        "SessionError: no schedule named 'nope' (schedules: none yet)")
    _next_cell_works(ip, capsys)


def test_a_typo_in_a_schedule_name_suggests_it(ip: Any, capsys: Any) -> None:
    ip.run_cell('%%agent --schedule "0 8 * * *" --tz UTC --name morning-report\nhi')
    capsys.readouterr()
    try:
        assert one_line(ip, "%agent trigger morning-reprot", capsys) == (
            "SessionError: no schedule named 'morning-reprot' (did you mean 'morning-report'?) "
            "(schedules: morning-report)")
        with pytest.raises(nb_agents.NbAgentsError, match="no schedule named 'nope'"):
            nb_agents.runs("nope")
        assert one_line(ip, "%agent schedules extra", capsys) == "ConfigError: usage: %agent schedules"
        _next_cell_works(ip, capsys)
    finally:
        sched.unschedule("morning-report")
