"""User-facing errors: one line, no traceback.

Every mistake a user can make (bad flag, unknown `{{name}}`, missing file, no API key…)
raises a subclass of `NbAgentsError`, which is an IPython `UsageError`: IPython prints its
message on one line without a traceback. API failures are turned into one line with the
status, the API's message and the request id by `format_api_error`, scrubbed of secrets (a proxy
or a server can echo a header back; the line is printed and saved with the notebook); the
`AgentAPIError` keeps the status (or that no answer came at all) as attributes, so whether to
try again is decided from those, never from the wording.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from IPython.core.error import UsageError

from .scrub import scrub_text

__all__ = [
    "NbAgentsError",
    "ConfigError",
    "InterpolationError",
    "FileSyncError",
    "ToolSetupError",
    "NoBackendError",
    "AgentAPIError",
    "SessionError",
    "format_api_error",
    "did_you_mean",
]


class NbAgentsError(UsageError):
    """Base class: a user mistake or an expected failure, shown as one line."""


class ConfigError(NbAgentsError):
    """Bad option value or configuration."""


class InterpolationError(NbAgentsError):
    """Unknown or failing `{{name}}` in a prompt."""


class FileSyncError(NbAgentsError):
    """An input could not be uploaded or an output could not be pulled."""


class ToolSetupError(NbAgentsError):
    """A custom tool could not be turned into a tool definition."""


class NoBackendError(NbAgentsError):
    """Neither an API key nor the offline emulator is configured."""


class AgentAPIError(NbAgentsError):
    """An API call failed; the message is already one line.

    `status`: the HTTP status the API answered with (None when there was no answer, or the
    failure is not about one request); `connection`: True when the API could not be reached
    (connection refused or reset, timeout, a stream cut mid-read)."""

    def __init__(self, message: str, *, status: int | None = None, connection: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.connection = connection


class SessionError(NbAgentsError):
    """Unknown session name or id, or a session that cannot take this action."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`" (did you mean 'model'?)"` for the closest choice, or `""` when nothing is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _plain(message: str) -> str:
    """One line of text; a proxy's HTML error page is reduced to its title (or its text)."""
    if re.search(r"<\s*(html|head|body|title)\b", message, re.I):
        title = re.search(r"<title[^>]*>(.*?)</title>", message, re.I | re.S)
        message = title.group(1) if title else re.sub(r"<[^>]+>", " ", message)
        message = f"{html.unescape(message).strip()} (an HTML page, not the API's JSON)"
    return " ".join(message.split())


def format_api_error(exc: Any) -> str:
    """`API error 404 (not_found_error): Session sesn_… not found [request_id: req_…]`."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    err_type = None
    message = None
    if isinstance(body, dict):
        err = body.get("error") if isinstance(body.get("error"), dict) else body
        err_type = err.get("type") if isinstance(err, dict) else None
        message = err.get("message") if isinstance(err, dict) else None
    message = scrub_text(_plain(str(message or getattr(exc, "message", None) or str(exc))))
    if len(message) > 300:
        message = message[:297] + "..."
    request_id = getattr(exc, "request_id", None)
    parts = ["API error"]
    if status is not None:
        parts.append(str(status))
    head = " ".join(parts)
    if err_type:
        head += f" ({err_type})"
    line = f"{head}: {message}"
    if request_id:
        line += f" [request_id: {request_id}]"
    return line
