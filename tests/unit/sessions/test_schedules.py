"""The client side of schedules that needs no server: cron and zone checks, the machine's zone,
fire times shown in the schedule's zone."""

from __future__ import annotations

import sys
import types
from datetime import datetime, timezone

import pytest

from nb_agents.errors import ConfigError
from nb_agents.sessions import schedules as sched


@pytest.mark.parametrize("expr", ["0 8 * * 1-5", "*/15 9-17 * * mon-fri", "  0  8 * *   *  ", "0 0 1 jan *", "0 12 * JUL WED", "0 8 1,15 * *"])
def test_good_cron(expr):
    assert sched.check_cron(expr) == " ".join(expr.split())


@pytest.mark.parametrize("expr", ["0 8 * *", "0 0 8 * * 1-5", "@daily", "0 8 L * *", "0 8 * * 1#2", "0 8 ? * *", "0 8 15W * *", "0 8 * * 5L",
                                  "61 8 * * *", "0 25 * * *", "every day", ""])
def test_bad_cron_is_one_line(expr):
    with pytest.raises(ConfigError, match=r"--schedule: .* is not a 5-field cron expression") as err:
        sched.check_cron(expr)
    assert "\n" not in str(err.value)


def test_zones():
    assert sched.check_zone("Europe/Paris") == "Europe/Paris"
    assert sched.check_zone("UTC") == "UTC"
    with pytest.raises(ConfigError, match=r"'Europe/Pariss' is not an IANA time zone .*did you mean 'Europe/Paris'"):
        sched.check_zone("Europe/Pariss")
    for bad in ("", "/etc/localtime", "../../etc/passwd", "Mars/Olympus"):
        with pytest.raises(ConfigError, match="is not an IANA time zone"):
            sched.check_zone(bad)


def _fake_tzlocal(monkeypatch, answer):
    def get_localzone_name():
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setitem(sys.modules, "tzlocal", types.SimpleNamespace(get_localzone_name=get_localzone_name))


def test_local_zone_is_the_machines_iana_name(monkeypatch):
    _fake_tzlocal(monkeypatch, "America/New_York")
    assert sched.local_zone() == ("America/New_York", None)


@pytest.mark.parametrize("answer", [None, "", "Not/AZone", LookupError("no zone configured")])
def test_local_zone_falls_back_to_utc_with_a_note(monkeypatch, answer):
    _fake_tzlocal(monkeypatch, answer)
    zone, note = sched.local_zone()
    assert zone == "UTC" and "using UTC (pass --tz ZONE)" in note


def test_local_zone_for_real():
    zone, note = sched.local_zone()  # whatever this machine says, it is a zone the API takes
    assert sched.check_zone(zone) == zone and (note is None or zone == "UTC")


def test_next_fires_in_the_schedules_zone():
    utc = [datetime(2026, 3, 9, 7, 0, tzinfo=timezone.utc), datetime(2026, 3, 10, 7, 0, tzinfo=timezone.utc),
           datetime(2026, 3, 11, 7, 0), datetime(2026, 3, 12, 7, 0, tzinfo=timezone.utc)]
    dep = types.SimpleNamespace(schedule=types.SimpleNamespace(timezone="Europe/Paris", upcoming_runs_at=utc))
    fires = sched.next_fires(dep)
    assert [t.hour for t in fires] == [8, 8, 8] and len(fires) == 3  # naive times are UTC
    assert sched.fmt_when(fires[0]) == "Mon 09 Mar 08:00 CET"
    assert sched.next_fires(types.SimpleNamespace(schedule=None)) == [] and sched.fmt_when(None) == "-"


def test_input_digests_fit_one_metadata_value_and_read_back():
    """What a deployment keeps of its inputs: `file_id=digest` pairs within 512 characters (the
    rest are left out, so they are uploaded again next time), read back by mount request."""
    spec = types.SimpleNamespace
    entries = [(spec(digest=f"frame:{i:032x}"), spec(file_id=f"file_01{i:022d}")) for i in range(12)]
    text = sched._input_digests(spec(entries=entries))
    assert len(text) <= 512 and text.startswith(f"file_01{0:022d}=frame:{0:032x} ")
    kept_pairs = text.split()
    assert 0 < len(kept_pairs) < 12
    dep = spec(metadata={"nb_agents_inputs": text}, resources=[
        spec(type="file", file_id=f"file_01{i:022d}", mount_path=f"/mnt/session/uploads/t{i}.parquet") for i in range(12)])
    assert sched._kept_inputs(dep) == {f"/t{i}.parquet": (f"frame:{i:032x}", f"file_01{i:022d}")
                                       for i in range(len(kept_pairs))}
    assert sched._input_digests(None) is None and sched._kept_inputs(None) == {}
    assert sched._kept_inputs(spec(metadata={}, resources=dep.resources)) == {}
