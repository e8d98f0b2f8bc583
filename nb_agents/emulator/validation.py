"""Strict request-body validation against the SDK's param TypedDicts.

The SDK's `*_params` TypedDicts are the contract for what a client may send. We walk them
recursively (unknown keys, missing required keys, wrong JSON types, bad enum values all fail)
and raise `ApiError(400)` with the JSON path of the first problem, e.g.
`events.0.content.0.type: 'txt' is not one of 'text', 'image', ...`.

Extra keys pass only where the SDK declares them: a TypedDict's PEP 728 `extra_items=` (e.g. a
custom tool's `input_schema`, a JSON Schema object) or a model's `__pydantic_extra__` annotation;
they are then checked against that type.

pydantic's TypeAdapter was not used: it validates `Iterable[...]` lazily (so a bad tool list
passes) and does not forbid extra keys on nested TypedDicts.
"""

from __future__ import annotations

import collections.abc
import functools
import os
import types
import typing
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from typing_extensions import NoExtraItems, NotRequired, Required, is_typeddict

from .common import ApiError, parse_iso

__all__ = ["validate_body", "check", "conforms"]

# Keys the SDK's params carry that are sent as headers, never in a body.
_HEADER_KEYS = frozenset({"betas", "workspace_id"})
_LIST_ORIGINS = {list, collections.abc.Iterable, collections.abc.Sequence, tuple}
_UNION_TYPES: tuple[Any, ...] = (Union, types.UnionType)


class _Invalid(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)


def validate_body(
    params_type: Any, body: Any, *, drop: frozenset[str] = _HEADER_KEYS, path_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Validate a JSON request body against a params TypedDict; return it unchanged.

    `path_keys` are params the SDK sends in the URL (path or query), e.g. `vault_id` or `view`:
    they are neither required nor allowed in the body."""
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    try:
        _typeddict(params_type, body, "", drop | frozenset(path_keys))
    except _Invalid as exc:
        raise ApiError(400, str(exc)) from None
    return body


def check(type_: Any, value: Any, path: str = "") -> None:
    """Validate any value against a type; raise `ApiError(400)` on mismatch."""
    try:
        _check(type_, value, path)
    except _Invalid as exc:
        raise ApiError(400, str(exc)) from None


def conforms(type_: Any, value: Any, path: str = "") -> list[str]:
    """Strictly check wire JSON against an SDK response model (or any type): `[]` when it
    conforms, else the first problem. Unknown keys fail (the SDK's models allow extras, so
    `model_validate` alone would not notice them)."""
    try:
        _check(type_, value, path)
    except _Invalid as exc:
        return [str(exc)]
    return []


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


@functools.cache
def _hints(td: Any) -> tuple[dict[str, Any], frozenset[str]]:
    if _is_model(td):
        model_fields = {(f.alias or name): f.annotation for name, f in td.model_fields.items()}
        return model_fields, frozenset(
            (f.alias or name) for name, f in td.model_fields.items() if f.is_required()
        )
    hints = typing.get_type_hints(td, include_extras=True)
    required = set(td.__required_keys__)
    fields: dict[str, Any] = {}
    for key, hint in hints.items():
        # Required[]/NotRequired[] wrappers survive include_extras; unwrap them.
        while get_origin(hint) in (Required, NotRequired):
            if get_origin(hint) is Required:
                required.add(key)
            hint = get_args(hint)[0]
        fields[key] = hint
    return fields, frozenset(required)


@functools.cache
def _extra_items(td: Any) -> Any:
    """The type of the extra keys `td` allows, or None when it allows none."""
    if _is_model(td):
        for klass in td.__mro__:
            hint = klass.__dict__.get("__annotations__", {}).get("__pydantic_extra__")
            if hint is not None:
                args = get_args(hint)
                return args[1] if len(args) == 2 else Any
        return None
    extra = getattr(td, "__extra_items__", NoExtraItems)
    return None if extra is NoExtraItems else extra


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _typeddict(td: Any, value: Any, path: str, drop: frozenset[str] = frozenset()) -> None:
    if not isinstance(value, dict):
        raise _Invalid(path, f"expected an object, got {_kind(value)}")
    fields, required = _hints(td)
    extra = _extra_items(td)
    for key in value:
        if key in drop or (key not in fields and extra is None):
            raise _Invalid(_join(path, key), "Extra inputs are not permitted")
    for key in sorted(required - drop):
        if key not in value:
            raise _Invalid(_join(path, key), "Field required")
    for key, item in value.items():
        _check(fields.get(key, extra), item, _join(path, key))


def _check(tp: Any, value: Any, path: str) -> None:  # noqa: C901 - one branch per type kind
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _check(get_args(tp)[0], value, path)
    if tp is Any or tp is object:
        return None
    if tp is None or tp is type(None):
        if value is not None:
            raise _Invalid(path, f"expected null, got {_kind(value)}")
        return None
    if origin is Literal:
        if value not in get_args(tp) or isinstance(value, bool) != any(
            isinstance(a, bool) for a in get_args(tp)
        ):
            allowed = ", ".join(repr(a) for a in get_args(tp))
            raise _Invalid(path, f"{value!r} is not one of {allowed}")
        return None
    if origin in _UNION_TYPES:
        return _union(get_args(tp), value, path)
    if origin in _LIST_ORIGINS or _is_sequence_not_str(tp):
        if not isinstance(value, list):
            raise _Invalid(path, f"expected an array, got {_kind(value)}")
        args = get_args(tp)
        for i, item in enumerate(value):
            _check(args[0] if args else Any, item, _join(path, i))
        return None
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            raise _Invalid(path, f"expected an object, got {_kind(value)}")
        _key_t, val_t = get_args(tp) or (str, Any)
        for key, item in value.items():
            _check(val_t, item, _join(path, key))
        return None
    if is_typeddict(tp) or _is_model(tp):
        return _typeddict(tp, value, path)
    return _scalar(tp, value, path)


def _scalar(tp: Any, value: Any, path: str) -> None:
    ok = {
        str: lambda v: isinstance(v, str),
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    }
    if tp in ok:
        if not ok[tp](value):
            raise _Invalid(path, f"expected {_NAMES[tp]}, got {_kind(value)}")
        return
    if tp is datetime:
        try:
            parse_iso(value)
        except (TypeError, ValueError, AttributeError):
            raise _Invalid(path, f"expected an RFC 3339 timestamp, got {value!r}") from None
        return
    if tp is os.PathLike or tp is bytes:
        raise _Invalid(path, "binary values cannot be sent as JSON")
    raise _Invalid(path, f"unsupported value for {tp!r}")


_NAMES = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}


def _union(members: tuple[Any, ...], value: Any, path: str) -> None:
    if value is None and type(None) in members:
        return
    non_null = [m for m in members if m is not type(None)]
    if len(non_null) == 1:  # Optional[X]: X's own error is the clear one
        return _check(non_null[0], value, path)
    # A `type` (or tool `name`) discriminator picks the member so the error names the real problem.
    for key in ("type", "name"):
        if not (isinstance(value, dict) and key in value):
            continue
        tagged = [m for m in members if _tag_literal(m, key) is not None]
        if len(tagged) < 2:
            continue
        matching = [m for m in tagged if value[key] in (_tag_literal(m, key) or ())]
        if len(matching) == 1:
            return _check(matching[0], value, path)
        if not matching and all(_tag_literal(m, key) is not None for m in members if m is not type(None)):
            allowed = sorted({str(t) for m in tagged for t in _tag_literal(m, key) or ()})
            raise _Invalid(_join(path, key), f"{value[key]!r} is not one of {', '.join(map(repr, allowed))}")
    errors: list[_Invalid] = []
    for member in members:
        try:
            _check(member, value, path)
            return
        except _Invalid as exc:
            errors.append(exc)
    plausible = [e for e, m in zip(errors, members, strict=True) if _same_kind(m, value)]
    if len(plausible) == 1:
        raise plausible[0]
    raise _Invalid(
        path, f"{_short(value)} does not match any allowed shape ({'; '.join(map(str, errors[:4]))})"
    )


def _strip(tp: Any) -> Any:
    return get_args(tp)[0] if get_origin(tp) is typing.Annotated else tp


def _is_struct(tp: Any) -> bool:
    return is_typeddict(_strip(tp)) or _is_model(_strip(tp))


def _tag_literal(member: Any, key: str) -> tuple[Any, ...] | None:
    member = _strip(member)
    if not _is_struct(member):
        return None
    hint = _hints(member)[0].get(key)
    if hint is not None and get_origin(hint) is Literal:
        return get_args(hint)
    return None


def _same_kind(member: Any, value: Any) -> bool:
    member = _strip(member)
    origin = get_origin(member)
    if _is_struct(member) or origin in (dict, collections.abc.Mapping):
        return isinstance(value, dict)
    if origin in _LIST_ORIGINS or _is_sequence_not_str(member):
        return isinstance(value, list)
    if origin is Literal:
        return all(isinstance(value, type(a)) for a in get_args(member))
    return isinstance(member, type) and isinstance(value, member) and not isinstance(value, bool)


def _is_sequence_not_str(tp: Any) -> bool:
    return (
        getattr(tp, "__name__", "") == "SequenceNotStr"
        or getattr(get_origin(tp), "__name__", "") == "SequenceNotStr"
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
