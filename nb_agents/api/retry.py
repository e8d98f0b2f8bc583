"""Which failed API calls are worth another attempt, and how long to wait before it.

One policy for every caller: the event loop's sends and reconnects, the output pull after a
turn, and the fan-out's per-item retries. A failure is transient when the server says so with
its status (408 request timeout, 409 conflict, 429 rate limit, any 5xx) or when no answer came
at all (connection refused or reset, a timeout, a stream cut mid-read). The verdict is read
from attributes (the SDK's `status_code`, `AgentAPIError.status` / `.connection`), never from
the wording of a message. When the server says how long to wait (`retry-after-ms`, or
`retry-after` in seconds or as an HTTP date, as the SDK reads them), that wait is kept, up to
`RETRY_AFTER_CAP`; otherwise the backoff below.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import AgentAPIError

__all__ = ["ATTEMPTS", "BACKOFF_CAP", "BACKOFF_START", "RETRYABLE_STATUSES", "RETRY_AFTER_CAP", "backoff",
           "is_connection_error", "is_retryable", "retry_after", "retry_wait", "retrying", "retryable_status"]

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 409, 429})  # and every 5xx
BACKOFF_START = 0.5  # seconds before the first retry
BACKOFF_CAP = 8.0  # the longest wait before jitter
RETRY_AFTER_CAP = 60.0  # the longest server-asked wait kept (a longer one is cut to this)
ATTEMPTS = 5  # tries of one call (`retrying`): four transient failures in a row are survived (~8 s)


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


def _chain(exc: BaseException):
    """`exc`, then its causes/contexts, each once."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def is_retryable(exc: BaseException) -> bool:
    """Whether `exc` is a transient API failure. A one-line error raised from an SDK error
    (`raise FileSyncError(...) from None` still keeps it as the context) is judged by the first
    exception of the chain that has a status or is a connection error."""
    for cur in _chain(exc):
        verdict = _verdict(cur)
        if verdict is not None:
            return verdict
    return False


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked to wait before the next attempt, read from the response headers
    of the first error in `exc`'s chain that has a response (`retry-after-ms`, then `retry-after`
    as seconds or an HTTP date); None when it did not say (or said nothing usable)."""
    for cur in _chain(exc) if exc is not None else ():
        headers = getattr(getattr(cur, "response", None), "headers", None)
        if headers is None:
            continue
        for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                value = float(headers.get(name)) * scale
            except (TypeError, ValueError):
                continue
            return value if value >= 0 else None
        when = email.utils.parsedate_tz(headers.get("retry-after") or "")
        return None if when is None else max(0.0, email.utils.mktime_tz(when) - time.time())
    return None


def retry_wait(attempt: int, exc: BaseException | None, *, start: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` after `exc`: what the server asked
    (`retry_after`, at most `RETRY_AFTER_CAP`), else `backoff(attempt, start=start)`."""
    asked = retry_after(exc)
    return backoff(attempt, start=start) if asked is None else min(asked, RETRY_AFTER_CAP)


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


def retrying(call: Callable[[], T], *, attempts: int | None = None, start: float | None = None) -> T:
    """`call()`, tried again after a transient failure (`is_retryable`), at most `attempts` times
    in all (default `ATTEMPTS`), waiting `retry_wait(n, failure, start=start)` in between; the last failure,
    or any other one, is raised as it came. Only for calls that are safe to repeat: reads, and
    creates that look for what a lost answer made before making it again (client.py)."""
    attempts = ATTEMPTS if attempts is None else attempts
    for attempt in range(1, max(1, attempts)):
        try:
            return call()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            wait = retry_wait(attempt, exc, start=start)
        time.sleep(wait)
    return call()
