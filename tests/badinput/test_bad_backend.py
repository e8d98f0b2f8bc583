"""Bad input, part 3: the backend says no (keys, models, sessions) or misbehaves (HTML errors,
slowness). Each is one line with the status, the API's message and the request id, or a run that
ends cleanly; the user's variables are intact (the `ip` fixture checks)."""

from __future__ import annotations

import json
import re
import time
import types
from typing import Any

import pytest
from hostile_server import HTML_500, HostileProxy

import nb_agents.api.client as nb_client
from nb_agents.errors import AgentAPIError, NoBackendError

from .conftest import one_line

ECHO = "[[emulator: echo]]\n"
REQ = r"\[request_id: req_\w+\]"


def cell(ip: Any, line: str, body: str) -> Any:
    return ip.run_cell_magic("agent", line, body)


@pytest.fixture
def service(emu: Any, monkeypatch: pytest.MonkeyPatch, exit_stack: Any) -> Any:
    """Talk to the emulator the way nb_agents talks to the real service: a key and a base URL."""

    def use(key: str, base_url: str | None = None) -> None:
        exit_stack.enter_context(nb_client.using_emulator(None))
        monkeypatch.setenv("ANTHROPIC_API_KEY", key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url or emu.base_url)

    return use


def _through(exit_stack: Any, base_url: str) -> None:
    exit_stack.enter_context(nb_client.using_emulator(types.SimpleNamespace(base_url=base_url)))


def test_no_api_key(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with nb_client.using_emulator(None), pytest.raises(NoBackendError) as info:
        cell(ip, "", "hi")
    assert str(info.value) == (
        "no backend: set ANTHROPIC_API_KEY (e.g. %env ANTHROPIC_API_KEY=sk-ant-...) "
        "or run `%agent offline` to use the built-in emulator"
    )


def test_wrong_api_key_is_401(ip: Any, service: Any, capsys: Any) -> None:
    service("sk-bad-0123456789abcdef")
    with pytest.raises(AgentAPIError) as info:
        cell(ip, "", "hi")
    assert re.fullmatch(rf"API error 401 \(authentication_error\): invalid x-api-key {REQ}", str(info.value))
    out = one_line(ip, "%%agent\nhi", capsys)
    assert out.startswith("AgentAPIError: API error 401") and "sk-bad" not in out


def test_unknown_model_on_the_emulator_is_accepted(ip: Any) -> None:
    """The emulator knows no model list: any id is accepted and echoed (the service answers 400)."""
    cell(ip, "--model claude-nope -o r", ECHO + "hi")
    assert ip.user_ns["r"].text == "hi" and ip.user_ns["r"].stop_reason == "end_turn"


def test_unknown_model_400_from_the_service(ip: Any, emu: Any, exit_stack: Any) -> None:
    # the hosted API's wording is not pinned here; its shape is (error type, message, request id)
    body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "model: claude-nope-400 not found"},
    }
    canned = {"POST /v1/agents*": (400, "application/json", json.dumps(body).encode())}
    with HostileProxy(emu.base_url, canned=canned) as proxy:
        _through(exit_stack, proxy.base_url)
        with pytest.raises(AgentAPIError) as info:
            cell(ip, "--model claude-nope-400", "hi")
    assert str(info.value) == (
        "API error 400 (invalid_request_error): model: claude-nope-400 not found [request_id: req_canned]"
    )


def test_unknown_session_on_attach(ip: Any) -> None:
    with pytest.raises(AgentAPIError) as info:
        ip.run_line_magic("agent", "attach sesn_nothere")
    assert re.fullmatch(
        rf"API error 404 \(not_found_error\): Session sesn_nothere not found {REQ}", str(info.value)
    )


def test_archived_session_attaches_read_only(ip: Any, emu: Any, capsys: Any) -> None:
    cell(ip, "-s old -o r", ECHO + "before archiving")
    sid = ip.user_ns["r"].session_id
    emu.client().beta.sessions.archive(sid)
    ip.run_line_magic("agent", f"attach {sid} -s again")
    assert "before archiving" in capsys.readouterr().out  # the history is shown
    with pytest.raises(AgentAPIError) as info:
        cell(ip, "-s again", ECHO + "more")
    assert re.fullmatch(
        rf"API error 400 \(invalid_request_error\): Session {sid} is terminated and cannot accept new events\. {REQ}",
        str(info.value),
    )
    assert ip.user_ns["r"].text == "before archiving"  # the earlier run is untouched


def test_session_deleted_on_the_server_between_cells(ip: Any, emu: Any) -> None:
    cell(ip, "-o r", ECHO + "first")
    sid = ip.user_ns["r"].session_id
    emu.client().beta.sessions.delete(sid)
    with pytest.raises(AgentAPIError) as info:
        cell(ip, "", ECHO + "second")
    assert re.fullmatch(rf"API error 404 \(not_found_error\): Session {sid} not found {REQ}", str(info.value))
    assert ip.user_ns["r"].text == "first"


def test_session_cannot_be_deleted_mid_run(ip: Any, emu: Any, scenario: Any) -> None:
    """The API refuses to delete a running session (400); the run goes on and ends normally."""
    from nb_agents.sessions import get_session

    sess, refused = get_session("default"), []

    def delete_now(event: Any) -> None:
        if event.type == "agent.message" and not refused:
            try:
                emu.client().beta.sessions.delete(sess.session_id)
            except Exception as exc:  # the SDK's BadRequestError
                refused.append(str(exc))

    sess.listeners.append(delete_now)
    cell(ip, "-o r", scenario([{"say": "one"}, {"delay": 0.3}, {"say": "two"}]) + "go")
    sess.listeners.remove(delete_now)
    assert refused and "Cannot delete session while it is running" in refused[0]
    assert ip.user_ns["r"].stop_reason == "end_turn" and ip.user_ns["r"].text == "one\n\ntwo"


def test_terminated_session_then_a_new_cell(ip: Any, scenario: Any) -> None:
    cell(ip, "-o r", scenario([{"say": "bye"}, {"terminate": True}]) + "go")
    assert ip.user_ns["r"].stop_reason == "terminated"
    with pytest.raises(
        AgentAPIError, match=r"^API error 400 \(invalid_request_error\): Session sesn_\w+ is terminated"
    ):
        cell(ip, "", ECHO + "hi")


def test_server_500_html_page_instead_of_json(ip: Any, emu: Any, exit_stack: Any) -> None:
    with HostileProxy(emu.base_url, canned={"POST /v1/sessions": HTML_500}) as proxy:
        _through(exit_stack, proxy.base_url)
        t0 = time.monotonic()
        with pytest.raises(AgentAPIError) as info:
            cell(ip, "", ECHO + "hi")
    message = str(info.value)
    assert time.monotonic() - t0 < 20  # the SDK's own retries (2), then one line
    assert message.startswith("API error 500: 500 Internal Server Error (an HTML page, not the API's JSON)")
    assert "<" not in message
    assert "\n" not in message and message.count("POST /v1/sessions") == 0
    assert proxy.requests.count("POST /v1/sessions") == 3  # first try + the SDK's 2 retries


def test_slow_server_still_completes(ip: Any, emu: Any) -> None:
    emu.faults.update(latency=0.3)  # every request waits 0.3 s
    t0 = time.monotonic()
    cell(ip, "-o r", ECHO + "slowly")
    assert time.monotonic() - t0 > 1.0
    assert ip.user_ns["r"].text == "slowly" and ip.user_ns["r"].stop_reason == "end_turn"


def test_slow_stream_with_timeout_ends_the_cell(ip: Any, emu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream answers slower than `--timeout`: the cell ends on time with a note, no hang."""
    monkeypatch.setenv("NB_AGENTS_INTERRUPT_WAIT", "2")
    emu.faults.update(latency=3.0, routes=("GET /v1/sessions/*/events/stream",))
    t0 = time.monotonic()
    cell(ip, "--timeout 1 -o r", ECHO + "hi")
    run = ip.user_ns["r"]
    assert time.monotonic() - t0 < 6  # 1 s timeout + 2 s interrupt wait: the stream opens without SDK retries
    assert run.interrupted and run.stop_reason == "interrupted"
    notes = [getattr(i, "text", "") for i in run.transcript.items]
    assert notes == [
        "timed out after 1 s: stopping the agent…",
        "interrupted; the session may still be running: `%agent interrupt` stops it",
    ]


def test_deadline_is_kept_when_the_stream_is_slow_to_open(ip: Any, emu: Any) -> None:
    from nb_agents.api import DeadlineExceeded, EventLoop

    sid = (
        emu.client()
        .beta.sessions.create(
            agent=emu.client().beta.agents.create(name="slow-open", model="claude-sonnet-4-6").id,
            environment_id=emu.client().beta.environments.create(name="slow-open").id,
        )
        .id
    )
    emu.faults.update(latency=3.0, routes=("GET /v1/sessions/*/events/stream",))
    loop = EventLoop(emu.client(), sid, on_event=lambda e: None)
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        loop.run(deadline=t0 + 1.0)
    assert time.monotonic() - t0 < 1.6
