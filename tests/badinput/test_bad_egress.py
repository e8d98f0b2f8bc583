"""Bad input for `%agent egress`: an unknown session, too many words, a session not started yet.
Each is one line, and the next cell works (the `ip` fixture also checks the user's variables)."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from nb_agents.errors import SessionError
from nb_agents.sessions import get_session

from .conftest import one_line

ECHO = "[[emulator: echo]]\n"


def test_egress_of_an_unknown_session_is_one_line_and_the_next_cell_works(ip: Any, capsys: Any) -> None:
    with pytest.raises(SessionError) as info:
        ip.run_line_magic("agent", "egress nosuchsession")
    assert str(info.value) == "no session named 'nosuchsession' (sessions: none yet)"
    assert one_line(ip, "%agent egress nosuchsession", capsys) == (
        "SessionError: no session named 'nosuchsession' (sessions: none yet)")
    with pytest.raises(UsageError) as usage:
        ip.run_line_magic("agent", "egress a b")
    assert str(usage.value) == "usage: %agent egress [NAME]"
    ip.run_cell_magic("agent", "-o r", ECHO + "still fine")
    assert ip.user_ns["r"].text == "still fine"
    report = ip.run_line_magic("agent", "egress")
    assert len(report.rows) == 1 and report.rows[0] == ip.user_ns["r"].egress
    with pytest.raises(SessionError, match=r"no session named 'defualt' \(did you mean 'default'\?\)"):
        ip.run_line_magic("agent", "egress defualt")


def test_egress_of_a_session_not_started_says_nothing_was_sent(ip: Any) -> None:
    get_session("idle")
    report = ip.run_line_magic("agent", "egress idle")
    assert repr(report) == "egress of session 'idle' (not started)\nnothing sent yet"
    assert "nothing sent yet" in report._repr_mimebundle_()["text/html"] and report.total.total_bytes == 0


def test_failed_cells_keep_what_they_sent_in_the_report(ip: Any, emu: Any, capsys: Any, tmp_path: Any,
                                                       monkeypatch: Any) -> None:
    from nb_agents.api import stream as stream_module
    from nb_agents.api.stream import SEND_ATTEMPTS

    monkeypatch.setattr(stream_module, "retry_wait", lambda *a, **k: 0.01)
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    # refused before anything is uploaded: nothing counted
    assert one_line(ip, "%%agent --tools no_such_function\n" + ECHO + "hi", capsys).startswith("ToolSetupError:")
    assert repr(ip.run_line_magic("agent", "egress")).endswith("nothing sent yet")
    # uploaded, then the session could not be created: the upload left the kernel all the same
    emu.faults.fail_next(3, 400, "POST /v1/sessions")
    assert one_line(ip, f"%%agent --files {data}\n" + ECHO + "hi", capsys).startswith("AgentAPIError:")
    emu.faults.reset()
    # every attempt of the message failed: each attempt went out and is counted
    emu.faults.fail_next(SEND_ATTEMPTS, 503, "POST /v1/sessions/*/events")
    assert "could not send the message after" in one_line(ip, "%%agent\n" + ECHO + "lost", capsys)
    emu.faults.reset()
    ip.run_cell_magic("agent", "-o r", ECHO + "works")
    assert ip.user_ns["r"].text == "works" and ip.user_ns["r"].egress.sends == 1
    rows = ip.run_line_magic("agent", "egress").rows
    assert [(r.files_uploaded, r.sends, r.resends, r.note) for r in rows] == [
        (1, 0, 0, "the turn stopped before it was read"),
        (0, SEND_ATTEMPTS, SEND_ATTEMPTS - 1, "the turn failed"),
        (0, 1, 0, ""),
    ]
    assert rows[0].files[0].bytes == len("a,b\n1,2\n")
