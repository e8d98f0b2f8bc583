"""Outputs with hostile names, indexing lag and concurrent downloads, on the emulator."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import nb_agents.files.sync as files_mod
from nb_agents.files import FileSync, written_output_paths

from .conftest import run_turn


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.name != ".nb_agents.json"}


HOSTILE_STEPS = [
    {"write_output": "nested/deeper/child.txt", "content": "nested\n"},
    {"write_output": "../../../escape.txt", "content": "outside outputs\n"},
    {"write_output": "a/../../b.txt", "content": "dotdot\n"},
    {"write_output": "Report.txt", "content": "upper\n"},
    {"write_output": "report.txt", "content": "lower\n"},
    {"write_output": ".hidden", "content": "dotfile\n"},
    {"write_output": "<img src=x onerror=alert(1)>.html", "content": "<script>alert(1)</script>\n"},
    {"write_output": "spaces and \u00fcn\u00efcode.md", "content": "unicode\n"},
    {"say": "Wrote awkward names."},
]


def scenario_file(tmp_path: Path, steps: list[dict[str, Any]]) -> Path:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"name": "hostile", "steps": steps}))
    return path


def test_hostile_output_names_stay_inside_the_outputs_folder(client: Any, new_session: Any, sync: FileSync,
                                                             tmp_path: Path) -> None:
    sid = new_session()
    events = run_turn(client, sid, f"[[emulator: scenario {scenario_file(tmp_path, HOSTILE_STEPS)}]] go")
    outputs = sync.pull(sid, written_paths=written_output_paths(events))
    root = sync.outputs_root
    assert outputs.errors == []
    on_disk = files_under(root)
    assert on_disk["nested/deeper/child.txt"] == b"nested\n"  # the agent's relative path is kept
    # Colliding names (case-insensitive filesystems) both survive, one with a suffix.
    assert sorted([on_disk["Report.txt"], on_disk["report~2.txt"]]) == [b"lower\n", b"upper\n"]
    assert "_hidden" in on_disk and not any(name.startswith(".") for name in on_disk)
    assert all(a.path.resolve().is_relative_to(root.resolve()) for a in outputs.values())
    assert sorted(outputs) == sorted(on_disk)
    assert {p for p in tmp_path.rglob("*") if p.is_file() and root not in p.parents and p.suffix != ".json"} == set()


@pytest.mark.parametrize("scenario", ["builtin", "newline"])
def test_names_with_newlines_and_non_latin1_characters_are_served(client: Any, new_session: Any, sync: FileSync,
                                                                  tmp_path: Path, scenario: str) -> None:
    """The download's content-disposition must survive such names (RFC 5987 `filename*`)."""
    sid = new_session()
    steps = [{"write_output": "line\nbreak.txt", "content": "newline\n"}, {"say": "done"}]
    name = "hostile_outputs" if scenario == "builtin" else scenario_file(tmp_path, steps)
    events = run_turn(client, sid, f"[[emulator: scenario {name}]] go")
    outputs = sync.pull(sid, written_paths=written_output_paths(events))
    assert outputs.errors == []
    root = sync.outputs_root
    on_disk = files_under(root)
    expected = "nested/deeper/child.txt" if scenario == "builtin" else "linebreak.txt"
    assert expected in on_disk and sorted(outputs) == sorted(on_disk)
    assert {p for p in tmp_path.rglob("*") if p.is_file() and root not in p.parents and p.suffix != ".json"} == set()


def test_hostile_server_names_and_collisions(emu: Any, new_session: Any, sync: FileSync, tmp_path: Path) -> None:
    sid = new_session()
    names = ["../../x", "/etc/passwd", "a/../../b", "tab\tname.txt", "Report.txt", "report.txt", "CON", ""]
    for i, name in enumerate(names):
        meta = emu.store.add_file("placeholder", f"content {i}".encode(), "text/plain", scope_session_id=sid)
        # Write the raw name into the store, as a server that does not flatten names would send it.
        emu.store._files[meta["id"]].meta["filename"] = name
    root = sync.outputs_root
    root.mkdir(parents=True)
    (root / "x").write_text("the user's own file")
    outputs = sync.pull(sid)
    on_disk = files_under(root)
    assert on_disk.pop("x") == b"the user's own file"  # never overwritten
    assert sorted(on_disk.values()) == sorted(f"content {i}".encode() for i in range(len(names)))
    assert sorted(outputs) == sorted(on_disk)
    assert {"x~2", "etc/passwd", "a/b", "tabname.txt", "Report.txt", "report~2.txt", "_CON"} <= set(on_disk)
    assert {p for p in tmp_path.rglob("*") if p.is_file() and root not in p.parents} == set()
    assert not Path("/etc/passwd~2").exists()


def test_indexing_lag_is_waited_for(client: Any, new_session: Any, sync: FileSync, monkeypatch: Any,
                                    tmp_path: Path) -> None:
    sid = new_session()
    events = run_turn(client, sid, f"[[emulator: scenario {scenario_file(tmp_path, HOSTILE_STEPS)}]] go")
    real = files_mod.list_session_files
    calls: list[float] = []

    def lagging(c: Any, session_id: str) -> list[Any]:
        calls.append(time.monotonic())
        return [] if len(calls) < 3 else real(c, session_id)  # not indexed yet, twice

    monkeypatch.setattr(files_mod, "list_session_files", lagging)
    outputs = sync.pull(sid, written_paths=written_output_paths(events))
    assert len(calls) == 3 and "nested/deeper/child.txt" in outputs


def test_downloads_run_concurrently(emu: Any, new_session: Any, tmp_path: Path, client: Any) -> None:
    sid = new_session()
    for i in range(8):
        emu.store.add_file(f"part{i}.txt", b"x" * 1000, "text/plain", scope_session_id=sid)
    sync = FileSync(client, outputs_dir=tmp_path, session_name="conc", max_workers=4, settle=0)
    emu.faults.update(latency=0.3, routes=("GET /v1/files/*/content",))
    try:
        start = time.monotonic()
        outputs = sync.pull(sid)
        elapsed = time.monotonic() - start
    finally:
        emu.faults.update(latency=0.0, routes=("*",))
    assert len(outputs) == 8
    assert elapsed < 8 * 0.3 * 0.6, elapsed  # sequential would take 2.4 s; four at a time about 0.6 s
