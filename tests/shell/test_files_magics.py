"""File sync through the magics (real InteractiveShell, emulator): --files/--format/--sample/--no-pull,
`%agent outputs` / `pull` / `upload`, failed downloads as notices, images in the view, the settle wait."""

from __future__ import annotations

import time

import pandas as pd
import pytest

import nb_agents
from nb_agents.config import resolve_options
from nb_agents.errors import FileSyncError, SessionError
from nb_agents.events import event_from_json
from nb_agents.sessions.files import settle_for
from nb_agents.transcript import Notice
from nb_agents.view import render_html

ECHO = "[[emulator: echo]]\n"
PNG = "\x89PNG fake image bytes"


@pytest.fixture()
def out_dir(tmp_path, monkeypatch):
    folder = tmp_path / "outs"
    monkeypatch.setenv("NB_AGENTS_OUTPUTS_DIR", str(folder))
    return folder


def line(ip, text):
    return ip.run_line_magic("agent", text)


def notices(run):
    return [i.text for i in run.transcript.items if isinstance(i, Notice)]


def sales():
    return pd.DataFrame({"region": ["n", "s", "e", "w"], "units": [1, 2, 3, 4]})


def test_files_format_and_sample_reach_the_prompt(ip, out_dir, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("read me")
    ip.user_ns["sales"] = sales()
    ip.run_cell_magic("agent", f"--format csv --sample 2 --files {notes} -o r", ECHO + "Look at {{sales}}")
    prompt = ip.user_ns["r"].prompt
    assert "`sales` (a pandas DataFrame mounted at `/mnt/session/uploads/sales.csv`)" in prompt
    assert "First 2 rows:" in prompt and "pd.read_csv(" in prompt  # the CSV card, 2 sample rows
    assert "notes.txt" in prompt
    client = nb_agents.session().client
    mounts = [r.mount_path for r in client.beta.sessions.retrieve(ip.user_ns["r"].session_id).resources]
    assert any(p.endswith("sales.csv") for p in mounts) and any(p.endswith("notes.txt") for p in mounts)
    ip.run_cell_magic("agent", "--sample 0 -o r2", ECHO + "Again {{sales}}")  # parquet now: a new mount
    assert "sales.parquet" in ip.user_ns["r2"].prompt and "rows:" not in ip.user_ns["r2"].prompt


def test_dry_run_plans_in_the_chosen_format(ip, out_dir):
    ip.user_ns["sales"] = sales()
    dry = ip.run_cell_magic("agent", "--dry-run --format csv", "{{sales}}")
    assert dry.uploads == ("sales (pandas DataFrame, will upload)",)


def test_no_pull_then_pull_and_outputs(ip, out_dir, scenario):
    steps = [{"write_output": "report.md", "content": "# Report"}, {"say": "Written."}]
    ip.run_cell_magic("agent", "--no-pull -o r", scenario(steps) + "write it")
    assert ip.user_ns["r"].outputs == {} and not (out_dir / "default" / "report.md").exists()
    assert "no outputs pulled yet" in repr(line(ip, "outputs"))
    pulled = line(ip, "pull")
    assert list(pulled) == ["report.md"] and pulled.rows[0][1] == "new"
    assert (out_dir / "default" / "report.md").read_text() == "# Report"
    listing = line(ip, "outputs")
    art = listing["report.md"]
    text = repr(listing)
    assert "report.md" in text and "text/markdown" in text and art.sha256[:12] in text and "8 B" in text
    bundle = listing._repr_mimebundle_()
    assert (
        bundle["text/plain"] == text
        and "<table>" in bundle["text/html"]
        and "report.md" in bundle["text/html"]
    )
    again = line(ip, "pull")
    assert again.rows[0][1] == "unchanged" and "0 new or changed" in repr(again)


def test_python_api_fmt_and_pull(ip, out_dir, scenario):
    steps = [{"write_output": "a.txt", "content": "A"}, {"say": "ok"}]
    s = nb_agents.session("py")
    run = s.ask(scenario(steps) + "{{df}}", namespace={"df": sales()}, fmt="csv", pull=False, live=False)
    assert "df.csv" in run.prompt and run.outputs == {}
    run = s.ask(scenario(steps, "t2") + "again", live=False)
    assert list(run.outputs) == ["a.txt"]


def test_images_show_in_the_view_and_failed_downloads_are_notices(ip, emu, out_dir, scenario):
    steps = [
        {"write_output": "chart.png", "content": PNG},
        {"write_output": "data.csv", "content": "a\n1\n"},
        {"say": "Charted."},
    ]
    ip.run_cell_magic("agent", "-o r", scenario(steps) + "plot")
    run = ip.user_ns["r"]
    assert [i.name for i in run.transcript.images] == ["chart.png"]
    assert "data:image/png;base64," in render_html(run.transcript)
    emu.faults.fail_next(20, status=500, route="GET /v1/files/*/content")
    steps = [{"write_output": "late.txt", "content": "L"}, {"say": "Once more."}]
    ip.run_cell_magic("agent", "-o r2", scenario(steps, "s2") + "again")
    emu.faults.reset()
    [warning] = [n for n in notices(ip.user_ns["r2"]) if n.startswith("output not downloaded")]
    assert "late.txt" in warning and "%agent pull" in warning and "\n" not in warning
    assert "late.txt" in line(ip, "pull").data


def test_upload_mid_session(ip, out_dir, tmp_path):
    with pytest.raises(SessionError, match="no session named 'default'"):
        line(ip, "upload x")
    nb_agents.session("later")
    with pytest.raises(SessionError, match="'later' has not started yet"):
        line(ip, "upload x -s later")
    ip.run_cell_magic("agent", "-o r", ECHO + "hi")
    ip.user_ns["extra"] = sales()
    report = line(ip, "upload extra --format csv")
    [row] = report.rows
    assert row[:3] == ("extra", "pandas DataFrame", "uploaded") and row[4].endswith("extra.csv")
    assert row[4] in repr(report) and "next prompt" in repr(report)
    ip.run_cell_magic("agent", "-o r2", ECHO + "use it")
    assert f"### Input `extra` (pandas DataFrame) at `{row[4]}`" in ip.user_ns["r2"].prompt
    ip.run_cell_magic("agent", "-o r3", ECHO + "again")
    assert "### Input" not in ip.user_ns["r3"].prompt  # announced once
    client = nb_agents.session().client
    assert row[4] in [
        r.mount_path for r in client.beta.sessions.retrieve(ip.user_ns["r"].session_id).resources
    ]
    assert line(ip, "upload extra --format csv").rows[0][2] == "unchanged"
    path = tmp_path / "table.csv"
    path.write_text("x\n1\n")
    assert line(ip, f"upload {path}").rows[0][2] == "uploaded"
    with pytest.raises(FileSyncError, match="no variable or file named 'extar'.*did you mean 'extra'"):
        line(ip, "upload extar")


def _use(name, **inp):
    return event_from_json(
        {
            "type": "agent.tool_use",
            "id": f"sevt_{name}",
            "name": name,
            "input": inp,
            "processed_at": "2026-01-01T00:00:00Z",
        }
    )


def test_settle_only_when_bash_may_have_written_outputs():
    opts = resolve_options({"pull_settle": 2.5})
    assert settle_for([_use("read", file_path="/mnt/session/uploads/a.csv")], opts) == 0.0
    assert settle_for([_use("bash", command="ls /tmp")], opts) == 0.0
    assert settle_for([_use("bash", command="cp a /mnt/session/outputs/")], opts) == 2.5
    script = _use("write", file_path="/tmp/x.py", content="open('/mnt/session/outputs/b','w')")
    assert settle_for([script, _use("bash", command="python /tmp/x.py")], opts) == 2.5


def test_a_bash_turn_without_outputs_does_not_wait(ip, out_dir, scenario, monkeypatch):
    monkeypatch.setenv("NB_AGENTS_PULL_SETTLE", "5")
    steps = [{"tool": "bash", "input": {"command": "echo hi"}}, {"say": "ok"}]
    started = time.monotonic()
    ip.run_cell_magic("agent", "-o r", scenario(steps) + "go")
    assert time.monotonic() - started < 4 and ip.user_ns["r"].outputs == {}
    steps = [
        {"tool": "bash", "input": {"command": "echo made > /mnt/session/outputs/made.txt"}},
        {"say": "ok"},
    ]
    ip.run_cell_magic("agent", "-o r", scenario(steps, "s2") + "go")
    assert list(ip.user_ns["r"].outputs) == ["made.txt"]
    monkeypatch.setenv("NB_AGENTS_PULL_SETTLE", "0.6")  # may have written: waits the option's time
    steps = [{"tool": "bash", "input": {"command": "ls /mnt/session/outputs"}}, {"say": "ok"}]
    started = time.monotonic()
    ip.run_cell_magic("agent", "-o r", scenario(steps, "s3") + "go")
    assert time.monotonic() - started >= 0.6 and ip.user_ns["r"].outputs == {}


def test_an_earlier_turns_artifact_keeps_its_version_after_a_rewrite(ip, out_dir, scenario):
    import hashlib

    ip.run_cell_magic("agent", "-o run1", scenario([{"write_output": "x.csv", "content": "v\n1\n"},
                                                   {"say": "one"}], "r1") + "write x")
    ip.run_cell_magic("agent", "-o run2", scenario([{"write_output": "x.csv", "content": "v\n2\n22\n"},
                                                   {"say": "two"}], "r2") + "rewrite x")
    first, second = ip.user_ns["run1"].outputs["x.csv"], ip.user_ns["run2"].outputs["x.csv"]
    assert first.load()["v"].tolist() == [1] and second.load()["v"].tolist() == [2, 22]
    for art in (first, second):  # .path, .size and .sha256 describe the same bytes
        data = art.path.read_bytes()
        assert len(data) == art.size and hashlib.sha256(data).hexdigest() == art.sha256
    assert second.path == out_dir / "default" / "x.csv"  # the newest copy keeps the plain name
    assert (out_dir / "default" / "x.csv").read_text() == "v\n2\n22\n"
    assert first.path != second.path and first.path.parent.name == ".nb_agents_versions"
    # the next turn works as before, and `%agent outputs` lists the name once (the newest)
    ip.run_cell_magic("agent", "-o run3", ECHO + "and then")
    assert ip.user_ns["run3"].text == "and then" and list(line(ip, "outputs")) == ["x.csv"]
    assert line(ip, "outputs")["x.csv"].sha256 == second.sha256


def test_an_output_edited_on_disk_is_refused_not_misread(ip, out_dir, scenario):
    ip.run_cell_magic("agent", "-o r", scenario([{"write_output": "y.csv", "content": "v\n1\n"},
                                                {"say": "one"}]) + "write y")
    art = ip.user_ns["r"].outputs["y.csv"]
    art.path.write_text("v\n1\n2\n3\n")  # someone else rewrote it
    with pytest.raises(FileSyncError) as info:
        art.load()
    assert str(info.value) == ("y.csv changed on disk since it was pulled (4 B then, 8 B now); "
                               "`%agent pull` fetches the agent's copy again")
