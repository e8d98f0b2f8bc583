"""One-line user errors and API error formatting."""

from __future__ import annotations

import httpx2
import pytest
from IPython.core.error import UsageError

from nb_agents import errors
from nb_agents.errors import did_you_mean, format_api_error


def test_every_error_is_a_usage_error():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, errors.NbAgentsError) and issubclass(obj, UsageError)


def test_did_you_mean():
    assert did_you_mean("modle", ["model", "system"]) == " (did you mean 'model'?)"
    assert did_you_mean("zzz", ["model"]) == ""


def test_format_api_error_from_a_real_sdk_exception():
    import anthropic

    request = httpx2.Request("GET", "https://api.anthropic.com/v1/sessions/sesn_x")
    body = {"type": "error", "error": {"type": "not_found_error", "message": "Session sesn_x\nnot found"}}
    response = httpx2.Response(404, json=body, request=request, headers={"request-id": "req_123"})
    exc = anthropic.NotFoundError("Session not found", response=response, body=body)
    line = format_api_error(exc)
    assert line == "API error 404 (not_found_error): Session sesn_x not found [request_id: req_123]"
    assert "\n" not in line


@pytest.mark.parametrize("n", [400])
def test_long_messages_are_cut(n):
    class Fake:
        status_code = 400
        body = {"error": {"type": "invalid_request_error", "message": "x" * n}}

    assert len(format_api_error(Fake())) < 360
