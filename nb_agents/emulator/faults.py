"""Fault injection for one emulator server: error storms, added latency, cut streams.

Tests of retries and reconnects turn faults on and off on a running server
(`emu.faults.update(error_rate=1.0, error_statuses=(529,))`, `emu.faults.fail_next(2, 500)`,
`emu.faults.update(stream_cut_after=3)`). Random choices come from one seeded generator so a
run is reproducible. Routes are matched as `"METHOD /path"` against fnmatch patterns, e.g.
`"POST /v1/sessions/*/events"` or `"* /v1/files*"`.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["FaultConfig", "Faults", "StreamCut"]


@dataclass(frozen=True)
class FaultConfig:
    """What to break. Defaults break nothing."""

    error_rate: float = 0.0  # share of matching requests answered with an error
    error_statuses: tuple[int, ...] = (429, 500, 529)
    retry_after: float | None = 0.1  # `retry-after` seconds on injected errors (None: no header)
    routes: tuple[str, ...] = ("*",)  # fnmatch patterns on "METHOD /path"
    latency: float = 0.0  # seconds added before matching requests are handled
    stream_cut_after: int | None = None  # end every stream after this many frames
    stream_cut_rate: float = 0.0  # per-frame chance of cutting the stream mid-frame
    stream_cut_mode: str = "abort"  # "abort": drop the connection; "eof": clean end of stream
    seed: int = 0


@dataclass
class StreamCut:
    """The per-stream decision: send `keep` bytes of the frame, then cut (`None`: send all)."""

    keep: int | None
    abort: bool


@dataclass
class Faults:
    config: FaultConfig = field(default_factory=FaultConfig)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _forced: list[tuple[int, str]] = field(default_factory=list)  # (status, route pattern)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.config.seed)

    @classmethod
    def from_any(cls, value: FaultConfig | dict[str, Any] | Faults | None) -> Faults:
        if isinstance(value, Faults):
            return value
        if isinstance(value, dict):
            return cls(_config(FaultConfig(), value))
        return cls(value or FaultConfig())

    def update(self, **changes: Any) -> FaultConfig:
        """Change some settings on a running server; a new `seed` restarts the generator."""
        with self._lock:
            self.config = _config(self.config, changes)
            if "seed" in changes:
                self._rng = random.Random(self.config.seed)
            return self.config

    def reset(self) -> None:
        with self._lock:
            self.config = FaultConfig()
            self._forced.clear()
            self._rng = random.Random(0)

    def fail_next(self, n: int, status: int = 500, route: str = "*") -> None:
        """Answer the next `n` requests matching `route` with `status` (deterministic)."""
        with self._lock:
            self._forced.extend([(status, route)] * n)

    def latency_for(self, route: str) -> float:
        cfg = self.config
        return cfg.latency if cfg.latency and _matches(cfg.routes, route) else 0.0

    def error_for(self, route: str) -> tuple[int, dict[str, str]] | None:
        """The injected (status, headers) for this request, or None."""
        with self._lock:
            cfg = self.config
            status = None
            for i, (forced, pattern) in enumerate(self._forced):
                if fnmatch.fnmatchcase(route, pattern):
                    status = forced
                    del self._forced[i]
                    break
            if status is None and cfg.error_rate and _matches(cfg.routes, route):
                if self._rng.random() < cfg.error_rate:
                    status = self._rng.choice(cfg.error_statuses)
        if status is None:
            return None
        headers = {"x-should-retry": "true"}
        if cfg.retry_after is not None:
            headers["retry-after"] = f"{cfg.retry_after:g}"
        return status, headers

    def stream_cut(self, frames_sent: int, frame_len: int) -> StreamCut:
        """Decide, before sending a frame, whether the stream is cut at or inside it."""
        with self._lock:
            cfg = self.config
            abort = cfg.stream_cut_mode == "abort"
            if cfg.stream_cut_after is not None and frames_sent >= cfg.stream_cut_after:
                return StreamCut(0, abort)
            if cfg.stream_cut_rate and self._rng.random() < cfg.stream_cut_rate:
                return StreamCut(self._rng.randrange(0, max(frame_len, 1)), abort)
        return StreamCut(None, abort)


def _matches(patterns: tuple[str, ...], route: str) -> bool:
    return any(fnmatch.fnmatchcase(route, p) for p in patterns)


def _config(base: FaultConfig, changes: dict[str, Any]) -> FaultConfig:
    known = {f.name for f in fields(FaultConfig)}
    unknown = set(changes) - known
    if unknown:
        raise TypeError(
            f"unknown fault setting(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    for key in ("error_statuses", "routes"):
        if key in changes and isinstance(changes[key], (int, str)):
            changes = {**changes, key: (changes[key],)}
        elif key in changes:
            changes = {**changes, key: tuple(changes[key])}
    if changes.get("stream_cut_mode", "abort") not in ("abort", "eof"):
        raise ValueError("stream_cut_mode must be 'abort' or 'eof'")
    return replace(base, **changes)
