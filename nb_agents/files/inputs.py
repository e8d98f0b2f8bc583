"""Inputs for a session: what may be sent, under which mount path, its content hash, its bytes.

`expand_inputs()` turns what the user named (DataFrames, Series, polars frames, files,
directories) into `InputSpec`s and refuses anything else *before* any upload: unsupported
objects, missing paths, empty directories, two inputs wanting the same mount path.
The content hash runs at memory speed (xxh3 over a pandas frame's NumPy/Arrow buffers plus its
dtypes/column names/index, polars' `hash_rows` plus the schema, stat + a cached sha256 for
files), so an unchanged input is recognised without writing Parquet again.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from ..errors import FileSyncError
from .artifacts import guess_mime

__all__ = ["InputSpec", "expand_inputs", "frame_kind", "prepare_pandas", "MAX_FILE_BYTES", "FORMATS"]

MAX_FILE_BYTES = 500 * 1000 * 1000  # the Files API limit per file
FORMATS = ("parquet", "csv")
SUPPORTED = "pandas DataFrame/Series, polars DataFrame/Series, a file path or a directory path"
_MIME = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv"}


@dataclass
class InputSpec:
    """One file to mount. `obj` is the frame for tabular inputs, `path` the local file otherwise."""

    name: str  # what the user called it: `sales`, `data/a.csv`
    kind: str  # "pandas DataFrame", "polars Series", "file"...
    mount_request: str  # the mount_path we ask for, e.g. `/sales.parquet`
    digest: str
    obj: Any = None
    path: Path | None = None
    fmt: str | None = None  # parquet/csv for frames
    group: str | None = None  # the directory a file came from

    @property
    def filename(self) -> str:
        return self.mount_request.rsplit("/", 1)[-1]

    @property
    def mime(self) -> str:
        if self.fmt:
            return _MIME[self.fmt]

        return guess_mime(self.filename)

    def size_on_disk(self) -> int | None:
        return self.path.stat().st_size if self.path is not None else None

    def payload(self) -> bytes:
        """The bytes to upload (frames are serialized here, and only here)."""
        if self.path is not None:
            return self.path.read_bytes()
        fmt = self.fmt or "parquet"
        try:
            return serialize_frame(self.obj, fmt)
        except Exception as exc:  # whatever pyarrow/pandas refuse: one line, before anything is sent
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            other = "csv" if fmt == "parquet" else "parquet"
            raise FileSyncError(f"cannot write {self.name} as {fmt}: {why} (try --format {other})") from None


def frame_kind(obj: Any) -> str | None:
    """"pandas DataFrame" etc. for supported frames, None otherwise (polars is never imported here)."""
    module = type(obj).__module__.split(".", 1)[0]
    name = type(obj).__name__
    if module in {"pandas", "polars"} and name in {"DataFrame", "Series"}:
        return f"{module} {name}"
    return None


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "data"
    return stem[:100]


def _unsupported(obj: Any) -> FileSyncError:
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    hint = "; call .collect() first" if type(obj).__name__ == "LazyFrame" else ""
    return FileSyncError(f"cannot upload a {kind}: supported are {SUPPORTED}{hint}")


def _named_items(inputs: Any) -> list[tuple[str | None, Any]]:
    if isinstance(inputs, Mapping):
        return [(str(k), v) for k, v in inputs.items()]
    if isinstance(inputs, (str, os.PathLike)) or frame_kind(inputs):
        inputs = [inputs]
    if not isinstance(inputs, Iterable):
        raise _unsupported(inputs)
    items: list[tuple[str | None, Any]] = []
    for item in inputs:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            items.append(item)
        else:
            items.append((None, item))
    return items


def expand_inputs(inputs: Any, *, fmt: str = "parquet") -> list[InputSpec]:
    """Validate and expand inputs (mapping name -> object, or a list of objects/paths/(name, obj))."""
    if fmt not in FORMATS:
        raise FileSyncError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    specs: list[InputSpec] = []
    for i, (name, obj) in enumerate(_named_items(inputs)):
        kind = frame_kind(obj)
        if kind:
            label = name or f"frame{i + 1}"
            mount = f"/{_safe_stem(label)}.{fmt}"
            specs.append(InputSpec(label, kind, mount, frame_digest(obj, fmt), obj=obj, fmt=fmt))
        elif isinstance(obj, (str, os.PathLike)):
            specs.extend(_path_specs(Path(obj).expanduser(), name))
        else:
            raise _unsupported(obj)
    _check_unique(specs)
    return specs


def _path_specs(path: Path, name: str | None) -> list[InputSpec]:
    if path.is_file():
        leaf = _safe_stem(path.name)
        return [InputSpec(name or path.name, "file", f"/{leaf}", file_digest(path), path=path)]
    if not path.is_dir():
        raise FileSyncError(f"no such file or directory: {path}")
    # The mount folder is the directory's own name; `name` (often the path as typed) only labels it.
    top = _safe_stem(path.resolve().name)
    label = (name or top).rstrip("/\\") or top
    specs = []
    for root, dirs, files in os.walk(path):
        # Hidden entries (.git, .ipynb_checkpoints) are never what a user means to send.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for leaf in sorted(f for f in files if not f.startswith(".")):
            file = Path(root, leaf)
            rel = file.relative_to(path).as_posix()
            mount = "/" + "/".join([top, *(_safe_stem(p) for p in rel.split("/"))])
            specs.append(InputSpec(f"{label}/{rel}", "file", mount, file_digest(file), path=file, group=label))
    if not specs:
        raise FileSyncError(f"directory {path} has no files to upload")
    return specs


def _check_unique(specs: list[InputSpec]) -> None:
    seen: dict[str, str] = {}
    for spec in specs:
        other = seen.setdefault(spec.mount_request.casefold(), spec.name)
        if other != spec.name:
            raise FileSyncError(f"{other!r} and {spec.name!r} would both be mounted at {spec.mount_request}")


# --- hashing -------------------------------------------------------------------------------

_FILE_HASHES: dict[tuple[str, int, int, int], str] = {}


def file_digest(path: Path) -> str:
    """sha256 of the file, cached on (path, size, mtime, inode): unchanged files are only stat'ed."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    digest = _FILE_HASHES.get(key)
    if digest is None:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = _FILE_HASHES[key] = "file:" + h.hexdigest()
    return digest


# Bump when what the digest covers changes: digests of the old scheme then never match.
_DIGEST_SCHEME = "xxh3-v1"


def frame_digest(obj: Any, fmt: str) -> str:
    """Content hash of a frame as it would be uploaded in `fmt`: xxh3-128 over its buffers.

    Covers the format, the shape, the column names (with their types), every column's dtype and
    values, and the index (type, names, dtype, values). Numeric columns are hashed as their NumPy
    buffers, everything else as the Arrow buffers `to_parquet` would write (see `_hash_column`),
    so hashing runs at memory speed and never serializes. Sample rows are not covered: they only
    change the prompt's card, which is rebuilt on every turn, not the uploaded file.
    """
    h = xxhash.xxh3_128()
    kind = frame_kind(obj) or ""
    h.update(f"{_DIGEST_SCHEME}|{kind}|{fmt}|{obj.shape}".encode())
    try:
        if kind.startswith("pandas"):
            _hash_pandas(h, obj)
        else:
            h.update(repr(obj.schema if hasattr(obj, "schema") else obj.dtype).encode())
            h.update(repr(getattr(obj, "columns", getattr(obj, "name", None))).encode())
            h.update(obj.hash_rows().to_numpy().tobytes() if hasattr(obj, "hash_rows") else obj.hash().to_numpy().tobytes())
    except Exception:
        # Whatever the buffers cannot say (exotic cells): hash what would be sent instead; still exact.
        h = xxhash.xxh3_128(f"{_DIGEST_SCHEME}|{kind}|{fmt}|serialized".encode())
        try:
            h.update(serialize_frame(obj, fmt))
        except Exception:  # unwritable: a digest that never matches, so the upload step says why
            return f"frame:unwritable:{id(obj):x}:{os.urandom(8).hex()}"
    return "frame:" + h.hexdigest()


def _hash_pandas(h: Any, obj: Any) -> None:
    import pandas as pd

    frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
    if isinstance(obj, pd.Series):  # the Series' name becomes the column name (or "value")
        h.update(repr(("series", obj.name, type(obj.name).__name__)).encode())
    # Names with their types: `0` and `"0"`, or a renamed column, are different frames.
    h.update(repr([(c, type(c).__name__) for c in frame.columns]).encode())
    h.update(repr((type(frame.columns).__name__, frame.columns.names)).encode())
    for i in range(frame.shape[1]):
        _hash_column(h, frame.iloc[:, i])
    idx = frame.index
    h.update(repr(("index", type(idx).__name__, list(idx.names), str(idx.dtype))).encode())
    if isinstance(idx, pd.RangeIndex):
        h.update(repr((idx.start, idx.stop, idx.step)).encode())
    else:
        for level in range(idx.nlevels):
            _hash_column(h, pd.Series(idx.get_level_values(level), copy=False))


_MASKED = {"IntegerArray", "FloatingArray", "BooleanArray"}


def _hash_column(h: Any, col: Any) -> None:
    """One column's dtype and values, from its buffers.

    - NumPy dtypes (ints, floats, bools, complex, naive datetimes/timedeltas): the raw values.
    - pandas' nullable Int/Float/boolean: the missing-value mask plus the values with missing
      slots read as 0, so what lies under a missing value does not count.
    - anything else (strings, categoricals, tz-aware datetimes, Arrow-backed and object columns):
      the column as Arrow holds it (`pa.array(col, from_pandas=True)`, what `to_parquet` writes;
      zero-copy for Arrow-backed columns): its type and buffers. An object column Arrow refuses
      (mixed types) is stored as `str()` of each value, so those strings are hashed.
    """
    import numpy as np

    dtype = col.dtype
    h.update(f"|{dtype!r}|{len(col)}|".encode())
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        h.update(np.ascontiguousarray(col.to_numpy()).view(np.uint8))
        return
    if type(col.array).__name__ in _MASKED:
        zero = False if dtype.kind == "b" else 0
        h.update(np.ascontiguousarray(col.isna().to_numpy()).view(np.uint8))
        h.update(np.ascontiguousarray(col.to_numpy(dtype=dtype.numpy_dtype, na_value=zero)).view(np.uint8))
        return
    _hash_arrow(h, _to_arrow(col))


def _to_arrow(col: Any) -> Any:
    import pyarrow as pa

    try:
        return pa.array(col, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        if col.dtype != object:
            raise TypeError(f"cannot hash {col.dtype} by its buffers") from None
        # As `_parquet_safe` stores it: str() of each value, missing values stay missing.
        return pa.array([v if _is_missing(v) else str(v) for v in col], from_pandas=True)


def _hash_arrow(h: Any, arr: Any) -> None:
    """An Arrow array's type and values, independent of chunking and slicing (a column sliced
    from a bigger one hashes like the same values built afresh)."""
    import numpy as np
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.chunk(0) if arr.num_chunks == 1 else pa.concat_arrays(arr.chunks) if arr.num_chunks else \
            pa.array([], type=arr.type)
    typ, n, off = arr.type, len(arr), arr.offset
    h.update(f"|{typ}|{n}|{arr.null_count}|".encode())
    if arr.null_count:  # which slots are missing (what lies under them does not count for text)
        h.update(np.ascontiguousarray(arr.is_null().to_numpy(zero_copy_only=False)).view(np.uint8))
    if pa.types.is_dictionary(typ):  # categoricals: codes, then the categories
        _hash_arrow(h, arr.indices)
        _hash_arrow(h, arr.dictionary)
        return
    bufs = arr.buffers()
    if pa.types.is_boolean(typ):
        h.update(np.ascontiguousarray(arr.fill_null(False).to_numpy(zero_copy_only=False)).view(np.uint8))
    elif len(bufs) == 2 and not pa.types.is_nested(typ) and getattr(typ, "bit_width", 0) % 8 == 0 and bufs[1]:
        width = typ.bit_width // 8  # ints, floats, timestamps, decimals: the values' bytes
        h.update(memoryview(bufs[1])[off * width:(off + n) * width])
    elif pa.types.is_string(typ) or pa.types.is_binary(typ) or pa.types.is_large_string(typ) \
            or pa.types.is_large_binary(typ):
        kind = np.int64 if pa.types.is_large_string(typ) or pa.types.is_large_binary(typ) else np.int32
        offsets = np.frombuffer(bufs[1], dtype=kind)[off:off + n + 1] if n else np.zeros(1, dtype=kind)
        h.update(np.ascontiguousarray(offsets - offsets[0]).view(np.uint8))
        if bufs[2] is not None:
            h.update(memoryview(bufs[2])[int(offsets[0]):int(offsets[-1])])
    else:
        # Lists, structs, maps, views: children carry offsets of their own; the IPC bytes are exact.
        sink = pa.BufferOutputStream()
        batch = pa.record_batch([arr], names=["c"])
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        h.update(sink.getvalue())


# --- serializing ---------------------------------------------------------------------------


def prepare_pandas(obj: Any, fmt: str = "parquet") -> tuple[Any, list[str]]:
    """The frame as it will be written in `fmt`, plus notes on what had to change (for the card)."""
    import pandas as pd

    notes: list[str] = []
    frame = obj.to_frame(name=obj.name if obj.name is not None else "value") if isinstance(obj, pd.Series) else obj
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.set_axis(["|".join(map(str, c)) for c in frame.columns], axis=1)
        notes.append("MultiIndex column labels were joined with '|' (e.g. ('a', 'x') -> 'a|x').")
    elif not all(isinstance(c, str) for c in frame.columns):
        originals = [c for c in frame.columns if not isinstance(c, str)][:5]
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        shown = ", ".join(f"{c!r} -> {str(c)!r}" for c in originals)
        notes.append(f"Non-text column names were converted to text in the file ({shown}).")
    if frame.columns.duplicated().any():
        names, renamed = _unique_names(list(frame.columns))
        frame = frame.set_axis(names, axis=1)
        shown = ", ".join(f"{old!r} -> {new!r}" for old, new in renamed[:5])
        notes.append(f"Duplicate column names were made unique in the file ({shown}).")
    if fmt == "parquet":
        frame, more = _parquet_safe(frame)
        notes += more
    else:  # CSV writes `(1+2j)` itself; say how to get the numbers back
        notes += [_complex_note(n, frame[n].dtype) for n in frame.columns if frame[n].dtype.kind == "c"]
    return frame, notes


def _complex_note(name: str, dtype: Any) -> str:
    return (f"Column {name!r} ({dtype}) is stored as text like '(1+2j)': restore it with "
            f"`df[{name!r}] = df[{name!r}].astype(complex)`.")


def _unique_names(names: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """`a, a, a` -> `a, a.1, a.2` (as `pandas.read_csv` names them), avoiding names already taken."""
    taken, out, renamed = set(names), [], []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            n, new = 1, f"{name}.1"
            while new in taken:
                n += 1
                new = f"{name}.{n}"
            taken.add(new)
            renamed.append((name, new))
            name = new
        seen.add(name)
        out.append(name)
    return out, renamed


def _parquet_safe(frame: Any) -> tuple[Any, list[str]]:
    """Columns Parquet cannot hold as they are, written as text, with a note on each."""
    import pyarrow as pa

    notes: list[str] = []
    changed: dict[str, Any] = {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind == "c":
            changed[name] = col.map(str)
            notes.append(_complex_note(name, col.dtype))
        elif col.dtype == object:
            try:
                pa.array(col, from_pandas=True)
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                kinds = sorted({type(v).__name__ for v in col if not _is_missing(v)})
                changed[name] = col.map(lambda v: v if _is_missing(v) else str(v))
                notes.append(f"Column {name!r} mixes {', '.join(kinds[:5])} values: stored as text (str() of each; "
                             "missing values stay missing).")
    if changed:  # column names are unique text by now
        frame = frame.assign(**changed)
    return frame, notes


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def keeps_index(frame: Any) -> bool:
    import pandas as pd

    idx = frame.index
    default = isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1 and idx.name is None
    return not default


def serialize_frame(obj: Any, fmt: str) -> bytes:
    buf = io.BytesIO()
    kind = frame_kind(obj) or ""
    if kind.startswith("polars"):
        frame = obj.to_frame() if kind.endswith("Series") else obj
        frame.write_parquet(buf) if fmt == "parquet" else frame.write_csv(buf)
        return buf.getvalue()
    frame, _ = prepare_pandas(obj, fmt)
    if fmt == "parquet":
        return _write_parquet(frame)
    frame.to_csv(buf, index=keeps_index(frame))
    return buf.getvalue()


def _write_parquet(frame: Any) -> bytes:
    """What `frame.to_parquet(index=None)` writes (the RangeIndex as metadata, any other index
    stored, `attrs` kept), except that float columns are not dictionary-encoded: the writer's
    default tries a dictionary on every column and falls back once it overflows, which for
    measurements (almost never repeated) costs about a quarter of the write for no smaller file.
    Every other column keeps it (repeated ids, dates, codes and text shrink several-fold)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=None)
    if frame.attrs:
        meta = dict(table.schema.metadata or {})
        meta[b"PANDAS_ATTRS"] = json.dumps(frame.attrs).encode()
        table = table.replace_schema_metadata(meta)
    keep = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    # Into a BytesIO, as `to_parquet` writes: Arrow's growing BufferOutputStream reallocates its
    # one big buffer as the file grows, which now and then cost 2-5x the whole write (benchmarks.md).
    sink = io.BytesIO()
    pq.write_table(table, sink, use_dictionary=keep)
    return sink.getvalue()
