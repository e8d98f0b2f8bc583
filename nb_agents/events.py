"""Events as the SDK models them, to and from wire JSON, and how their fields are read.

Every event inside nb_agents is an SDK model from the stream union
(`BetaManagedAgentsStreamSessionEvents`). This module is the one place that turns wire
JSON (cassettes, fixtures, tests) into those models and back, leniently, exactly as the
SDK's own stream decoder does: an unknown `type` still builds a model and keeps its string.
`jsonable` turns models (and the dataclasses, dates and paths around them) into plain JSON data.
Code that reads events, usage or sessions reads their fields the same way on a model or on
a wire dict (`get_field`), and turns a money amount into dollars in one place (`usd`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["event_from_json", "event_to_json", "event_type", "get_field", "jsonable", "usd"]


def get_field(obj: Any, name: str, default: Any = None) -> Any:
    """`obj.name` on an SDK model, `obj[name]` on a wire dict; `default` when absent or `obj` is None."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def usd(money: Any) -> float | None:
    """Dollars from a money object (`{"amount": "<cents>", "currency": "USD"}`, model or dict):
    the API counts cents, as a string of digits. None when absent or not a finite number."""
    amount = get_field(money, "amount")
    if amount is None or isinstance(amount, bool):
        return None
    try:
        cents = float(str(amount))
    except ValueError:
        return None
    return cents / 100.0 if math.isfinite(cents) else None


@functools.cache
def _event_models() -> tuple[Any, dict[str, Any]]:
    """The stream union's first member (what the SDK builds for an unknown `type`) and each
    member by its `type` literal."""
    from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents

    union = typing.get_args(BetaManagedAgentsStreamSessionEvents)[0]  # Annotated[Union[...], discriminator]
    members = typing.get_args(union)
    by_type: dict[str, Any] = {}
    for model in members:
        field = model.model_fields.get("type")
        for literal in typing.get_args(field.annotation) if field is not None else ():
            by_type.setdefault(literal, model)
    return members[0], by_type


def event_from_json(value: dict[str, Any]) -> Any:
    """Build the SDK event model for one wire JSON object (never raises on unknown types).

    The member is picked by `type` and built with the SDK models' public lenient `construct`
    (nested models too), as the SDK's stream decoder does, without its private
    `anthropic._models.construct_type`."""
    first, by_type = _event_models()
    kind = value.get("type")
    model = by_type.get(kind, first) if isinstance(kind, str) else first
    return model.construct(**value)


def event_to_json(event: Any) -> dict[str, Any]:
    """Wire JSON for an SDK event model (or pass a dict through)."""
    if isinstance(event, dict):
        return event
    return event.model_dump(mode="json", exclude_unset=True, by_alias=True)


def event_type(event: Any) -> str:
    """The raw `type` string of an event or a content block, model or dict ("" when absent)."""
    return str(get_field(event, "type", ""))


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
