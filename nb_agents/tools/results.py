"""What a kernel tool returns, as `user.custom_tool_result` content blocks.

Text, numbers and JSON-able values become a text block; a pandas DataFrame/Series a compact,
size-bounded CSV table; a matplotlib figure (or axes) or a PIL image a base64 PNG image
block; a list of API content blocks passes through. Errors become one text block with the
exception's type and message only. Every text block sent is scrubbed by `nb_agents.scrub`
(marker `[redacted]`): a tool can print an environment or a config file.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from ..scrub import scrub_text

__all__ = ["MAX_TEXT_CHARS", "MAX_TABLE_ROWS", "REDACTED", "error_content", "to_content"]

MAX_TEXT_CHARS = 20_000
MAX_TABLE_ROWS = 50
_BLOCK_TYPES = {"text", "image", "document", "search_result"}
REDACTED = "[redacted]"  # what the model sees in place of a secret


def _text(text: str) -> list[dict[str, Any]]:
    text = scrub_text(text, marker=REDACTED)
    if len(text) > MAX_TEXT_CHARS:
        text = text[: MAX_TEXT_CHARS - 40] + f"\n... [truncated, {len(text)} chars in total]"
    return [{"type": "text", "text": text}]


def error_content(exc: BaseException) -> list[dict[str, Any]]:
    """`TypeName: message` (no traceback), secrets scrubbed; pydantic argument errors summarised."""
    from anthropic.lib.tools import ToolError

    if isinstance(exc, ToolError):
        content = exc.content
        return _text(content) if isinstance(content, str) else _scrub_blocks(list(content))
    message = str(exc)
    cause = exc.__cause__
    if cause is not None and type(cause).__name__ == "ValidationError":
        message = f"{message}: {_validation_summary(cause)}"
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return _text(" ".join(text.split()))


def _validation_summary(err: Any) -> str:
    try:
        items = err.errors(include_url=False)
    except Exception:
        return str(err).splitlines()[0]
    parts = []
    for item in items[:5]:
        loc = ".".join(str(p) for p in item.get("loc", ()))
        parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
    return "; ".join(parts)


def _scrub_blocks(blocks: list[Any]) -> list[dict[str, Any]]:
    out = []
    for block in blocks:
        block = dict(block)
        if block.get("type") == "text":
            block["text"] = scrub_text(str(block.get("text", "")), marker=REDACTED)
        out.append(block)
    return out


def _png_block(data: bytes) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(data).decode()},
    }


def _image_content(value: Any) -> list[dict[str, Any]] | None:
    module = type(value).__module__
    if module.startswith("matplotlib"):
        fig = value if hasattr(value, "savefig") else getattr(value, "figure", None)
        if fig is None or not hasattr(fig, "savefig"):
            return None
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        return [_png_block(buf.getvalue())]
    if module.startswith("PIL.") and hasattr(value, "save") and hasattr(value, "mode"):
        buf = io.BytesIO()
        image = value if value.mode in {"RGB", "RGBA", "L", "LA", "P", "1"} else value.convert("RGBA")
        image.save(buf, format="PNG")
        return [_png_block(buf.getvalue())]
    return None


def _table_content(value: Any) -> list[dict[str, Any]] | None:
    module = type(value).__module__
    if not (module.startswith("pandas") or module.startswith("polars")):
        return None
    if hasattr(value, "to_pandas") and not module.startswith("pandas"):
        value = value.to_pandas()
    if type(value).__name__ == "Series":
        value = value.to_frame()
    if type(value).__name__ != "DataFrame":
        return _text(str(value))
    rows, cols = value.shape
    shown = value.head(MAX_TABLE_ROWS)
    head = f"DataFrame: {rows} rows x {cols} columns"
    if rows > MAX_TABLE_ROWS:
        head += f" (first {MAX_TABLE_ROWS} rows shown)"
    return _text(head + " (CSV)\n" + shown.to_csv(index=_meaningful_index(shown)))


def _meaningful_index(df: Any) -> bool:
    """Skip a default RangeIndex: it only costs tokens."""
    return type(df.index).__name__ != "RangeIndex" or df.index.name is not None


def _is_blocks(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(b, dict) and b.get("type") in _BLOCK_TYPES for b in value)
    )


def to_content(value: Any) -> list[dict[str, Any]]:
    """Content blocks for a tool's return value."""
    if value is None:
        return _text("(no return value)")
    if isinstance(value, str):
        return _text(value)
    if _is_blocks(value):
        return _scrub_blocks(value)
    for convert in (_image_content, _table_content):
        blocks = convert(value)
        if blocks is not None:
            return blocks
    if hasattr(value, "tolist") and type(value).__module__.startswith("numpy"):
        value = value.tolist()
    try:
        return _text(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return _text(repr(value))
