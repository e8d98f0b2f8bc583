"""Round trip on the emulator: a DataFrame goes in, the analyst's profile and chart come back."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.display import Image

from nb_agents.files import FileSync, written_output_paths

from .conftest import run_turn


def every_dtype_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 40
    ints = pd.array(rng.integers(-50, 50, n), dtype="Int64")
    ints[[3, 17]] = pd.NA
    return pd.DataFrame(
        {
            "ints": ints,
            "floats": np.where(rng.random(n) < 0.1, np.nan, rng.normal(10, 3, n)),
            "strings": [None if i % 9 == 0 else f"s{i % 5}" for i in range(n)],
            "cats": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"], ordered=True),
            "when": pd.date_range("2024-03-30", periods=n, freq="7h", tz="Europe/Paris"),
            "flags": pd.array([None if i % 11 == 0 else bool(i % 2) for i in range(n)], dtype="boolean"),
        },
        index=pd.Index(range(100, 100 + n), name="row_id"),
    )


def pandas_profile(df: pd.DataFrame) -> pd.DataFrame:
    """The statistics pandas itself gives for the frame we sent, in the analyst's layout."""
    num = df.select_dtypes("number")
    rows = []
    for col in df.columns:
        s = df[col]
        numeric = col in num.columns
        rows.append({"name": str(col), "dtype": str(s.dtype), "count": int(s.count()), "nulls": int(s.isna().sum()),
                     "mean": s.mean() if numeric else None, "std": s.std() if numeric else None,
                     "min": s.min() if numeric else None, "max": s.max() if numeric else None})
    # Through CSV like the profile itself, so both sides have the same cell types.
    return pd.read_csv(io.StringIO(pd.DataFrame(rows).to_csv(index=False)))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_profile_of_sent_frame_equals_pandas_statistics(client: Any, new_session: Any, sync: FileSync, fmt: str) -> None:
    df = every_dtype_frame()
    sid = new_session()
    prep = sync.prepare({"sales": df}, session_id=sid, fmt=fmt, sample=3)
    resources = list(client.beta.sessions.resources.list(sid))
    assert [r.mount_path for r in resources] == [prep.report[0].mount_path]
    assert f"at `{resources[0].mount_path}`" in prep.cards  # the path the API reported, verbatim

    events = run_turn(client, sid, f"Profile this table.\n\n{prep.cards}")
    outputs = sync.pull(sid, written_paths=written_output_paths(events))
    assert sorted(outputs) == ["sales_hist.png", "sales_profile.csv"]
    profile = outputs["sales_profile.csv"].load()
    if fmt == "parquet":
        # Parquet keeps every dtype: the agent's pandas sees exactly our frame.
        pd.testing.assert_frame_equal(profile, pandas_profile(df))
    else:
        # CSV loses dtypes (the card says how to restore them), never values or counts.
        expected = pandas_profile(df)
        assert profile["name"].iloc[0] == "row_id"  # the index travels as the first column
        profile = profile.iloc[1:].reset_index(drop=True)
        pd.testing.assert_frame_equal(profile[["name", "count", "nulls"]], expected[["name", "count", "nulls"]])
        for col in ["ints", "floats"]:
            got, want = profile.set_index("name").loc[col], expected.set_index("name").loc[col]
            assert np.allclose(got[["mean", "std", "min", "max"]].astype(float), want[["mean", "std", "min", "max"]].astype(float))

    chart = outputs["sales_hist.png"]
    assert chart.mime == "image/png" and chart.size > 1000 and chart.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(chart.load(), Image)
    assert chart.path.parent == sync.outputs_root


def test_inputs_are_not_pulled_back_and_nothing_new_means_no_download(emu: Any, client: Any, new_session: Any,
                                                                      sync: FileSync) -> None:
    sid = new_session()
    sync.prepare({"t": pd.DataFrame({"a": [1, 2, 3]})}, session_id=sid)
    first = sync.pull(sid, written_paths=written_output_paths(run_turn(client, sid, "profile it")))
    assert sorted(first) == ["t_hist.png", "t_profile.csv"]
    downloads = emu.stats["downloads"]
    assert sync.pull(sid) == {}  # same files: nothing downloaded again
    assert emu.stats["downloads"] == downloads
    assert sorted(sync.outputs()) == ["t_hist.png", "t_profile.csv"]
    # A forced re-pull (same server ids) overwrites only its own copies: no `~2` names.
    again = sync.pull(sid, force=True)
    assert sorted(again) == ["t_hist.png", "t_profile.csv"]
    assert sorted(p.name for p in sync.outputs_root.iterdir() if not p.name.startswith(".")) == [
        "t_hist.png", "t_profile.csv"]
    # A new kernel (fresh FileSync, same folder) knows them again from the manifest, without downloading.
    downloads = emu.stats["downloads"]
    fresh = FileSync(client, outputs_dir=sync.outputs_root.parent, session_name="default", settle=0)
    assert fresh.pull(sid) == {} and emu.stats["downloads"] == downloads
    assert {k: v.sha256 for k, v in fresh.outputs().items()} == {k: v.sha256 for k, v in sync.outputs().items()}
