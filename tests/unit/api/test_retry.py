"""The one retry policy (api/retry.py): what is transient, read from attributes only, and the
backoff schedule; and the `AgentAPIError` attributes it reads, set where the error is raised."""

from __future__ import annotations

import anthropic
import httpx2
import pytest

from nb_agents.api import retry
from nb_agents.api.client import api_call, api_error
from nb_agents.api.retry import backoff, is_retryable, retryable_status
from nb_agents.errors import AgentAPIError, FileSyncError


def status_error(status: int) -> anthropic.APIStatusError:
    request = httpx2.Request("POST", "http://x/v1/sessions")
    return anthropic.APIStatusError("boom", response=httpx2.Response(status, request=request), body=None)


def conn_error() -> anthropic.APIConnectionError:
    return anthropic.APIConnectionError(request=httpx2.Request("GET", "http://x"))


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 529])
def test_transient_statuses(status):
    assert retryable_status(status)
    assert is_retryable(status_error(status)) and is_retryable(AgentAPIError("x", status=status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_are_not_retried(status):
    assert not retryable_status(status)
    assert not is_retryable(status_error(status)) and not is_retryable(AgentAPIError("x", status=status))


def test_no_answer_is_transient():
    assert is_retryable(conn_error()) and is_retryable(AgentAPIError("x", connection=True))
    assert is_retryable(httpx2.RemoteProtocolError("cut"))  # a stream cut mid-read


def test_the_wording_is_never_read():
    assert not is_retryable(AgentAPIError("API error 503 (overloaded_error): cannot reach the API, connection"))
    assert not is_retryable(ValueError("API error 429"))


def test_a_wrapping_error_is_judged_by_what_it_wraps():
    def pull() -> None:
        try:
            raise status_error(503)
        except anthropic.APIStatusError:
            raise FileSyncError("could not list the outputs") from None  # the context stays

    with pytest.raises(FileSyncError) as info:
        pull()
    assert is_retryable(info.value)
    outer = AgentAPIError("bad request", status=400)
    outer.__cause__ = status_error(503)
    assert not is_retryable(outer)  # the error's own status decides first


def test_backoff_schedule():
    assert [backoff(n, jitter=None) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff(2, jitter=lambda: 0.0) == 0.5 and backoff(2, jitter=lambda: 0.999) == pytest.approx(1.499)
    assert backoff(3, start=0.2, jitter=None) == pytest.approx(0.8) and backoff(9, cap=3.0, jitter=None) == 3.0
    assert backoff(5000, jitter=None) == 8.0  # hours of reconnects in a row
    waits = {backoff(1) for _ in range(20)}
    assert len(waits) > 1 and all(0.25 <= w < 0.75 for w in waits)


def test_backoff_reads_its_defaults_at_each_call(monkeypatch):
    monkeypatch.setattr(retry, "BACKOFF_START", 0.01)
    assert backoff(1, jitter=None) == 0.01


def test_api_errors_carry_status_and_connection():
    made = api_error(status_error(503))
    assert made.status == 503 and not made.connection and str(made).startswith("API error 503")
    made = api_error(conn_error())
    assert made.status is None and made.connection and str(made).startswith("cannot reach the API")

    def fail(exc: Exception) -> None:
        raise exc

    with pytest.raises(AgentAPIError) as info:
        api_call(fail, status_error(404))
    assert info.value.status == 404 and not is_retryable(info.value)
    with pytest.raises(AgentAPIError) as info:
        api_call(fail, conn_error())
    assert info.value.connection and is_retryable(info.value)


def status_error_with(headers: dict[str, str], status: int = 429) -> anthropic.APIStatusError:
    request = httpx2.Request("POST", "http://x/v1/sessions")
    response = httpx2.Response(status, request=request, headers=headers)
    return anthropic.APIStatusError("slow down", response=response, body=None)


def test_the_servers_retry_after_is_kept(monkeypatch):
    from email.utils import formatdate

    assert retry.retry_after(status_error_with({"retry-after-ms": "1500"})) == 1.5
    assert retry.retry_after(status_error_with({"retry-after": "3"})) == 3.0
    dated = retry.retry_after(status_error_with({"retry-after": formatdate(__import__("time").time() + 20, usegmt=True)}))
    assert dated is not None and 17 <= dated <= 21
    assert retry.retry_after(status_error_with({})) is None
    assert retry.retry_after(status_error_with({"retry-after": "soon"})) is None
    assert retry.retry_after(conn_error()) is None and retry.retry_after(None) is None
    # a one-line error raised from the SDK's keeps the header through its chain
    try:
        try:
            raise status_error_with({"retry-after": "2"})
        except anthropic.APIStatusError as exc:
            raise FileSyncError("upload failed") from exc
    except FileSyncError as wrapped:
        assert retry.retry_after(wrapped) == 2.0
    # the wait: what the server asked (capped), else the jittered backoff
    assert retry.retry_wait(1, status_error_with({"retry-after": "2"})) == 2.0
    assert retry.retry_wait(1, status_error_with({"retry-after": "3600"})) == retry.RETRY_AFTER_CAP
    assert 0.25 <= retry.retry_wait(1, status_error_with({})) < 0.75


def test_retrying_waits_what_the_server_asked(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(retry.time, "sleep", waits.append)
    failures = iter([status_error_with({"retry-after": "1.25"}, 503), status_error(503)])

    def call() -> str:
        exc = next(failures, None)
        if exc is not None:
            raise exc
        return "ok"

    assert retry.retrying(call) == "ok"
    assert waits[0] == 1.25 and 0.5 <= waits[1] < 1.5
