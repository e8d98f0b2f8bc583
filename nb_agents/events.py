"""Events as the SDK models them, to and from wire JSON.

Every event inside nb_agents is an SDK model from the stream union
(`BetaManagedAgentsStreamSessionEvents`). This module is the one place that turns wire
JSON (cassettes, fixtures, tests) into those models and back, leniently, exactly as the
SDK's own stream decoder does: an unknown `type` still builds a model and keeps its string.
`jsonable` turns models (and the dataclasses, dates and paths around them) into plain JSON data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["event_from_json", "event_to_json", "event_type", "jsonable"]


def event_from_json(value: dict[str, Any]) -> Any:
    """Build the SDK event model for one wire JSON object (never raises on unknown types)."""
    from anthropic._models import construct_type
    from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents

    return construct_type(type_=BetaManagedAgentsStreamSessionEvents, value=value)


def event_to_json(event: Any) -> dict[str, Any]:
    """Wire JSON for an SDK event model (or pass a dict through)."""
    if isinstance(event, dict):
        return event
    return event.model_dump(mode="json", exclude_unset=True, by_alias=True)


def event_type(event: Any) -> str:
    """The raw `type` string of an event model or dict."""
    if isinstance(event, dict):
        return str(event.get("type", ""))
    return str(getattr(event, "type", ""))


def jsonable(value: Any) -> Any:
    """Plain JSON data for SDK models, dataclasses, datetimes and mappings."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return str(value)
