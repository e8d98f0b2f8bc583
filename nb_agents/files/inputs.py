"""Inputs for a session: what may be sent, under which mount path, its content hash, its bytes.

`expand_inputs()` turns what the user named (DataFrames, Series, polars frames, files,
directories) into `InputSpec`s and refuses anything else *before* any upload: unsupported
objects, missing paths, empty directories, two inputs wanting the same mount path.
The content hash is cheap compared to serializing (pandas' `hash_pandas_object` plus the
dtypes/columns/index, polars' `hash_rows` plus the schema, stat + a cached sha256 for
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


def frame_digest(obj: Any, fmt: str) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{frame_kind(obj)}|{fmt}|{obj.shape}".encode())
    try:
        if frame_kind(obj).startswith("pandas"):  # type: ignore[union-attr]
            _hash_pandas(h, obj)
        else:
            h.update(repr(obj.schema if hasattr(obj, "schema") else obj.dtype).encode())
            h.update(repr(getattr(obj, "columns", getattr(obj, "name", None))).encode())
            h.update(obj.hash_rows().to_numpy().tobytes() if hasattr(obj, "hash_rows") else obj.hash().to_numpy().tobytes())
    except TypeError:
        # Unhashable cells (lists, dicts): hash what would be sent instead; still exact.
        h.update(serialize_frame(obj, fmt))
    return "frame:" + h.hexdigest()


def _hash_pandas(h: Any, obj: Any) -> None:
    import pandas as pd

    frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
    # dtypes by repr: categories and their order, tz, units all count as a change.
    h.update(repr([(c, type(c).__name__, repr(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(repr((type(frame.index).__name__, frame.index.names, repr(frame.index.dtype))).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())


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
        frame.to_parquet(buf, index=None)  # RangeIndex as metadata, any other index stored
    else:
        frame.to_csv(buf, index=keeps_index(frame))
    return buf.getvalue()
