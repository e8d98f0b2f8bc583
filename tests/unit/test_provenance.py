"""Provenance metadata: every field, JSON-safe, from a Run, a replay and a cassette."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cassette_events import turn_events

import nb_agents
from nb_agents.provenance import (
    FIELDS,
    build_provenance,
    provenance_from_cassette,
    provenance_from_run,
)
from nb_agents.record.cassette import Recorder, load_cassette
from nb_agents.record.playback import replay
from nb_agents.run import Run
from nb_agents.transcript import empty, fold_all


def test_build_has_every_field_and_is_json_safe():
    start = dt.datetime(2026, 11, 25, 4, 0, 0, tzinfo=dt.timezone.utc)
    meta = build_provenance(
        session_id="sesn_1", agent_id="agent_1", agent_version=3, model="claude-sonnet-4-6",
        environment_id="env_1", input_hashes={"sales": "ab" * 32}, stop_reason={"type": "end_turn"},
        usage={"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": None, "other": 9},
        cost_usd=0.0123456789, started_at=start, ended_at=start.timestamp() + 90, backend="emulator",
    )
    data = meta["nb_agents"]
    assert list(data) == list(FIELDS)
    assert data["usage"] == {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 0,
                             "cache_creation_input_tokens": 0}
    assert (data["stop_reason"], data["cost_usd"], data["backend"]) == ("end_turn", 0.012346, "emulator")
    assert (data["started_at"], data["ended_at"]) == ("2026-11-25T04:00:00Z", "2026-11-25T04:01:30Z")
    assert data["nb_agents_version"] == nb_agents.__version__
    assert json.loads(json.dumps(meta)) == meta
    with pytest.raises(ValueError):
        build_provenance(backend="cloud")


def test_the_backend_is_what_the_client_talks_to(monkeypatch, tmp_path):
    """One backend detection (api.client): recordings, cache keys and provenance are given it."""
    from nb_agents.api import client

    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with client.using_emulator(None):
        assert client.backend_kind() is None
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-000000000")
        assert client.backend_kind() == client.backend().kind == "service"
    with client.using_emulator(type("Emu", (), {"base_url": "http://127.0.0.1:9"})()):
        assert client.backend_kind() == "emulator"
        assert Recorder(tmp_path / "c", meta={}).meta["backend"] == "emulator"  # given when recording starts


def _run():
    t = fold_all(empty(session_id="sesn_1"), turn_events())
    return Run(transcript=t, events=[], session_id="sesn_1", session_name="main", prompt="p", elapsed=1.0,
               stop_reason=t.stop_reason)


def test_from_run_takes_usage_and_cost_from_the_transcript():
    data = provenance_from_run(_run(), agent_id="agent_1", model="m", backend="service",
                               input_hashes={"x": "1"})["nb_agents"]
    assert data["session_id"] == "sesn_1" and data["agent_id"] == "agent_1" and data["model"] == "m"
    assert data["usage"]["input_tokens"] == 320 and data["cost_usd"] == 0.01
    assert data["stop_reason"] == "end_turn" and data["input_hashes"] == {"x": "1"}
    # the run's own times, from its events' processed_at
    assert data["started_at"].startswith("2026-11-25T04:00:01") and data["ended_at"].startswith("2026-11-25T04:00:")


def test_replayed_runs_say_where_they_came_from(tmp_path):
    rec = Recorder(tmp_path / "t", meta={"backend": "emulator", "agent_id": "agent_9", "agent_version": 2,
                                         "model": "claude-sonnet-4-6", "environment_id": "env_9",
                                         "input_hashes": {"sales": "ff"}})
    for e in turn_events():
        rec.on_event(e)
    path = rec.close({"session_id": "sesn_9", "stop_reason": "end_turn", "cost_usd": 0.01,
                      "usage": {"input_tokens": 320, "output_tokens": 80}})
    r = replay(path, speed=None, view=False, outputs_dir=tmp_path / "o")
    data = provenance_from_run(r)["nb_agents"]
    assert data["backend"] == "emulator" and data["replayed_from"] == str(path)
    assert (data["agent_id"], data["agent_version"], data["environment_id"]) == ("agent_9", 2, "env_9")
    assert data["recorded_at"] == load_cassette(path).created_at
    cas_data = provenance_from_cassette(load_cassette(path))["nb_agents"]
    assert cas_data["session_id"] == "sesn_9" and cas_data["usage"]["output_tokens"] == 80
    assert cas_data["input_hashes"] == {"sales": "ff"}
