"""files.local: the working folder of a local session (inputs written, outputs found in place)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from nb_agents.errors import FileSyncError
from nb_agents.files.local import LOCAL_INTRO, LocalFolder


def test_frames_and_files_are_written_under_inputs_with_the_cloud_card(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    folder = LocalFolder(tmp_path / "work")
    prep = folder.prepare({"sales": pd.DataFrame({"a": [1, 2, 3]}), str(src): str(src)}, sample=1)
    assert prep.local and prep.resources == [] and prep.uploaded == []
    paths = {spec.name: mount.mount_path for spec, mount in prep.entries}
    assert paths == {"sales": "inputs/sales.parquet", str(src): "inputs/notes.txt"}
    assert pd.read_parquet(tmp_path / "work/inputs/sales.parquet")["a"].tolist() == [1, 2, 3]
    assert (tmp_path / "work/inputs/notes.txt").read_text() == "hello"
    cards = prep.cards
    assert cards.startswith(LOCAL_INTRO) and "/mnt/session" not in cards
    assert "### Input `sales` (pandas DataFrame) at `inputs/sales.parquet`" in cards
    assert 'pd.read_parquet("inputs/sales.parquet")' in cards and "3 rows x 1 columns" in cards


def test_outputs_are_the_files_new_or_changed_since_the_snapshot(tmp_path: Path) -> None:
    folder = LocalFolder(tmp_path)
    folder.check()
    (tmp_path / "old.txt").write_text("same")
    (tmp_path / "changed.csv").write_text("a\n1\n")
    before = folder.snapshot()
    (tmp_path / "changed.csv").write_text("a\n1\n2\n")
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs/chart.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs/x.parquet").write_bytes(b"not an output")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden/y").write_text("skip")
    os.symlink("/etc/hostname", tmp_path / "link.txt")  # never read through
    outs = folder.outputs(before)
    assert sorted(outs) == ["changed.csv", "chart.png"]  # outputs/ is dropped from names, as in the cloud
    assert outs["changed.csv"].load()["a"].tolist() == [1, 2]
    assert outs["chart.png"].path == tmp_path / "outputs/chart.png" and outs["chart.png"].mime == "image/png"
    assert folder.outputs(folder.snapshot()) == {}


def test_a_folder_that_cannot_be_made_or_written_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(FileSyncError, match="not a writable folder"):
        LocalFolder(blocker / "sub").check()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(FileSyncError, match="not a writable folder"):
            LocalFolder(locked).check()
    finally:
        locked.chmod(0o700)
