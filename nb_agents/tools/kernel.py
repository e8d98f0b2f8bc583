"""Optional built-in kernel tools: `list_variables` and `describe_variable`.

Off by default; enabled explicitly (`--kernel-tools` / `kernel_tools=True`). They let the
agent look at the notebook's variables by name, size-bounded, and never evaluate code: a
name is looked up in the namespace, nothing more.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from .custom import KernelTool, as_tool, tool

__all__ = ["make_kernel_tools", "MAX_DESCRIBE_CHARS", "MAX_VARIABLES"]

MAX_DESCRIBE_CHARS = 4_000
MAX_VARIABLES = 200
_HIDDEN = {"In", "Out", "exit", "quit", "get_ipython"}


def _visible(name: str, value: Any) -> bool:
    if name.startswith("_") or name in _HIDDEN:
        return False
    return not isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type))


def _shape(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return " x ".join(str(n) for n in shape) or "scalar"
    if isinstance(value, (str, bytes)):
        return f"{len(value)} chars" if isinstance(value, str) else f"{len(value)} bytes"
    try:
        return f"len {len(value)}"
    except TypeError:
        return ""


def _type_name(value: Any) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__.split('.')[0]}.{t.__name__}"


def _clip(text: str, limit: int = MAX_DESCRIBE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 30] + f"\n... [{len(text)} chars in total]"


def _describe_frame(name: str, df: Any) -> str:
    rows, cols = df.shape
    dtypes = "\n".join(f"  {col}: {dtype}" for col, dtype in list(df.dtypes.items())[:60])
    sample = df.head(5).to_csv(index=False)
    return f"{name}: DataFrame, {rows} rows x {cols} columns\ncolumns (dtype):\n{dtypes}\nfirst rows (CSV):\n{sample}"


def make_kernel_tools(namespace: Mapping[str, Any]) -> list[KernelTool]:
    """The two read-only kernel tools, bound to `namespace` (the notebook's user namespace)."""

    @tool(timeout=20)
    def list_variables() -> str:
        """List the notebook's variables: name, type and shape (modules and functions are omitted)."""
        lines = []
        for name, value in list(namespace.items()):
            if _visible(name, value):
                lines.append(f"{name}\t{_type_name(value)}\t{_shape(value)}")
        if not lines:
            return "No variables defined in the notebook."
        more = f"\n... and {len(lines) - MAX_VARIABLES} more" if len(lines) > MAX_VARIABLES else ""
        return "name\ttype\tshape\n" + "\n".join(lines[:MAX_VARIABLES]) + more

    @tool(timeout=20)
    def describe_variable(name: str) -> str:
        """Describe one notebook variable: its schema for a DataFrame, otherwise its type and a short repr.

        Args:
            name: the variable's name exactly as in the notebook (no expressions).
        """
        if name not in namespace or not _visible(name, namespace[name]):
            raise LookupError(f"no variable named {name!r}; call list_variables to see the names")
        value = namespace[name]
        if type(value).__name__ == "DataFrame" and hasattr(value, "dtypes"):
            return _clip(_describe_frame(name, value))
        shape = _shape(value)
        head = f"{name}: {_type_name(value)}" + (f" ({shape})" if shape else "")
        return _clip(f"{head}\n{repr(value)}")

    return [as_tool(list_variables), as_tool(describe_variable)]
