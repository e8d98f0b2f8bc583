"""Kernel functions as custom tools: the registry, their schemas and the agent's tool list.

This module owns `@nb_agents.tool` and the resolution of `--tools f,g` from the user namespace
(`ToolConfig`, the agent's `tools` list, is built in `setup.py`). Schemas come from the SDK's `beta_tool` machinery (type hints + docstring via pydantic);
nothing here writes JSON Schema by hand. Executing calls lives in `handler.py`.

Tools reach the agent as `agent_with_overrides` at session creation (and `sessions.update`
when a later cell changes them), never as new agent versions: see docs/tools.md for why.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from ..errors import ToolSetupError

__all__ = [
    "DEFAULT_TOOL_TIMEOUT",
    "KernelTool",
    "as_tool",
    "resolve_tools",
    "tool",
]

DEFAULT_TOOL_TIMEOUT = 60.0
_VALIDATORS: dict[Any, Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]] = {}


def _argument_validator(func: Callable[..., Any]) -> Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]:
    """`pydantic.validate_call` over `func`'s signature that returns the validated arguments
    instead of calling `func` (made once per function)."""
    validator = _VALIDATORS.get(func)
    if validator is None:
        def arguments(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
            return args, kwargs

        arguments.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
        arguments.__annotations__ = dict(getattr(func, "__annotations__", {}))
        arguments.__module__ = func.__module__  # string annotations resolve in func's module
        arguments.__qualname__ = arguments.__name__ = getattr(func, "__name__", "tool")
        validator = _VALIDATORS[func] = pydantic.validate_call(arguments)
    return validator
_MARK = "__nb_agents_tool__"
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class KernelTool:
    """One custom tool: the SDK function tool plus our execution settings."""

    sdk_tool: Any  # BetaFunctionTool | BetaAsyncFunctionTool
    timeout: float | None = None

    @property
    def name(self) -> str:
        return str(self.sdk_tool.name)

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.sdk_tool.func)

    def run(self, tool_input: Any) -> Any:
        """Call the tool with `tool_input` (a dict of arguments): validated first (the SDK's
        pydantic validation, the same one-line `ValueError` when it fails), then the kernel
        function itself is called. The two steps are apart so that a tool still running when the
        interpreter exits has no pydantic-core (Rust) frame under it: a daemon thread stopped
        inside one aborts the whole process at exit."""
        if self.is_async:
            return asyncio.run(self.sdk_tool.call(tool_input))
        if not isinstance(tool_input, dict):
            raise TypeError(f"Input must be a dictionary, got {type(tool_input).__name__}")
        try:
            args, kwargs = _argument_validator(self.sdk_tool.func)(**tool_input)
        except pydantic.ValidationError as exc:
            raise ValueError(f"Invalid arguments for function {self.name}") from exc
        return self.sdk_tool.func(*args, **kwargs)

    def definition(self) -> dict[str, Any]:
        """The agent-side definition `{"type": "custom", name, description, input_schema}`."""
        raw = self.sdk_tool.to_dict()
        # The SDK's JSON Schema as is: the service takes any JSON Schema keys (the param TypedDict
        # has extra_items=object), and nested models need $defs / additionalProperties kept.
        schema = {**dict(raw["input_schema"]), "type": "object"}
        return {
            "type": "custom",
            "name": raw["name"],
            "description": raw.get("description") or raw["name"],
            "input_schema": schema,
        }


def tool(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> Any:
    """Mark a kernel function as a custom tool; it stays an ordinary function.

    `@tool` or `@tool(name="...", description="...", timeout=30)`. The description defaults to the
    docstring and the input schema is inferred from the type hints.
    """

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        kt = _make_tool(f, name=name, description=description, timeout=timeout)
        try:
            setattr(f, _MARK, kt)
        except (AttributeError, TypeError) as exc:  # builtins and some C callables refuse attributes
            raise ToolSetupError(f"cannot mark {f!r} as a tool: {exc}") from None
        return f

    if func is not None:
        return mark(func)
    return mark


def _make_tool(
    func: Callable[..., Any], *, name: str | None, description: str | None, timeout: float | None
) -> KernelTool:
    from anthropic.lib.tools import beta_async_tool, beta_tool

    if not callable(func):
        raise ToolSetupError(f"{func!r} is not callable, so it cannot be a tool")
    tool_name = str(name or getattr(func, "__name__", ""))
    if not _NAME_RE.match(tool_name):
        raise ToolSetupError(
            f"tool name {tool_name!r} is invalid: use 1-128 letters, digits, '_' or '-' (pass name=...)"
        )
    if timeout is not None and timeout <= 0:
        raise ToolSetupError(f"tool {tool_name}: timeout must be positive, got {timeout}")
    factory = beta_async_tool if inspect.iscoroutinefunction(func) else beta_tool
    try:
        sdk_tool = factory(func, name=tool_name, description=description)
    except Exception as exc:  # pydantic cannot build a schema for some hints
        raise ToolSetupError(
            f"tool {tool_name}: cannot infer an input schema ({type(exc).__name__}: {exc})"
        ) from None
    return KernelTool(sdk_tool=sdk_tool, timeout=timeout)


def as_tool(obj: Any) -> KernelTool:
    """A `KernelTool` for a marked function, an SDK function tool, a KernelTool or a plain function."""
    from anthropic.lib.tools import BetaAsyncFunctionTool, BetaFunctionTool

    if isinstance(obj, KernelTool):
        return obj
    marked = getattr(obj, _MARK, None)
    if isinstance(marked, KernelTool):
        return marked
    if isinstance(obj, (BetaFunctionTool, BetaAsyncFunctionTool)):
        return KernelTool(sdk_tool=obj)
    if not callable(obj):
        raise ToolSetupError(f"{obj!r} is not callable, so it cannot be a tool")
    if inspect.isclass(obj):
        raise ToolSetupError(
            f"{obj.__name__} is a class; pass a function (or decorate one with @nb_agents.tool)"
        )
    return _make_tool(obj, name=None, description=None, timeout=None)


def _split_spec(spec: str | Iterable[Any] | None) -> list[Any]:
    if spec is None:
        return []
    if isinstance(spec, str):
        return [part.strip() for part in spec.split(",") if part.strip()]
    return list(spec)


def _lookup(name: str, namespace: Mapping[str, Any], source: str) -> Any:
    if name in namespace:
        obj = namespace[name]
        if not callable(obj):
            raise ToolSetupError(f"{source} {name}: {name} is a {type(obj).__name__}, not a function")
        return obj
    candidates = [k for k, v in namespace.items() if not k.startswith("_") and callable(v)]
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; define the function first (or check the spelling)"
    raise ToolSetupError(f"{source}: no function named {name!r} in the notebook{hint}")


def resolve_tools(
    spec: str | Iterable[Any] | None,
    namespace: Mapping[str, Any] | None = None,
    *,
    defaults: str | Iterable[Any] | None = (),
) -> list[KernelTool]:
    """Resolve `--tools f,g` (names or callables) plus config defaults into tools, in order, deduped."""
    ns = namespace or {}
    out: dict[str, KernelTool] = {}
    items = [(i, "tools (config default)") for i in _split_spec(defaults)] + [
        (i, "--tools") for i in _split_spec(spec)
    ]
    for item, source in items:
        obj = _lookup(item, ns, source) if isinstance(item, str) else item
        kt = as_tool(obj)
        previous = out.get(kt.name)
        if previous is not None and previous.sdk_tool.func is not kt.sdk_tool.func:
            raise ToolSetupError(
                f"two different tools are named {kt.name!r}; rename one with @tool(name=...)"
            )
        out[kt.name] = kt
    return list(out.values())
