"""Helpers for the tests of the memory store, vault, deployment and dream endpoints.

`body(response, model)` checks the raw JSON of a `with_raw_response` call strictly against the
SDK model (`conforms`) and also that every key the model declares is sent (null when empty; left
out only where the TypeScript SDK declares it optional and never null), recursively; `page(...)` does the same for each item of a list page.
"""

from __future__ import annotations

import json
import time
import typing
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

import anthropic
from anthropic.types.shared.error_type import ErrorType
from pydantic import BaseModel

from nb_agents.emulator import sdk_shapes
from nb_agents.emulator.validation import conforms

__all__ = ["body", "page", "all_keys", "api_error", "wait_for", "wait_idle", "text_event", "events"]


def _members(tp: Any) -> list[Any]:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, getattr(__import__("types"), "UnionType", Union)):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _may_be_absent(prop: Any) -> bool:
    """The TypeScript SDK declares the key optional and never null (`key?: T`): an empty one is
    left out, not sent as null (see nb_agents/emulator/sdk_shapes.py)."""
    return prop is not None and not prop["required"] and not sdk_shapes.nullable(prop["type"])


def all_keys(tp: Any, value: Any, path: str = "") -> list[str]:
    """Paths of keys a model declares that `value` leaves out (recursively), except those the
    TypeScript SDK declares optional and never null."""
    missing: list[str] = []
    for member in _members(tp):
        origin = get_origin(member)
        if origin in (list, typing.List) and isinstance(value, list):  # noqa: UP006
            (item_t,) = get_args(member) or (Any,)
            for i, item in enumerate(value):
                missing += all_keys(item_t, item, f"{path}.{i}")
            return missing
        if origin in (dict, typing.Dict) and isinstance(value, dict):  # noqa: UP006
            return missing
        if isinstance(member, type) and issubclass(member, BaseModel) and isinstance(value, dict):
            if conforms(member, value):
                continue  # another union member
            declared = sdk_shapes.shapes()["types"].get(member.__name__, {}).get("object", {})
            for name, field in member.model_fields.items():
                key = field.alias or name
                if key not in value and _may_be_absent(declared.get(key)):
                    continue
                if key not in value:
                    missing.append(f"{path}.{key}".lstrip("."))
                else:
                    missing += all_keys(field.annotation, value[key], f"{path}.{key}")
            return missing
    return missing


def _check(model: Any, data: Any) -> Any:
    problems = conforms(model, data)
    assert problems == [], f"{getattr(model, '__name__', model)}: {problems} in {json.dumps(data)[:600]}"
    missing = all_keys(model, data)
    assert missing == [], f"{getattr(model, '__name__', model)} leaves out {missing} in {json.dumps(data)[:600]}"
    return data


def body(response: Any, model: Any) -> dict[str, Any]:
    assert response.http_response.headers["request-id"].startswith("req_")
    return _check(model, response.http_response.json())  # type: ignore[no-any-return]


def page(response: Any, model: Any) -> dict[str, Any]:
    data = response.http_response.json()
    assert set(data) == {"data", "next_page"}
    for item in data["data"]:
        _check(model, item)
    return data  # type: ignore[no-any-return]


def api_error(exc: anthropic.APIStatusError, status: int, error_type: str | None = None) -> dict[str, Any]:
    """The error body of `exc` (the API's shape), checked; returns `error`."""
    assert exc.status_code == status, exc
    data = exc.response.json()
    assert set(data) == {"type", "error", "request_id"} and data["type"] == "error"
    assert data["request_id"] == exc.response.headers["request-id"]
    assert data["error"]["type"] in get_args(ErrorType)
    if error_type is not None:
        assert data["error"]["type"] == error_type, data
    return data["error"]  # type: ignore[no-any-return]


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s")
        time.sleep(interval)


def events(client: Any, session_id: str, kind: str | None = None) -> list[Any]:
    return [e for e in client.beta.sessions.events.list(session_id, limit=1000) if kind in (None, e.type)]


def wait_idle(client: Any, session_id: str, count: int = 1, timeout: float = 20.0) -> Any:
    """The session after its `count`-th `session.status_idle`."""
    def idle() -> Any:
        session = client.beta.sessions.retrieve(session_id)
        done = session.status == "idle" and len(events(client, session_id, "session.status_idle")) >= count
        return session if done else None

    return wait_for(idle, timeout)


def text_event(text: str) -> dict[str, Any]:
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}
