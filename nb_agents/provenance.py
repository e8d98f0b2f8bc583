"""Provenance: the `{"nb_agents": {...}}` dict a run's display output carries in its metadata.

It records what ran (session, agent and version, model, environment, backend), on what
(input content hashes), what it cost (usage, cost, stop reason) and when, so a saved notebook
says where each answer came from. Everything is JSON-safe (nbformat stores it as is) and
scrubbed of secrets (`nb_agents.scrub`): a saved notebook is shared with its metadata.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .events import jsonable
from .scrub import scrub

__all__ = ["FIELDS", "build_provenance", "provenance_from_run", "provenance_from_cassette"]

FIELDS = (
    "session_id", "agent_id", "agent_version", "model", "environment_id", "input_hashes", "usage",
    "cost_usd", "stop_reason", "started_at", "ended_at", "backend", "nb_agents_version",
)
_USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


def _usage(usage: Any) -> dict[str, int]:
    data = jsonable(usage) or {}
    if not isinstance(data, Mapping):
        return {}
    return {k: int(data.get(k) or 0) for k in _USAGE_KEYS}


def build_provenance(*, session_id: str | None = None, agent_id: str | None = None,
                     agent_version: int | None = None, model: str | None = None,
                     environment_id: str | None = None, input_hashes: Mapping[str, str] | None = None,
                     usage: Any = None, cost_usd: float | None = None, stop_reason: Any = None,
                     started_at: Any = None, ended_at: Any = None, backend: str = "service",
                     **extra: Any) -> dict[str, dict[str, Any]]:
    """`{"nb_agents": {...}}` with every field of FIELDS (None when unknown) plus `extra`."""
    from ._version import __version__

    if backend not in ("service", "emulator"):
        raise ValueError(f"backend must be 'service' or 'emulator', not {backend!r}")
    stop = getattr(stop_reason, "type", None) or (
        stop_reason.get("type") if isinstance(stop_reason, Mapping) else stop_reason)
    data: dict[str, Any] = {
        "session_id": session_id,
        "agent_id": agent_id,
        "agent_version": agent_version,
        "model": model,
        "environment_id": environment_id,
        "input_hashes": dict(sorted((input_hashes or {}).items())),
        "usage": _usage(usage),
        "cost_usd": None if cost_usd is None else round(float(cost_usd), 6),
        "stop_reason": stop,
        "started_at": _time(started_at),
        "ended_at": _time(ended_at),
        "backend": backend,
        "nb_agents_version": __version__,
    }
    data.update({k: jsonable(v) for k, v in extra.items()})
    return {"nb_agents": scrub(data)}


def provenance_from_run(run: Any, *, backend: str | None = None, **fields: Any) -> dict[str, dict[str, Any]]:
    """Provenance of a Run (or ReplayRun); `fields` fill what the Run does not know or override it."""
    taken = {f: getattr(run, f, None) for f in FIELDS if f not in ("backend", "nb_agents_version")}
    taken.update({k: v for k, v in fields.items() if v is not None})
    t = getattr(run, "transcript", None)  # event times: the run's own, also when replayed
    taken["started_at"] = taken.get("started_at") or getattr(t, "started_at", None)
    taken["ended_at"] = taken.get("ended_at") or getattr(t, "ended_at", None)
    if getattr(run, "replayed", False):
        cas = run.cassette
        taken.setdefault("replayed_from", str(cas.path))
        taken.setdefault("recorded_at", cas.created_at)
        for key in ("agent_id", "agent_version", "model", "environment_id", "input_hashes"):
            taken[key] = taken.get(key) or cas.header.get(key)
        backend = backend or cas.header.get("backend")
    return build_provenance(**taken, backend=backend or "service")


def provenance_from_cassette(cas: Any) -> dict[str, dict[str, Any]]:
    """Provenance of a recorded turn, from its header and footer."""
    h, s = cas.header, cas.summary
    return build_provenance(
        session_id=s.get("session_id") or h.get("session_id"), agent_id=h.get("agent_id"),
        agent_version=h.get("agent_version"), model=h.get("model"), environment_id=h.get("environment_id"),
        input_hashes=h.get("input_hashes"), usage=s.get("usage"), cost_usd=s.get("cost_usd"),
        stop_reason=s.get("stop_reason"), started_at=s.get("started_at"), ended_at=s.get("ended_at"),
        backend=h.get("backend") or "service", recorded_at=cas.created_at,
    )
