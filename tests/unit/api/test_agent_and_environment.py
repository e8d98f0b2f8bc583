"""`ensure_agent_and_environment`: a new session's agent and environment are looked up (and
created) at the same time, so its first cell waits for the slower of the two look-ups, not both."""

from __future__ import annotations

import threading

import pytest

from nb_agents.api import client as api
from nb_agents.config import resolve_options
from nb_agents.errors import ConfigError


def _opts(name: str, **kw):
    return resolve_options({"agent_name": name, "environment_name": name, **kw}, environ={}, start=None)


def _both_waiting_for_the_other(monkeypatch, fail: dict[str, Exception] | None = None):
    """Each look-up marks its start and waits (at most 10 s) for the other's: both see the
    other only when they run at the same time."""
    started = {"agent": threading.Event(), "environment": threading.Event()}
    saw: dict[str, bool] = {}
    real = {"agent": api.ensure_agent, "environment": api.ensure_environment}

    def wrap(kind: str, other: str):
        def look_up(*args):
            started[kind].set()
            saw[kind] = started[other].wait(10)
            if fail and kind in fail:
                raise fail[kind]
            return real[kind](*args)
        return look_up

    monkeypatch.setattr(api, "ensure_agent", wrap("agent", "environment"))
    monkeypatch.setattr(api, "ensure_environment", wrap("environment", "agent"))
    return saw, real


def test_the_agent_and_the_environment_are_looked_up_at_the_same_time(client, monkeypatch):
    saw, real = _both_waiting_for_the_other(monkeypatch)
    opts = _opts("at-once")
    agent_id, env_id = api.ensure_agent_and_environment(client, opts)
    assert saw == {"agent": True, "environment": True}
    assert (agent_id, env_id) == (real["agent"](client, opts), real["environment"](client, opts))  # cached ids
    assert client.beta.agents.retrieve(agent_id).name == "at-once"
    assert client.beta.environments.retrieve(env_id).name == "at-once"


def test_a_failed_look_up_is_raised(client, monkeypatch):
    _both_waiting_for_the_other(monkeypatch, fail={"environment": ConfigError("no environment")})
    with pytest.raises(ConfigError, match="no environment"):
        api.ensure_agent_and_environment(client, _opts("env-fails"))


def test_when_both_fail_the_agents_failure_is_raised(client, monkeypatch):
    _both_waiting_for_the_other(monkeypatch, fail={"agent": ConfigError("no agent"),
                                                   "environment": ConfigError("no environment")})
    with pytest.raises(ConfigError, match="no agent"):
        api.ensure_agent_and_environment(client, _opts("both-fail"))


def test_a_given_id_is_used_as_it_is(client, monkeypatch):
    opts = _opts("given", environment_id="env_given")
    assert api.ensure_agent_and_environment(client, opts)[1] == "env_given"


def test_ctrl_c_during_the_agents_look_up_does_not_wait_for_the_environments(client, monkeypatch):
    release, finished = threading.Event(), threading.Event()

    def slow_environment(*args):
        release.wait(10)
        finished.set()
        return "env_slow"

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "ensure_environment", slow_environment)
    monkeypatch.setattr(api, "ensure_agent", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.ensure_agent_and_environment(client, _opts("interrupted"))
    assert not finished.is_set()  # the cell ended while the environment's look-up still waited
    release.set()
    assert finished.wait(10)
