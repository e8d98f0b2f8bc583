"""Content-hash dedupe, replacement under the same mount path, create-time mounts, and clean failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import nb_agents.files.inputs as inputs_mod
import nb_agents.files.sync as files_mod
from nb_agents.errors import FileSyncError
from nb_agents.files import FileSync, written_output_paths

from .conftest import run_turn


def frame(n: int = 50) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "y": [f"v{i % 7}" for i in range(n)]})


def uploaded_originals(emu: Any) -> set[str]:
    return {f["id"] for f in emu.store.all_files() if not f.get("scope")}


def test_unchanged_frame_never_uploads_twice_changed_one_replaces(emu: Any, client: Any, new_session: Any,
                                                                  sync: FileSync, monkeypatch: Any) -> None:
    sid = new_session()
    df = frame()
    first = sync.prepare({"df": df}, session_id=sid)
    assert [(r.status, r.size) for r in first.report] == [("uploaded", first.report[0].size)]
    [res1] = client.beta.sessions.resources.list(sid)

    uploads = emu.stats["uploads"]
    # Unchanged (even as a copy): not serialized, not uploaded, not re-mounted.
    monkeypatch.setattr(inputs_mod, "serialize_frame", lambda *a: pytest.fail("serialized an unchanged frame"))
    again = sync.prepare({"df": df.copy()}, session_id=sid)
    monkeypatch.undo()
    assert emu.stats["uploads"] == uploads
    assert [(r.status, r.size, r.mount_path) for r in again.report] == [("unchanged", first.report[0].size,
                                                                         res1.mount_path)]
    assert again.cards == first.cards

    changed = df.copy()
    changed.loc[0, "x"] = 999
    third = sync.prepare({"df": changed}, session_id=sid)
    assert emu.stats["uploads"] == uploads + 1  # exactly one
    [res2] = client.beta.sessions.resources.list(sid)
    assert res2.id != res1.id and res2.mount_path == res1.mount_path
    assert third.report[0].status == "replaced"
    # The agent reads the new version at the same path.
    events = run_turn(client, sid, third.cards)
    profile = sync.pull(sid, written_paths=written_output_paths(events))["df_profile.csv"].load()
    assert profile.set_index("name").loc["x", "max"] == 999


def test_unchanged_file_is_only_stated_and_directory_layout_is_kept(emu: Any, client: Any, new_session: Any,
                                                                    sync: FileSync, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "2024").mkdir(parents=True)
    (data / "a.csv").write_text("k\n1\n")
    (data / "2024" / "b.csv").write_text("k\n2\n")
    sid = new_session()
    prep = sync.prepare([data], session_id=sid)
    mounts = sorted(r.mount_path for r in client.beta.sessions.resources.list(sid))
    assert mounts == ["/mnt/session/uploads/data/2024/b.csv", "/mnt/session/uploads/data/a.csv"]
    assert "### Directory `data` (2 files)" in prep.cards and all(m in prep.cards for m in mounts)
    uploads = emu.stats["uploads"]
    assert [r.status for r in sync.prepare([data], session_id=sid).report] == ["unchanged", "unchanged"]
    (data / "a.csv").write_text("k\n3\n")
    assert [r.status for r in sync.prepare([data], session_id=sid).report] == ["replaced", "unchanged"]
    assert emu.stats["uploads"] == uploads + 1


def test_new_session_mounts_at_create_then_dedupes(emu: Any, client: Any, agent_env: tuple[str, str],
                                                   sync: FileSync) -> None:
    df = frame()
    prep = sync.prepare({"df": df})
    assert not prep.bound and prep.resources[0]["mount_path"] == "/df.parquet"
    with pytest.raises(FileSyncError, match="not mounted yet"):
        _ = prep.cards
    agent, env = agent_env
    session = client.beta.sessions.create(agent=agent, environment_id=env, resources=prep.resources)
    sync.bind(prep, session)
    assert f"at `{session.resources[0].mount_path}`" in prep.cards
    uploads = emu.stats["uploads"]
    assert sync.prepare({"df": df}, session_id=session.id).report[0].status == "unchanged"
    assert emu.stats["uploads"] == uploads
    # The session's own copy of the input is never pulled back as an output.
    assert sync.pull(session.id) == {}


def test_plan_is_a_dry_run(emu: Any, new_session: Any, sync: FileSync) -> None:
    sid = new_session()
    uploads = emu.stats["uploads"]
    assert [r.status for r in sync.plan({"df": frame()}, session_id=sid)] == ["will upload"]
    assert emu.stats["uploads"] == uploads
    sync.prepare({"df": frame()}, session_id=sid)
    assert [r.status for r in sync.plan({"df": frame(), "new": frame(3)}, session_id=sid)] == ["unchanged", "will upload"]
    assert [r.status for r in sync.plan({"df": frame(9)}, session_id=sid)] == ["will replace"]


def test_checks_happen_before_any_upload(emu: Any, new_session: Any, sync: FileSync, tmp_path: Path,
                                         monkeypatch: Any) -> None:
    sid = new_session()
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 100_000)
    monkeypatch.setattr(files_mod, "MAX_FILE_BYTES", 50_000)
    uploads = emu.stats["uploads"]
    with pytest.raises(FileSyncError, match=r"big.bin is 100.0 kB; the Files API limit is 500 MB per file"):
        sync.prepare([("small", frame(2)), big], session_id=sid)
    with pytest.raises(FileSyncError, match="no such file"):
        sync.prepare([("small", frame(2)), tmp_path / "nope.csv"], session_id=sid)
    assert emu.stats["uploads"] == uploads


def test_failed_upload_leaves_nothing(emu: Any, client: Any, new_session: Any, sync: FileSync) -> None:
    sid = new_session()
    before = uploaded_originals(emu)
    emu.faults.fail_next(1, 500, "POST /v1/files")
    with pytest.raises(FileSyncError, match="upload failed, nothing was mounted: API error 500"):
        sync.prepare({"a": frame(1), "b": frame(2), "c": frame(3)}, session_id=sid)
    assert uploaded_originals(emu) == before
    assert list(client.beta.sessions.resources.list(sid)) == []
    # Nothing is remembered either: the next attempt uploads everything.
    assert [r.status for r in sync.prepare({"a": frame(1)}, session_id=sid).report] == ["uploaded"]


def test_failed_mount_rolls_back_and_keeps_the_old_version(emu: Any, client: Any, new_session: Any,
                                                           sync: FileSync) -> None:
    sid = new_session()
    sync.prepare({"df": frame(5)}, session_id=sid)
    [old] = client.beta.sessions.resources.list(sid)
    old_copy = emu.store.file_bytes(old.file_id)
    before = uploaded_originals(emu)
    emu.faults.fail_next(1, 500, "POST /v1/sessions/*/resources")
    with pytest.raises(FileSyncError, match="mounting failed"):
        sync.prepare({"df": frame(6), "other": frame(1)}, session_id=sid)
    assert uploaded_originals(emu) == before  # the batch's uploads are gone
    [now] = client.beta.sessions.resources.list(sid)
    assert now.mount_path == old.mount_path and emu.store.file_bytes(now.file_id) == old_copy
    assert sync.prepare({"df": frame(5)}, session_id=sid).report[0].status == "unchanged"
