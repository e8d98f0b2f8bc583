"""Secret scrubbing: nothing that looks like a credential is ever written to disk.

Used by the cassette recorder on every string (header, events, footer) and on every file it
stores. Redacted: the current ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN values and any extra
secrets given, `sk-ant-…` keys, `Bearer`/`Basic` credentials, `x-api-key: …`-style assignments
in text, and the value of JSON keys named like credentials.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "scrub", "scrub_bytes"]

REDACTED = "[REDACTED]"
_SECRET_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
_SECRET_KEYS = re.compile(
    r"^(x-api-key|api[_-]?key|authorization|proxy-authorization|auth[_-]?token|access[_-]?token|"
    r"secret|password|anthropic[_-]api[_-]key|anthropic[_-]auth[_-]token)$",
    re.I,
)
_PATTERNS = [
    (re.compile(r"sk-ant-[A-Za-z0-9_\-]{6,}"), REDACTED),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{6,}", re.I), r"\1 " + REDACTED),
    (
        re.compile(
            r"\b(x-api-key|api[_-]?key|authorization|auth[_-]?token|anthropic_api_key|anthropic_auth_token)"
            # a token-like value, not code such as `api_key = os.environ["..."]` or `get_key()`
            r"([\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED\])(?:(?:Bearer|Basic)\s+)?[A-Za-z0-9._~+/=\-]{8,}(?![\w\[(.])",
            re.I,
        ),
        r"\1\2" + REDACTED,
    ),
]


def _secret_values(extra: Iterable[str]) -> list[str]:
    # Short values would redact ordinary words; real keys are long.
    values = [os.environ.get(name, "") for name in _SECRET_ENV] + [str(s) for s in extra]
    return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)


def scrub(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A deep copy of JSON data with keys, tokens and the current API key replaced by [REDACTED]."""
    literals = _secret_values(secrets)

    def text(s: str) -> str:
        for lit in literals:
            s = s.replace(lit, REDACTED)
        for pattern, repl in _PATTERNS:
            s = pattern.sub(repl, s)
        return s

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return text(v)
        if isinstance(v, Mapping):
            out = {}
            for k, item in v.items():
                secret_key = isinstance(k, str) and _SECRET_KEYS.match(k) and isinstance(item, str)
                out[text(str(k))] = REDACTED if secret_key and item else walk(item)
            return out
        if isinstance(v, (list, tuple)):
            return [walk(item) for item in v]
        return v

    return walk(value)


def scrub_bytes(data: bytes, secrets: Iterable[str] = ()) -> bytes:
    """A file's bytes with secrets redacted (text as in `scrub`; binary: literal keys only)."""
    try:
        return str(scrub(data.decode("utf-8"), secrets)).encode("utf-8")
    except UnicodeDecodeError:
        # Binary (images, parquet): only literal secrets can hide there.
        for lit in _secret_values(secrets):
            data = data.replace(lit.encode(), REDACTED.encode())
        return re.sub(rb"sk-ant-[A-Za-z0-9_\-]{6,}", REDACTED.encode(), data)
