"""Small pieces every emulator module shares: ids, timestamps, API errors.

Also the single configuration object passed down to every part (`EmulatorConfig`).

Ids follow the hosted shape: `<prefix>_01` plus 22 base58 characters. Timestamps are
RFC 3339 UTC with microseconds and a `Z`, strictly increasing within the process so
that `processed_at` order equals emission order.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["ApiError", "EmulatorConfig", "new_id", "now", "iso", "now_iso", "parse_iso"]

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def new_id(prefix: str) -> str:
    """A fresh id such as `sesn_01Ab…` (24 characters after the underscore)."""
    return f"{prefix}_01" + "".join(secrets.choice(_B58) for _ in range(22))


_clock_lock = threading.Lock()
_last_us = 0


def now() -> datetime:
    """Current UTC time, strictly increasing (at least 1 µs apart) across calls."""
    global _last_us
    with _clock_lock:
        us = max(time.time_ns() // 1000, _last_us + 1)
        _last_us = us
    return datetime.fromtimestamp(us / 1_000_000, tz=timezone.utc)


def iso(dt: datetime) -> str:
    """`2026-05-28T23:35:32.655125Z`."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return iso(now())


def parse_iso(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (`Z` or an offset; naive means UTC)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass
class EmulatorConfig:
    """Everything a server instance is configured with; passed down unchanged to runtimes."""

    brain: str = "analyst"
    scenario_dirs: list[Path] = field(default_factory=list)
    scenarios: dict[str, Any] = field(default_factory=dict)
    turn_delay: float = 0.0
    sandbox_root: Path | None = None
    heartbeat_interval: float = 15.0
    max_upload_bytes: int = 500 * 1024 * 1024  # the Files API limit; tests lower it
    faults: Any = None  # faults.FaultConfig, a dict of its fields, or None
    schedule_interval: float = 1.0  # how often deployment schedules are checked (seconds)
    clock: Any = None  # () -> epoch seconds for deployment schedules only (tests); None: time.time
    dream_step_delay: float = 0.5  # seconds a dream stays pending, then running
    work_ttl: float = 90.0  # self-hosted work: a lease not renewed this long is queued again (tests shorten it)


_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


class ApiError(Exception):
    """An error answered with the API's error shape:
    `{"type":"error","error":{"type","message","details"?},"request_id"}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        error_code: str | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type or _STATUS_TYPES.get(status, "api_error")
        self.error_code = error_code
        self.headers = headers or {}
        self.details = details or {}

    def body(self, request_id: str) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.error_code:
            err["details"] = {"error_code": self.error_code, **self.details}
        return {"type": "error", "error": err, "request_id": request_id}
