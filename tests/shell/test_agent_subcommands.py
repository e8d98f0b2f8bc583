"""%agent subcommands through a real InteractiveShell against the emulator."""

from __future__ import annotations

import pytest

from nb_agents.errors import ConfigError, SessionError
from nb_agents.run import Run

ECHO = "[[emulator: echo]]\n"


def line(ip, text):
    return ip.run_line_magic("agent", text)


def test_help_lists_every_subcommand_and_option(ip, capsys):
    line(ip, "help")
    out = capsys.readouterr().out
    for word in ("offline", "status", "sessions", "new", "attach", "interrupt", "cost", "config", "archive"):
        assert f"%agent {word}" in out
    for flag in ("--out", "--session", "--dry-run", "--timeout", "--no-interpolate"):
        assert flag in out
    line(ip, "")  # bare %agent is help
    assert "%agent help" in capsys.readouterr().out


def test_unknown_subcommand_suggests(ip):
    with pytest.raises(ConfigError, match=r"unknown subcommand 'sesions' \(did you mean 'sessions'\?\)"):
        line(ip, "sesions")


def test_offline_is_idempotent_and_reports(ip, emu, capsys):
    line(ip, "offline")
    assert "offline emulator running at " + str(emu.base_url) in capsys.readouterr().out


def test_status_sessions_cost(ip):
    ip.run_cell_magic("agent", "-o r", ECHO + "hi")
    ip.run_cell_magic("agent", "-s two", ECHO + "hi")
    info = line(ip, "status")
    assert info["session_id"] == ip.user_ns["r"].session_id and info["status"] == "idle" and info["turns"] == 1
    assert "offline emulator" in repr(info) and "status idle" in repr(info)
    rows = line(ip, "sessions")
    assert [r["name"] for r in rows] == ["default", "two"] and "two" in repr(rows)
    cost = line(ip, "cost")
    assert cost["total"] > 0 and cost["total"] == pytest.approx(cost["default"] + cost["two"])
    assert "total" in repr(cost)
    with pytest.raises(SessionError, match="no session named 'tow'.*did you mean 'two'"):
        line(ip, "status tow")


def test_reports_display_as_text_in_the_shell(ip, capsys):
    ip.run_cell("%agent sessions")
    assert "no sessions yet" in capsys.readouterr().out
    ip.run_cell("%agent status")
    out = capsys.readouterr().out
    assert "backend: offline emulator at http://127.0.0.1:" in out and "no session yet" in out


def test_new_starts_a_new_conversation(ip, capsys):
    ip.run_cell_magic("agent", "-o a", ECHO + "x")
    line(ip, "new")
    ip.run_cell_magic("agent", "-o b", ECHO + "y")
    assert ip.user_ns["a"].session_id != ip.user_ns["b"].session_id
    line(ip, "new fresh")
    assert "fresh" in capsys.readouterr().out


def test_attach_rebuilds_and_continues(ip, capsys):
    ip.run_cell_magic("agent", "-o a", ECHO + "first")
    ip.run_cell_magic("agent", "-o b", ECHO + "second")
    sid = ip.user_ns["a"].session_id
    capsys.readouterr()
    line(ip, f"attach {sid} --session again")
    out = capsys.readouterr().out
    assert f"attached {sid} as session 'again'" in out
    rebuilt = ip.user_ns["_agent"]
    assert isinstance(rebuilt, Run)
    assert [m.text for m in rebuilt.messages] == ["first", "second"]
    assert [m.text for m in rebuilt.transcript.user_messages] == [ECHO + "first", ECHO + "second"]
    ip.run_cell_magic("agent", "-s again -o c", ECHO + "third")
    c = ip.user_ns["c"]
    assert c.session_id == sid and c.text == "third" and [m.text for m in c.messages] == ["third"]


def test_attach_unknown_session_is_one_line(ip):
    from nb_agents.errors import AgentAPIError

    with pytest.raises(AgentAPIError, match="404"):
        line(ip, "attach sesn_nope")
    with pytest.raises(Exception, match="session_id"):
        line(ip, "attach")


def test_config_shows_sources(ip, capsys, monkeypatch):
    monkeypatch.setenv("NB_AGENTS_MODEL", "claude-haiku-4-5")
    report = line(ip, "config")
    out = repr(report)
    assert "'claude-haiku-4-5'" in out and "[env]" in out and "precedence" in out
    assert report["model"] == "claude-haiku-4-5"


def test_interrupt_and_archive(ip, emu, capsys):
    ip.run_cell_magic("agent", "-o a", ECHO + "x")
    sid = ip.user_ns["a"].session_id
    line(ip, "interrupt")
    assert "sent user.interrupt" in capsys.readouterr().out
    line(ip, "archive")
    assert f"archived session 'default' ({sid})" in capsys.readouterr().out
    from nb_agents.api import make_client

    assert make_client().beta.sessions.retrieve(sid).archived_at is not None
    with pytest.raises(SessionError):
        line(ip, "interrupt")
    with pytest.raises(SessionError):
        line(ip, "interrupt never-started-x")


def test_line_magic_usage_errors(ip):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="usage"):
        line(ip, "status a b")


def test_attach_follows_a_turn_that_is_still_running(ip, emu, scenario):
    import time

    from nb_agents.api import ensure_agent, ensure_environment, make_client
    from nb_agents.config import resolve_options

    client = make_client()
    opts = resolve_options()
    sid = client.beta.sessions.create(agent=ensure_agent(client, opts), environment_id=ensure_environment(client, opts)).id
    steps = [{"say": "step one"}, {"delay": 1.5}, {"say": "step two"}]
    text = scenario(steps) + "started elsewhere"
    client.beta.sessions.events.send(sid, events=[{"type": "user.message", "content": [{"type": "text", "text": text}]}])
    deadline = time.monotonic() + 5
    while client.beta.sessions.retrieve(sid).status != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    line(ip, f"attach {sid} -s elsewhere")
    followed = ip.user_ns["_agent"]
    assert isinstance(followed, Run) and followed.stop_reason == "end_turn"
    assert followed.text.endswith("step two")
    from nb_agents.sessions import registry

    assert [m.text for m in registry()["elsewhere"].history.messages] == ["step one", "step two"]
