"""`{{name}}` interpolation of kernel variables into prompts.

Rules (docs/magics.md, "`{{name}}` interpolation"):
- A token is `{{content}}` on one line that touches no other brace (so `{{{x}}}`, `}}}}` in JSON
  and `{{`/`}}` in f-strings or format strings are never tokens).
- A token is replaced only when its content parses as a Python expression whose root name is
  DEFINED in the namespace; then it must be a name followed by `.attr`, `[0]`, `[-1]`, `['key']`
  or `[1:3]` steps (nothing is called, private/dunder attributes are refused, a failing step is a
  one-line `InterpolationError` with a "did you mean").
- Every other token is sent verbatim, with one exception meant for typos: a name-and-steps
  reference whose root is undefined, that stands alone (whitespace, the text's edges or sentence
  punctuation on both sides) and is a typo of a defined name (difflib ratio >= 0.75) is an error
  (`{{slaes}}: name 'slaes' is not defined (did you mean 'sales'?)`).
- Braces inside a Python f-string (`f"{{x}}"`) or a string followed by `.format(` on one line
  are Python's: such tokens are sent verbatim.
- `{{{{content}}}}` writes a literal `{{content}}` where `{{content}}` would be replaced; anywhere
  else it is sent as written.
- DataFrames (pandas, polars) are not pasted as text: they are returned as references
  (`Ref.is_frame`) so the files module can upload them; the caller decides their text.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InterpolationError, did_you_mean

__all__ = ["Ref", "Interpolated", "interpolate", "collect", "is_frame"]

# `{{{{content}}}}` (an escape) or `{{content}}`, on one line, touching no other brace.
_TOKEN = re.compile(r"(?<!\{)\{\{(\{\{)?([^{}\n]*)(?(1)\}\}|)\}\}(?!\})")
_TYPO = 0.75  # difflib ratio from which an undefined name counts as a typo of a defined one
# What may sit right before / after a token that "stands alone" (see `_classify`).
_ALONE_BEFORE = frozenset(" \t\r\n([")
_ALONE_AFTER = frozenset(" \t\r\n.,;:!?)]")
# Python string literals whose braces are Python's: f-strings, and strings followed by `.format(`
# (one line each; `{{` there is a literal brace, never ours).
_PY_BRACES = re.compile(
    r"""(?<![\w])(?:[rR]?[fF]|[fF][rR])("|')(?:\\.|(?!\1)[^\\\n])*\1"""
    r"""|("|')(?:\\.|(?!\2)[^\\\n])*\2\s*\.format(?:_map)?\("""
)
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


def _parse(expr: str) -> ast.expr | None:
    """The expression, or None when the content is not Python (then it is not a reference)."""
    try:
        return ast.parse(expr, mode="eval").body
    except (SyntaxError, ValueError):
        return None


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


def _root(node: ast.expr, *, calls: bool = False) -> str:
    """The name a `name.attr[0]` chain starts from ("" for anything else); `calls`: look through calls."""
    kinds: tuple[type, ...] = (ast.Attribute, ast.Subscript, ast.Call) if calls else (ast.Attribute, ast.Subscript)
    while isinstance(node, kinds):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _stands_alone(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before in _ALONE_BEFORE and after in _ALONE_AFTER


def _python_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _PY_BRACES.finditer(text)] if "{{" in text else []


def _classify(match: re.Match[str], ns: Mapping[str, Any], python: list[tuple[int, int]]) -> ast.expr | None:
    """The expression a token refers to, None when the token is sent verbatim; raises
    `InterpolationError` for a reference that is clearly meant but wrong. `python`: the spans
    of Python string literals whose braces are Python's."""
    if any(a <= match.start() < b for a, b in python):
        return None
    expr = match.group(2).strip()
    node = _parse(expr) if expr else None
    if node is None:
        return None
    if _root(node, calls=True) in ns:
        return node
    name = _root(node)
    if name and not match.group(1) and _stands_alone(match.string, match.start(), match.end()):
        # a typo of a defined name ('slaes' for 'sales'), not merely a similar word
        close = difflib.get_close_matches(name, [k for k in ns if not k.startswith("_")], n=1, cutoff=_TYPO)
        if close:
            raise InterpolationError(f"{{{{{expr}}}}}: name {name!r} is not defined{did_you_mean(name, close)}")
    return None


def collect(text: str, ns: Mapping[str, Any]) -> tuple[Ref, ...]:
    """Resolve every replaceable `{{expr}}` in `text` (in order, duplicates kept once)."""
    refs: dict[str, Ref] = {}
    python = _python_spans(text)
    for match in _TOKEN.finditer(text):
        node = _classify(match, ns, python)
        expr = match.group(2).strip()
        if node is not None and not match.group(1) and expr not in refs:
            refs[expr] = Ref(expr=expr, name=_root(node, calls=True), value=_eval(node, ns, expr))
    return tuple(refs.values())


def interpolate(
    text: str,
    ns: Mapping[str, Any],
    *,
    frame_text: Callable[[Ref], str] | None = None,
) -> Interpolated:
    """Replace `{{expr}}` by its value's text; DataFrames by `frame_text(ref)` (a short note by default)."""
    refs = {r.expr: r for r in collect(text, ns)}
    python = _python_spans(text)
    frame_text = frame_text or _describe_frame

    def substitute(match: re.Match[str]) -> str:
        expr = match.group(2).strip()
        if match.group(1):  # an escape: `{{{{x}}}}` -> `{{x}}` where `{{x}}` would be replaced
            return "{{" + match.group(2) + "}}" if _classify(match, ns, python) is not None else match.group(0)
        ref = refs.get(expr)
        if ref is None or _classify(match, ns, python) is None:
            return match.group(0)
        return frame_text(ref) if ref.is_frame else _to_text(ref.value)

    return Interpolated(text=_TOKEN.sub(substitute, text), refs=tuple(refs.values()))
