"""Untrusted output names always become plain relative paths inside the outputs folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nb_agents.files.safe_names import (
    clean_component,
    clean_relpath,
    collision_key,
    contain,
    with_suffix_number,
)

HOSTILE = [
    "../../x",
    "/etc/passwd",
    "a/../../b",
    "..\\..\\win.ini",
    "C:\\Windows\\system32\\evil.dll",
    "line\nbreak.txt",
    "nul\x00byte.csv",
    "\u202egnp.exe",  # right-to-left override
    "\uff0e\uff0e\uff0fescape.txt",  # fullwidth "../"
    "..",
    ".",
    "",
    "   ",
    "////",
    "CON",
    "aux.txt",
    "a" * 400 + ".csv",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_relative_and_plain(name: str) -> None:
    rel = clean_relpath(name)
    assert rel and not rel.startswith("/")
    parts = rel.split("/")
    assert ".." not in parts and "." not in parts and "" not in parts
    assert not any(ch in rel for ch in "\\\n\x00\u202e:")
    assert all(len(p.encode()) <= 200 for p in parts)


def test_specific_cleanings() -> None:
    assert clean_relpath("../../x") == "x"
    assert clean_relpath("/etc/passwd") == "etc/passwd"
    assert clean_relpath("a/../../b") == "a/b"
    assert clean_relpath("nested/child.txt") == "nested/child.txt"
    assert clean_relpath("line\nbreak.txt") == "linebreak.txt"
    assert clean_relpath("\uff0e\uff0e\uff0fescape.txt") == "escape.txt"
    assert clean_relpath("CON") == "_CON"
    assert clean_relpath("aux.txt") == "_aux.txt"
    assert clean_relpath(".bashrc") == "_bashrc"
    assert clean_relpath("what?.csv") == "what_.csv"
    assert clean_relpath("", fallback="file_123") == "file_123"
    assert clean_relpath("..") == "unnamed"
    long = clean_relpath("a" * 400 + ".csv")
    assert long.endswith(".csv") and len(long) <= 200


def test_component_trailing_dots_and_spaces() -> None:
    assert clean_component("report. ") == "report"
    assert clean_component("...") == ""


def test_suffix_and_collision_key() -> None:
    assert with_suffix_number("dir/chart.png", 2) == "dir/chart~2.png"
    assert with_suffix_number("data.tar.gz", 3) == "data~3.tar.gz"
    assert with_suffix_number("README", 2) == "README~2"
    assert collision_key("Chart.PNG") == collision_key("chart.png")


def test_contain_refuses_symlink_escape(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, root / "link")
    assert contain(root, "a/b.txt") == (root / "a/b.txt").resolve()
    with pytest.raises(ValueError):
        contain(root, "link/x.txt")
    with pytest.raises(ValueError):
        contain(root, "../x")
