"""Schema cards: the prompt text that tells the agent where each input is and what it holds.

A card carries the exact mount path the API reported, the shape, every column with its
dtype (and null count), `sample` head rows, and for CSV the things the format loses
(index, categories, time zones, nullable integers, non-text column names) with the line
of pandas that restores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..view import fmt_size
from .inputs import InputSpec, keeps_index, prepare_pandas

__all__ = ["card_for", "cards_text"]

_MAX_COLUMNS = 200  # a 5,000-column frame must not flood the prompt


def cards_text(entries: Sequence[tuple[InputSpec, str, int]], *, sample: int = 5) -> str:
    """All cards for one prompt; entries are (spec, exact mount path, size in bytes)."""
    if not entries:
        return ""
    parts = ["Input files are mounted read-only in your container. Write results under /mnt/session/outputs/."]
    grouped: dict[str, list[tuple[str, int]]] = {}
    for spec, mount, size in entries:
        if spec.group:
            grouped.setdefault(spec.group, []).append((mount, size))
        else:
            parts.append(card_for(spec, mount, size, sample=sample))
    for group, files in grouped.items():
        lines = [f"### Directory `{group}` ({len(files)} files)"]
        lines += [f"- `{mount}` ({fmt_size(size)})" for mount, size in files[:100]]
        if len(files) > 100:
            lines.append(f"- ... and {len(files) - 100} more under the same folder")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def card_for(spec: InputSpec, mount: str, size: int, *, sample: int = 5) -> str:
    head = f"### Input `{spec.name}` ({spec.kind}) at `{mount}`"
    if spec.obj is None:
        return f"{head}\nFile of {fmt_size(size)}."
    if spec.kind.startswith("polars"):
        return "\n".join([head, *_polars_lines(spec, mount, size, sample)])
    return "\n".join([head, *_pandas_lines(spec, mount, size, sample)])


def _read_hint(fmt: str, mount: str) -> str:
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    label = "Parquet" if fmt == "parquet" else "CSV"
    return f'{label} file. Read it with `pd.{reader}("{mount}")`.'


def _pandas_lines(spec: InputSpec, mount: str, size: int, sample: int) -> list[str]:
    frame, notes = prepare_pandas(spec.obj, spec.fmt or "parquet")
    fmt = spec.fmt or "parquet"
    rows, cols = frame.shape
    lines = [f"{_read_hint(fmt, mount)} {rows:,} rows x {cols:,} columns, {fmt_size(size)}."]
    lines += notes
    index_note = _index_note(frame, fmt)
    if index_note:
        lines.append(index_note)
    lines.append("Columns (name: dtype):")
    nulls = frame.isna().sum()
    for i, (name, dtype) in enumerate(frame.dtypes.items()):
        if i == _MAX_COLUMNS:
            lines.append(f"- ... and {cols - _MAX_COLUMNS:,} more columns")
            break
        extra = f", {int(nulls.iloc[i]):,} nulls" if nulls.iloc[i] else ""
        lines.append(f"- `{name}`: {dtype}{extra}{_csv_note(frame[name], dtype) if fmt == 'csv' else ''}")
    lines += _sample_lines(frame, sample)
    return lines


def _index_note(frame: Any, fmt: str) -> str | None:
    if not keeps_index(frame):
        return None
    names = [n for n in frame.index.names if n is not None]
    label = ", ".join(f"`{n}`" for n in names) or "unnamed"
    dtype = frame.index.dtype
    if fmt == "parquet":
        where = "stored in the file" + ("" if names else " as column `__index_level_0__`")
        return f"Index: {label} ({dtype}), {where}; `pd.read_parquet` restores it as the index."
    return f"Index: {label} ({dtype}) is the first CSV column; use `index_col=0` to restore it."


def _csv_note(column: Any, dtype: Any) -> str:
    kind = getattr(dtype, "name", str(dtype))
    if kind == "category":
        cats = ", ".join(map(repr, list(dtype.categories[:20])))
        more = ", ..." if len(dtype.categories) > 20 else ""
        order = "ordered " if dtype.ordered else ""
        return f" (written as text; {order}categories [{cats}{more}])"
    tz = getattr(dtype, "tz", None)
    if tz is not None:
        return (f" (written as ISO 8601 with UTC offset; restore with "
                f"`pd.to_datetime(col, utc=True).dt.tz_convert('{tz}')`)")
    if kind in {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "boolean"}:
        return f" (nulls are empty cells; read with `dtype={{'{column.name}': '{kind}'}}`)"
    return ""


def _sample_lines(frame: Any, sample: int) -> list[str]:
    if sample <= 0 or len(frame) == 0:
        return []
    text = frame.head(sample).to_string(max_cols=30, max_colwidth=60)
    return [f"First {min(sample, len(frame))} rows:", "```", text, "```"]


def _polars_lines(spec: InputSpec, mount: str, size: int, sample: int) -> list[str]:
    frame = spec.obj.to_frame() if spec.kind.endswith("Series") else spec.obj
    fmt = spec.fmt or "parquet"
    rows, cols = frame.shape
    lines = [f"{_read_hint(fmt, mount)} {rows:,} rows x {cols:,} columns, {fmt_size(size)}.",
             "Columns (name: dtype):"]
    null_counts = frame.null_count().row(0)
    for i, (name, dtype) in enumerate(frame.schema.items()):
        if i == _MAX_COLUMNS:
            lines.append(f"- ... and {cols - _MAX_COLUMNS:,} more columns")
            break
        extra = f", {null_counts[i]:,} nulls" if null_counts[i] else ""
        lines.append(f"- `{name}`: {dtype}{extra}")
    if sample > 0 and rows:
        lines += [f"First {min(sample, rows)} rows:", "```", str(frame.head(sample)), "```"]
    return lines
