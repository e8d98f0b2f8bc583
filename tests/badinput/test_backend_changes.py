"""Bad input, part 6: the server forgets what this kernel remembers. Agents and environments
archived elsewhere, an emulator restarted at the same URL, `%agent offline` restarted, one
session deleted among several: the next cell works as if nothing had happened (the `ip`
fixture checks that the user's variables are intact)."""

from __future__ import annotations

import types
from typing import Any

import pytest

import nb_agents.api.client as nb_client
from nb_agents.emulator import Emulator
from nb_agents.sessions import registry

ECHO = "[[emulator: echo]]\n"


def cell(ip: Any, line: str, body: str) -> Any:
    return ip.run_cell_magic("agent", line, body)


def _agent_and_env(ip: Any, name: str = "r") -> tuple[str, str]:
    remote = registry()[ip.user_ns[name].session_name].remote
    return remote.agent.id, remote.environment_id


@pytest.mark.parametrize("what", ["agent", "environment"])
def test_new_cell_after_the_agent_or_environment_was_archived_elsewhere(
    ip: Any, emu: Any, what: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NB_AGENTS_AGENT_NAME", f"archived-{what}")  # this test's own, not the module's
    monkeypatch.setenv("NB_AGENTS_ENVIRONMENT_NAME", f"archived-{what}")
    cell(ip, "-o r", ECHO + "before")
    agent_id, env_id = _agent_and_env(ip)
    with emu.client() as other:  # another notebook, the console...
        if what == "agent":
            other.beta.agents.archive(agent_id)
        else:
            other.beta.environments.archive(env_id)
    cell(ip, "--new -o r2", ECHO + "after")
    assert ip.user_ns["r2"].text == "after" and ip.user_ns["r2"].stop_reason == "end_turn"
    fresh = _agent_and_env(ip, "r2")
    assert (fresh[0] != agent_id) == (what == "agent") and (fresh[1] != env_id) == (what == "environment")
    cell(ip, "-o r3", ECHO + "and on")
    assert ip.user_ns["r3"].session_id == ip.user_ns["r2"].session_id  # the new ids are cached again


def test_new_cell_after_the_emulator_restarted_at_the_same_url(ip: Any, exit_stack: Any) -> None:
    first = Emulator().start()
    port = int(first.base_url.rsplit(":", 1)[1])
    exit_stack.enter_context(nb_client.using_emulator(types.SimpleNamespace(base_url=first.base_url)))
    cell(ip, "-o r", ECHO + "on the first server")
    first.close()
    second = exit_stack.enter_context(Emulator(port=port))  # `python -m nb_agents.emulator --port N` again
    assert second.base_url == first.base_url
    cell(ip, "--new -o r2", ECHO + "on the second server")  # the cached agent id is unknown there: 404
    assert ip.user_ns["r2"].text == "on the second server"
    assert second.store.sessions and ip.user_ns["r2"].session_id in second.store.sessions


def test_sessions_follow_a_restarted_offline_emulator(ip: Any, capsys: Any) -> None:
    with nb_client.using_emulator(None):  # this test's own `%agent offline`, not the module's
        ip.run_line_magic("agent", "offline")
        cell(ip, "-o r", ECHO + "first")
        ip.user_ns["r"]  # noqa: B018
        nb_client.go_online()
        ip.run_line_magic("agent", "offline")  # a new emulator: the old one (and its sessions) are gone
        capsys.readouterr()
        cell(ip, "-o r2", ECHO + "second")  # no --new: the session follows, in a new conversation
        nb_client.go_online()
    run = ip.user_ns["r2"]
    assert run.text == "second" and run.session_id != ip.user_ns["r"].session_id
    assert "the backend changed since this session started: this cell starts a new conversation" in str(
        run.transcript.items
    )


def test_sessions_and_cost_list_the_rest_when_one_session_is_gone(ip: Any, emu: Any, capsys: Any) -> None:
    cell(ip, "-s kept -o a", ECHO + "kept")
    cell(ip, "-s deleted -o b", ECHO + "deleted")
    with emu.client() as other:
        other.beta.sessions.delete(ip.user_ns["b"].session_id)
    report = ip.run_line_magic("agent", "sessions")
    rows = {r["name"]: r for r in report.data}
    assert rows["deleted"]["status"] == "gone (404)" and rows["deleted"]["cost_usd"] is None
    assert rows["kept"]["status"] == "idle" and rows["kept"]["cost_usd"]
    assert "gone (404)" in str(report)
    cost = ip.run_line_magic("agent", "cost")
    assert cost.data["deleted"] is None and cost.data["total"] == cost.data["kept"] > 0
    cell(ip, "-s kept -o c", ECHO + "next")  # the next cell works as if nothing had happened
    assert ip.user_ns["c"].text == "next" and ip.user_ns["c"].session_id == ip.user_ns["a"].session_id
