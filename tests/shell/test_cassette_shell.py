"""Record a real emulator session through %%agent, then replay it offline: same Run, same transcript."""

from __future__ import annotations

import re
import socket

from nb_agents.events import event_to_json
from nb_agents.record import export, load_cassette, replay
from nb_agents.view import render_text

STEPS = [
    {"tool": "bash", "input": {"command": "python3 -c 'print(sum(range(10)))'"}, "think": True},
    {"write_output": "summary.md", "content": "# Summary\nTotal is 45\n"},
    {"say": "The total is **45**. I saved `summary.md`."},
]


def test_record_an_emulator_turn_and_replay_it_offline(ip, scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-SHOULD-NEVER-BE-WRITTEN-0000")
    ip.run_line_magic("config", f"AgentMagic.record_dir = {str(tmp_path / 'rec')!r}")
    try:
        ip.run_cell_magic("agent", "--new --out run", scenario(STEPS) + "Add up 0..9")
    finally:
        ip.run_line_magic("config", "AgentMagic.record_dir = ''")
    original = ip.user_ns["run"]
    (path,) = (tmp_path / "rec").glob("*.jsonl")
    assert b"SHOULD-NEVER-BE-WRITTEN" not in path.read_bytes()
    cas = load_cassette(path)
    assert cas.header["session_id"] == original.session_id
    types = [r.event.type for r in cas.events]
    assert "event_delta" in types and types[-1] == "session.status_idle"

    def no_network(*a, **k):
        raise AssertionError("replay opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    r = replay(path, speed=None, view=False, outputs_dir=tmp_path / "restored", notice="NOTE")
    assert (r.text, r.usage, r.cost_usd, r.stop_reason, r.session_id) == (
        original.text, original.usage, original.cost_usd, original.stop_reason, original.session_id)
    assert r.text == "The total is **45**. I saved `summary.md`."
    assert [event_to_json(e) for e in r.events] == [event_to_json(e) for e in original.events]
    assert f"(outputs: summary.md (in {tmp_path / 'restored'}))" in render_text(r.transcript)
    where = re.compile(r"\(in [^)]*\)")  # the files now live somewhere else: the rest is identical
    shown = where.sub("(in …)", render_text(r.transcript).replace("(NOTE)\n", ""))
    assert shown == where.sub("(in …)", render_text(original.transcript))
    assert {n: a.sha256 for n, a in r.outputs.items()} == {n: a.sha256 for n, a in original.outputs.items()}
    assert r.outputs["summary.md"].load() == "# Summary\nTotal is 45\n"

    md = export(r, tmp_path / "conv.md").read_text()
    assert "```python\nprint(sum(range(10)))\n```" in md and "45" in md


def test_export_command_writes_the_named_session(ip, scenario, tmp_path, capsys):
    import nbformat
    import pytest

    from nb_agents.ipython.record_commands import export_command
    from nb_agents.record import ExportError

    ip.run_cell_magic("agent", "--new --session exp", scenario(STEPS) + "Add up 0..9")
    ip.run_cell_magic("agent", "--session exp", "[[emulator: echo]]\nthanks")
    path = export_command([str(tmp_path / "conv.ipynb"), "--session", "exp"])
    assert f"exported session 'exp' to {path}" in capsys.readouterr().out
    nb = nbformat.read(path, as_version=4)
    sources = [c.source for c in nb.cells]
    assert nb.cells[0].source.startswith("# Agent session sesn_") and "(exp)" in nb.cells[0].source
    assert "print(sum(range(10)))" in sources and any(s.endswith("thanks") for s in sources)
    code = next(c for c in nb.cells if c.source == "print(sum(range(10)))")
    assert code.outputs[0].text.strip() == "45"
    with pytest.raises(ExportError, match="no conversation yet"):
        export_command([str(tmp_path / "x.md"), "--session", "nobody"])
    with pytest.raises(ExportError, match="usage"):
        export_command([])
