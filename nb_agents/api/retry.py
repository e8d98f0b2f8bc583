"""Which failed API calls are worth another attempt, and how long to wait before it.

One policy for every caller: the event loop's sends and reconnects, the output pull after a
turn, and the fan-out's per-item retries. A failure is transient when the server says so with
its status (408 request timeout, 409 conflict, 429 rate limit, any 5xx) or when no answer came
at all (connection refused or reset, a timeout, a stream cut mid-read). The verdict is read
from attributes (the SDK's `status_code`, `AgentAPIError.status` / `.connection`), never from
the wording of a message.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ..errors import AgentAPIError

__all__ = ["BACKOFF_CAP", "BACKOFF_START", "RETRYABLE_STATUSES", "backoff", "is_connection_error", "is_retryable",
           "retryable_status"]

RETRYABLE_STATUSES = frozenset({408, 409, 429})  # and every 5xx
BACKOFF_START = 0.5  # seconds before the first retry
BACKOFF_CAP = 8.0  # the longest wait before jitter


def retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


def is_connection_error(exc: BaseException) -> bool:
    """No answer came: the SDK's connection error (it wraps timeouts), or the HTTP layer failing
    under a stream that is already being read (the SDK does not wrap those)."""
    import anthropic
    import httpx2

    return isinstance(exc, (anthropic.APIConnectionError, httpx2.HTTPError))


def _verdict(exc: BaseException) -> bool | None:
    """Whether `exc` itself is transient; None when it carries no status and is no connection error."""
    if isinstance(exc, AgentAPIError):
        if exc.connection:
            return True
        return None if exc.status is None else retryable_status(exc.status)
    status = getattr(exc, "status_code", None)  # anthropic.APIStatusError
    if isinstance(status, int):
        return retryable_status(status)
    return True if is_connection_error(exc) else None


def is_retryable(exc: BaseException) -> bool:
    """Whether `exc` is a transient API failure. A one-line error raised from an SDK error
    (`raise FileSyncError(...) from None` still keeps it as the context) is judged by the first
    exception of the chain that has a status or is a connection error."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        verdict = _verdict(cur)
        if verdict is not None:
            return verdict
        cur = cur.__cause__ or cur.__context__
    return False


def backoff(
    attempt: int, *, start: float | None = None, cap: float | None = None,
    jitter: Callable[[], float] | None = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (1 = the first retry): `start`·2^(attempt-1),
    at most `cap`, times a factor in [0.5, 1.5) drawn from `jitter`, so that many clients failing
    together (a fan-out in a rate-limit storm) do not come back in step. `jitter=None`: no factor.
    `start`/`cap` default to `BACKOFF_START`/`BACKOFF_CAP`, read at each call."""
    start = BACKOFF_START if start is None else start
    cap = BACKOFF_CAP if cap is None else cap
    wait = min(cap, start * 2.0 ** min(max(0, attempt - 1), 64))  # (a loop reconnecting for hours must not overflow)
    return wait if jitter is None else wait * (0.5 + jitter())
