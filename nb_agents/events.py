"""Events as the SDK models them, to and from wire JSON.

Every event inside nb_agents is an SDK model from the stream union
(`BetaManagedAgentsStreamSessionEvents`). This module is the one place that turns wire
JSON (cassettes, fixtures, tests) into those models and back, leniently, exactly as the
SDK's own stream decoder does: an unknown `type` still builds a model and keeps its string.
"""

from __future__ import annotations

import functools
import typing
from typing import Any

__all__ = ["event_from_json", "event_to_json", "event_type"]


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
    """The raw `type` string of an event model or dict."""
    if isinstance(event, dict):
        return str(event.get("type", ""))
    return str(getattr(event, "type", ""))
