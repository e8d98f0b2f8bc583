"""The frame content hash (xxh3 over the frame's buffers): every change that changes the upload is
seen, and equal frames built differently hash equal when their upload bytes are equal."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from nb_agents.files.inputs import frame_digest, serialize_frame


def base_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ints": np.arange(6, dtype="int64"),
            "floats": [1.5, np.nan, -2.0, 0.25, 3.0, 4.0],
            "text": ["a", None, "c", "d", "e", "f"],
            "objects": np.array([1, "two", 3.0, None, "five", 6], dtype=object),
            "cats": pd.Categorical(["x", "y", "x", None, "y", "x"], categories=["y", "x"], ordered=True),
            "when": pd.date_range("2024-03-30 22:00", periods=6, freq="h", tz="Europe/Paris"),
            "nullable": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "flags": [True, False, True, True, False, False],
        },
        index=pd.Index([10, 11, 12, 13, 14, 15], name="row_id"),
    )


def _set(col: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df.iloc[row, df.columns.get_loc(col)] = value
        return df
    return change


CHANGES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "int cell": _set("ints", 3, 99),
    "float cell": _set("floats", 0, 1.25),
    "float NaN filled": _set("floats", 1, 0.0),
    "text cell": _set("text", 2, "z"),
    "text None filled": _set("text", 1, "b"),
    "object cell": _set("objects", 1, "TWO"),
    "object None filled": _set("objects", 3, "four"),
    "categorical cell": _set("cats", 0, "y"),
    "categorical order": lambda df: df.assign(cats=df["cats"].cat.reorder_categories(["x", "y"])),
    "categorical unordered": lambda df: df.assign(cats=df["cats"].cat.as_unordered()),
    "datetime cell": _set("when", 4, pd.Timestamp("2025-01-01", tz="Europe/Paris")),
    "datetime tz": lambda df: df.assign(when=df["when"].dt.tz_convert("UTC")),
    "nullable NA filled": _set("nullable", 1, 0),
    "bool cell": _set("flags", 5, True),
    "index value": lambda df: df.rename(index={12: 99}),
    "index name": lambda df: df.rename_axis("other"),
    "index to a column": lambda df: df.reset_index(),
    "column rename": lambda df: df.rename(columns={"floats": "float"}),
    "column order": lambda df: df[list(df.columns[::-1])],
    "column dropped": lambda df: df.drop(columns="flags"),
    "int64 to int32": lambda df: df.astype({"ints": "int32"}),
    "int to float, same values": lambda df: df.astype({"ints": "float64"}),
    "Int64 to int64 filled": lambda df: df.assign(nullable=df["nullable"].fillna(0).astype("int64")),
    "row dropped": lambda df: df.iloc[:-1],
    "rows swapped": lambda df: df.iloc[[1, 0, 2, 3, 4, 5]],
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_one_change_is_seen(change: str) -> None:
    df = base_frame()
    changed = CHANGES[change](df)
    assert serialize_frame(changed, "parquet") != serialize_frame(df, "parquet")  # it does change the upload
    assert frame_digest(changed, "parquet") != frame_digest(df, "parquet")
    assert frame_digest(changed, "csv") != frame_digest(df, "csv")


def test_object_columns_hash_what_is_stored() -> None:
    ints = pd.DataFrame({"o": pd.Series([1, 2], dtype=object)})
    texts = pd.DataFrame({"o": pd.Series(["1", "2"], dtype=object)})
    assert frame_digest(ints, "parquet") != frame_digest(texts, "parquet")  # int64 vs text in the file
    # A column mixing types is stored as str() of each value (and hashed so): stable, and a change seen.
    mixed = pd.DataFrame({"o": pd.Series([1, "two", None], dtype=object)})
    assert frame_digest(mixed, "parquet") == frame_digest(mixed.copy(deep=True), "parquet")
    assert frame_digest(mixed, "parquet") != frame_digest(mixed.replace("two", "2"), "parquet")


def test_format_and_series_name_count() -> None:
    df = base_frame()
    assert frame_digest(df, "csv") != frame_digest(df, "parquet")
    s = pd.Series([1, 2, 3], name="a")
    assert frame_digest(s, "parquet") != frame_digest(s.rename("b"), "parquet")
    assert frame_digest(s, "parquet") != frame_digest(s.to_frame(), "parquet")


def test_a_large_frame_changed_in_one_cell() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    df = pd.DataFrame({"x": rng.random(n), "s": rng.choice(["p", "q", "r"], n), "k": rng.integers(0, 9, n)})
    base = frame_digest(df, "parquet")
    for col, value in (("x", 0.5), ("s", "zz"), ("k", 42)):
        changed = df.copy()
        changed.iloc[n - 7, changed.columns.get_loc(col)] = value
        assert frame_digest(changed, "parquet") != base, col
    assert frame_digest(df.copy(), "parquet") == base


EQUAL: dict[str, Callable[[], tuple[pd.DataFrame, pd.DataFrame]]] = {
    "copy": lambda: (base_frame(), base_frame().copy()),
    "deep copy of values": lambda: (base_frame(), base_frame().copy(deep=True)),
    "from records vs columns": lambda: (
        pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        pd.DataFrame.from_records([(1, "x"), (2, "y")], columns=["a", "b"]),
    ),
    "slice vs built afresh": lambda: (
        pd.DataFrame({"s": ["a", "b", "c", "d"], "c": pd.Categorical(["x", "y", "x", "y"]),
                      "t": pd.date_range("2024", periods=4, tz="UTC"),
                      "i": pd.array([1, None, 3, 4], dtype="Int64")}).iloc[2:].reset_index(drop=True),
        pd.DataFrame({"s": ["c", "d"], "c": pd.Categorical(["x", "y"]),
                      "t": pd.date_range("2024-01-03", periods=2, tz="UTC"),
                      "i": pd.array([3, 4], dtype="Int64")}),
    ),
    "NA reached two ways": lambda: (
        pd.DataFrame({"i": pd.array([1, None, 3], dtype="Int64")}),
        pd.DataFrame({"i": pd.Series([1.0, 7.0, 3.0]).astype("Int64").mask([False, True, False])}),
    ),
    "categorical from codes": lambda: (
        pd.DataFrame({"c": pd.Categorical(["x", "y", "x"], categories=["x", "y"])}),
        pd.DataFrame({"c": pd.Categorical.from_codes([0, 1, 0], categories=["x", "y"])}),
    ),
    "concatenated": lambda: (
        pd.DataFrame({"a": [1, 2, 3, 4], "s": ["p", "q", "r", "s"]}),
        pd.concat([pd.DataFrame({"a": [1, 2], "s": ["p", "q"]}),
                   pd.DataFrame({"a": [3, 4], "s": ["r", "s"]})], ignore_index=True),
    ),
    "non-contiguous column": lambda: (
        pd.DataFrame({"a": [1.0, 3.0], "b": [2.0, 4.0]}),
        pd.DataFrame(np.array([[1.0, 2.0], [3.0, 4.0]]), columns=["a", "b"]),
    ),
    "fortran-ordered block": lambda: (
        pd.DataFrame({"a": [1, 3], "b": [2, 4]}),
        pd.DataFrame(np.asfortranarray(np.array([[1, 2], [3, 4]])), columns=["a", "b"]),
    ),
}


@pytest.mark.parametrize("case", list(EQUAL), ids=list(EQUAL))
def test_equal_frames_built_differently_hash_equal(case: str) -> None:
    a, b = EQUAL[case]()
    assert serialize_frame(a, "parquet") == serialize_frame(b, "parquet")  # the same upload...
    assert frame_digest(a, "parquet") == frame_digest(b, "parquet")  # ...so the same hash


def test_unhashable_cells_still_hash_exactly() -> None:
    lists = pd.DataFrame({"l": [[1, 2], [3]], "d": [{"k": 1}, {"k": 2}]})
    assert frame_digest(lists, "parquet") == frame_digest(lists.copy(deep=True), "parquet")
    changed = pd.DataFrame({"l": [[1, 2], [4]], "d": [{"k": 1}, {"k": 2}]})
    assert frame_digest(changed, "parquet") != frame_digest(lists, "parquet")


def test_hash_does_not_serialize(monkeypatch: pytest.MonkeyPatch) -> None:
    import nb_agents.files.inputs as inputs_mod

    monkeypatch.setattr(inputs_mod, "serialize_frame", lambda *a: pytest.fail("the hash serialized the frame"))
    frame_digest(base_frame(), "parquet")
    frame_digest(base_frame(), "csv")
