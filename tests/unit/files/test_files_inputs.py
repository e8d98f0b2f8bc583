"""Inputs without a server: expansion, checks, content hashes, serialization and schema cards."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nb_agents.errors import FileSyncError
from nb_agents.files.cards import cards_text
from nb_agents.files.inputs import expand_inputs, frame_digest, serialize_frame


def every_dtype_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ints": pd.array([1, None, 3, 4], dtype="Int64"),
            "floats": [1.5, np.nan, -2.0, 0.25],
            "strings": ["a", None, "c", "d"],
            "cats": pd.Categorical(["x", "y", "x", None], categories=["y", "x"], ordered=True),
            "when": pd.date_range("2024-03-30 22:00", periods=4, freq="h", tz="Europe/Paris"),
            "flags": pd.array([True, False, None, True], dtype="boolean"),
        },
        index=pd.Index([10, 11, 12, 13], name="row_id"),
    )


def test_frames_paths_and_directories_expand(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("x\n1\n")
    (data / "sub" / "b.csv").write_text("x\n2\n")
    (data / ".hidden").write_text("secret")
    specs = expand_inputs({"sales": every_dtype_frame(), "s": pd.Series([1, 2], name="n")})
    specs += expand_inputs([tmp_path / "notes.txt", str(data)], fmt="csv")
    mounts = [s.mount_request for s in specs]
    assert mounts == ["/sales.parquet", "/s.parquet", "/notes.txt", "/data/a.csv", "/data/sub/b.csv"]
    assert [s.kind for s in specs[:3]] == ["pandas DataFrame", "pandas Series", "file"]
    assert specs[3].group == "data" and specs[4].name == "data/sub/b.csv"
    assert expand_inputs([("my frame!", every_dtype_frame())], fmt="csv")[0].mount_request == "/my_frame.csv"
    # Named by the path as typed (what `--files data/` gives): mounted under the folder's own name.
    by_path = expand_inputs({f"{data}/": f"{data}/"})
    assert [s.mount_request for s in by_path] == ["/data/a.csv", "/data/sub/b.csv"]
    assert by_path[0].group == str(data)


def test_checks_refuse_before_anything(tmp_path: Path) -> None:
    with pytest.raises(FileSyncError, match=r"cannot upload a builtins\.dict: supported are pandas DataFrame"):
        expand_inputs({"cfg": {"a": 1}})
    with pytest.raises(FileSyncError, match="no such file or directory"):
        expand_inputs([tmp_path / "missing.csv"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileSyncError, match="has no files"):
        expand_inputs([tmp_path / "empty"])
    with pytest.raises(FileSyncError, match="both be mounted at /df.parquet"):
        expand_inputs([("df", pd.DataFrame({"a": [1]})), ("df?", pd.DataFrame({"a": [2]}))])
    with pytest.raises(FileSyncError, match="unknown format 'xlsx'"):
        expand_inputs({"df": pd.DataFrame()}, fmt="xlsx")


def test_polars_frames_and_lazyframe_hint() -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"a": [1, None, 3], "b": ["x", "y", None]})
    spec = expand_inputs({"p": frame})[0]
    assert spec.kind == "polars DataFrame" and spec.mount_request == "/p.parquet"
    back = pl.read_parquet(io.BytesIO(spec.payload()))
    assert back.equals(frame)
    assert frame_digest(frame.clone(), "parquet") == spec.digest
    assert frame_digest(frame.with_columns(pl.col("a").fill_null(0)), "parquet") != spec.digest
    card = cards_text([(spec, "/mnt/session/uploads/p.parquet", 10)], sample=2)
    assert "`a`: Int64, 1 nulls" in card and "First 2 rows" in card
    with pytest.raises(FileSyncError, match=r"LazyFrame.*call \.collect\(\) first"):
        expand_inputs({"lazy": frame.lazy()})


def test_digest_is_stable_and_sees_every_change() -> None:
    df = every_dtype_frame()
    base = frame_digest(df, "parquet")
    assert frame_digest(df.copy(), "parquet") == base
    assert frame_digest(df, "csv") != base
    changed = df.copy()
    changed.loc[12, "floats"] = 9.0
    assert frame_digest(changed, "parquet") != base
    recat = df.copy()
    recat["cats"] = recat["cats"].cat.reorder_categories(["x", "y"])
    assert frame_digest(recat, "parquet") != base
    assert frame_digest(df.set_axis([0, 1, 2, 3]), "parquet") != base
    assert frame_digest(df.assign(when=df["when"].dt.tz_convert("UTC")), "parquet") != base
    lists = pd.DataFrame({"l": [[1, 2], [3]]})  # unhashable cells fall back to the serialized bytes
    assert frame_digest(lists, "parquet") == frame_digest(lists.copy(), "parquet")


def test_parquet_round_trip_keeps_every_dtype_and_index() -> None:
    df = every_dtype_frame()
    back = pd.read_parquet(io.BytesIO(serialize_frame(df, "parquet")))
    pd.testing.assert_frame_equal(back, df)


def test_non_text_column_names_are_converted_and_explained() -> None:
    df = pd.DataFrame({0: [1, 2], "b": [3, 4]})
    spec = expand_inputs({"df": df})[0]
    back = pd.read_parquet(io.BytesIO(spec.payload()))
    assert list(back.columns) == ["0", "b"]
    card = cards_text([(spec, "/mnt/session/uploads/df.parquet", 100)])
    assert "Non-text column names were converted to text in the file (0 -> '0')" in card


def test_csv_card_explains_what_csv_loses() -> None:
    df = every_dtype_frame()
    spec = expand_inputs({"sales": df}, fmt="csv")[0]
    text = spec.payload().decode()
    assert text.splitlines()[0] == "row_id,ints,floats,strings,cats,when,flags"
    card = cards_text([(spec, "/mnt/session/uploads/sales.csv", len(text))], sample=0)
    assert 'pd.read_csv("/mnt/session/uploads/sales.csv")' in card
    assert "Index: `row_id` (int64) is the first CSV column; use `index_col=0`" in card
    assert "ordered categories ['y', 'x']" in card
    assert "tz_convert('Europe/Paris')" in card
    assert "`ints`: Int64, 1 nulls (nulls are empty cells; read with `dtype={'ints': 'Int64'}`)" in card
    assert "First" not in card  # sample=0 sends no rows


def test_parquet_card_has_exact_mount_shape_dtypes_and_sample() -> None:
    df = every_dtype_frame()
    spec = expand_inputs({"sales": df})[0]
    mount = "/mnt/session/uploads/sales.parquet"
    card = cards_text([(spec, mount, 2048)], sample=3)
    assert f"### Input `sales` (pandas DataFrame) at `{mount}`" in card
    assert f'pd.read_parquet("{mount}")' in card
    assert "4 rows x 6 columns, 2.0 kB" in card
    for line in ["- `ints`: Int64, 1 nulls", "- `floats`: float64, 1 nulls", "- `cats`: category, 1 nulls",
                 f"- `when`: {df['when'].dtype}", "- `flags`: boolean, 1 nulls"]:
        assert line in card
    assert "Index: `row_id` (int64), stored in the file" in card
    sample_rows = card.split("First 3 rows:\n```\n")[1].split("\n```")[0].splitlines()
    assert [row.split()[0] for row in sample_rows[2:]] == ["10", "11", "12"]  # header, index name, rows


def test_directory_card_lists_every_mount(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text("x" * i)
    specs = expand_inputs([tmp_path])
    card = cards_text([(s, "/mnt/session/uploads" + s.mount_request, i) for i, s in enumerate(specs)])
    top = tmp_path.name
    assert f"### Directory `{top}` (3 files)" in card
    assert f"- `/mnt/session/uploads/{top}/f2.txt` (2 B)" in card
