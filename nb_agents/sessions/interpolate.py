"""`{{name}}` interpolation of kernel variables into prompts.

Rules (docs/magics.md):
- `{{expr}}` where expr is a name followed by `.attr`, `[0]`, `[-1]`, `['key']` or `[1:3]` steps.
  Nothing is called and private/dunder attributes are refused, so a prompt cannot run code.
- Single braces are never touched (code in prompts is safe); `{{{{` and `}}}}` write a literal
  `{{` / `}}`.
- An unknown name or attribute is a one-line `InterpolationError` with a "did you mean".
- DataFrames (pandas, polars) are not pasted as text: they are returned as references
  (`Ref.is_frame`) so the files module can upload them; the caller decides their text.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InterpolationError, did_you_mean

__all__ = ["Ref", "Interpolated", "interpolate", "collect", "is_frame"]

# `{{{{` / `}}}}` escapes first, then the shortest `{{ ... }}` on one line.
_TOKEN = re.compile(r"\{\{\{\{|\}\}\}\}|\{\{([^{}\n]*)\}\}")
MAX_TEXT = 20_000


@dataclasses.dataclass(frozen=True)
class Ref:
    """One `{{expr}}` occurrence resolved to its value."""

    expr: str
    name: str
    value: Any = dataclasses.field(compare=False, repr=False)

    @property
    def is_frame(self) -> bool:
        return is_frame(self.value)


@dataclasses.dataclass(frozen=True)
class Interpolated:
    text: str
    refs: tuple[Ref, ...]

    @property
    def frames(self) -> dict[str, Any]:
        """DataFrames referenced, by expression (each once)."""
        return {r.expr: r.value for r in self.refs if r.is_frame}


def is_frame(value: Any) -> bool:
    """True for a pandas or polars DataFrame or Series (uploaded as a table), without importing either."""
    cls = type(value)
    return cls.__name__ in ("DataFrame", "Series") and cls.__module__.split(".")[0] in ("pandas", "polars")


def _describe_frame(ref: Ref) -> str:
    shape = getattr(ref.value, "shape", None)
    kind = type(ref.value).__name__
    if shape and len(shape) == 2:
        return f"`{ref.expr}` ({kind}, {shape[0]} rows x {shape[1]} columns)"
    return f"`{ref.expr}` ({kind}, {shape[0] if shape else '?'} rows)"


def _to_text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"... [truncated, {len(text)} characters]"
    return text


def _parse(expr: str) -> ast.expr:
    try:
        tree = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        raise InterpolationError(f"{{{{{expr}}}}} is not a name with .attr/[index] steps") from None
    return tree


def _literal(node: ast.expr, expr: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        if isinstance(node.operand.value, int):
            return -node.operand.value
    if isinstance(node, ast.Slice):
        parts = [None if p is None else _literal(p, expr) for p in (node.lower, node.upper, node.step)]
        return slice(*parts)
    raise InterpolationError(f"{{{{{expr}}}}}: only literal indexes like [0], ['key'] or [1:3] are allowed")


def _eval(node: ast.expr, ns: Mapping[str, Any], expr: str) -> Any:
    if isinstance(node, ast.Name):
        if node.id not in ns:
            visible = [k for k in ns if not k.startswith("_")]
            raise InterpolationError(f"{{{{{expr}}}}}: name {node.id!r} is not defined{did_you_mean(node.id, visible)}")
        return ns[node.id]
    if isinstance(node, ast.Attribute):
        obj = _eval(node.value, ns, expr)
        if node.attr.startswith("_"):
            raise InterpolationError(f"{{{{{expr}}}}}: private attribute {node.attr!r} is not allowed")
        try:
            return getattr(obj, node.attr)
        except Exception:
            names = [n for n in dir(obj) if not n.startswith("_")]
            hint = did_you_mean(node.attr, names)
            raise InterpolationError(
                f"{{{{{expr}}}}}: {type(obj).__name__} has no attribute {node.attr!r}{hint}"
            ) from None
    if isinstance(node, ast.Subscript):
        obj = _eval(node.value, ns, expr)
        key = _literal(node.slice, expr)
        try:
            return obj[key]
        except Exception as exc:
            hint = did_you_mean(str(key), [str(k) for k in obj]) if isinstance(obj, Mapping) else ""
            raise InterpolationError(f"{{{{{expr}}}}}: [{key!r}] failed ({type(exc).__name__}){hint}") from None
    raise InterpolationError(f"{{{{{expr}}}}}: only names, .attributes and [index] are allowed (no calls)")


def _root(node: ast.expr) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def collect(text: str, ns: Mapping[str, Any]) -> tuple[Ref, ...]:
    """Resolve every `{{expr}}` in `text` (in order, duplicates kept once)."""
    refs: dict[str, Ref] = {}
    for match in _TOKEN.finditer(text):
        raw = match.group(1)
        if raw is None:
            continue
        expr = raw.strip()
        if expr and expr not in refs:
            node = _parse(expr)
            refs[expr] = Ref(expr=expr, name=_root(node), value=_eval(node, ns, expr))
    return tuple(refs.values())


def interpolate(
    text: str,
    ns: Mapping[str, Any],
    *,
    frame_text: Callable[[Ref], str] | None = None,
) -> Interpolated:
    """Replace `{{expr}}` by its value's text; DataFrames by `frame_text(ref)` (a short note by default)."""
    refs = {r.expr: r for r in collect(text, ns)}
    frame_text = frame_text or _describe_frame

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{{{":
            return "{{"
        if token == "}}}}":
            return "}}"
        expr = match.group(1).strip()
        if not expr:
            return token
        ref = refs[expr]
        return frame_text(ref) if ref.is_frame else _to_text(ref.value)

    return Interpolated(text=_TOKEN.sub(substitute, text), refs=tuple(refs.values()))
