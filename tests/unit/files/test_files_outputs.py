"""Choosing local paths for server files (no server): collisions, re-pulls, unrelated files, hints."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

from nb_agents.files.outputs import OutputFolder, hinted_relpaths, wait_for_listing


def meta(file_id: str, filename: str) -> SimpleNamespace:
    return SimpleNamespace(id=file_id, filename=filename, created_at="2026-01-01T00:00:00Z")


def test_collisions_after_cleaning_get_suffixes(tmp_path: Path) -> None:
    folder = OutputFolder(None, tmp_path)
    files = [meta("f1", "../../x.txt"), meta("f2", "/x.txt"), meta("f3", "X.txt"), meta("f4", "a/../../b"),
             meta("f5", "x\n.txt")]
    assert folder.allocate(files, {}) == {"f1": "x.txt", "f2": "x~2.txt", "f3": "X~3.txt", "f4": "a/b",
                                          "f5": "x~4.txt"}


def test_same_id_keeps_its_path_and_newer_version_takes_over(tmp_path: Path) -> None:
    folder = OutputFolder(None, tmp_path)
    (tmp_path / "chart.png").write_bytes(b"old")
    folder.manifest["chart.png"] = {"file_id": "f1", "size": 3}
    # Re-listed with the same id: its own path again.
    assert folder.allocate([meta("f1", "chart.png")], {}) == {"f1": "chart.png"}
    # The agent rewrote chart.png (new id, old one gone): the newer copy replaces ours.
    assert folder.allocate([meta("f2", "chart.png")], {}) == {"f2": "chart.png"}
    # Both still listed: the live older one keeps the name, the newer one gets a suffix.
    assert folder.allocate([meta("f1", "chart.png"), meta("f2", "chart.png")], {}) == {
        "f1": "chart.png", "f2": "chart~2.png"}


def test_files_we_did_not_write_are_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("mine")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    os.symlink(outside, tmp_path / "sub")
    os.symlink(outside / "target.txt", tmp_path / "dangling.txt")
    folder = OutputFolder(None, tmp_path)
    chosen = folder.allocate([meta("f1", "notes.md"), meta("f2", "sub/a.txt"), meta("f3", "dangling.txt")], {})
    assert chosen == {"f1": "notes~2.md", "f2": "sub~2/a.txt", "f3": "dangling~2.txt"}


def test_manifest_survives_a_new_folder_object(tmp_path: Path) -> None:
    folder = OutputFolder(None, tmp_path)
    folder.manifest["r.csv"] = {"file_id": "f1", "size": 1}
    folder._write_manifest()
    (tmp_path / "r.csv").write_text("x")
    again = OutputFolder(None, tmp_path)
    # An earlier kernel's output (same session folder) is ours to refresh, not an unrelated file.
    assert again.allocate([meta("f9", "r.csv")], {}) == {"f9": "r.csv"}


def test_hints_restore_nested_paths_only_when_unambiguous(tmp_path: Path) -> None:
    hints = hinted_relpaths([
        "/mnt/session/outputs/nested/child.txt",
        "/mnt/session/outputs/a/dup.csv",
        "/mnt/session/outputs/b/dup.csv",
        "/tmp/elsewhere.txt",
        "/mnt/session/outputs/../../etc/passwd",
    ])
    assert hints == {"child.txt": "nested/child.txt"}
    folder = OutputFolder(None, tmp_path)
    assert folder.allocate([meta("f1", "child.txt"), meta("f2", "dup.csv")], hints) == {
        "f1": "nested/child.txt", "f2": "dup.csv"}


def test_wait_for_listing_polls_until_ready_or_timeout() -> None:
    calls = []

    def listing() -> list[int]:
        calls.append(1)
        return [1] * len(calls)

    assert wait_for_listing(listing, lambda files: len(files) >= 3, timeout=5, poll=0.01) == [1, 1, 1]
    calls.clear()
    assert len(wait_for_listing(listing, lambda files: False, timeout=0.05, poll=0.01)) >= 2
