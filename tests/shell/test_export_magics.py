"""`%agent export PATH [--session NAME]` and `%agent cache [clear]` through a real IPython shell."""

from __future__ import annotations

import nbformat
import pytest

from nb_agents.record import ExportError

from .conftest import ECHO

STEPS = [
    {"tool": "bash", "input": {"command": "python3 -c 'print(6 * 7)'"}},
    {"say": "The answer is **42**."},
]


@pytest.fixture()
def conversation(ip, scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ip.run_cell_magic("agent", "--new --session talk", scenario(STEPS) + "What is 6 times 7?")
    ip.run_cell_magic("agent", "--session talk", ECHO + "thanks")
    return tmp_path


def test_export_to_a_notebook(ip, conversation, capsys):
    path = ip.run_line_magic("agent", "export talk.ipynb --session talk")
    assert path == conversation / "talk.ipynb" or path.resolve() == (conversation / "talk.ipynb").resolve()
    assert "exported session 'talk' to talk.ipynb" in capsys.readouterr().out
    nb = nbformat.read(conversation / "talk.ipynb", as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert any("What is 6 times 7?" in s for s in sources) and any(s.endswith("thanks") for s in sources)
    code = next(c for c in nb.cells if c.cell_type == "code")
    assert code.source == "print(6 * 7)" and code.outputs[0].text.strip() == "42"
    assert any("The answer is **42**." in s for s in sources)


def test_export_to_markdown_and_html(ip, conversation):
    ip.run_line_magic("agent", "export out/talk.md --session talk")
    md = (conversation / "out" / "talk.md").read_text()
    assert "What is 6 times 7?" in md and "print(6 * 7)" in md and "The answer is **42**." in md
    ip.run_line_magic("agent", "export talk.html --session talk")
    page = (conversation / "talk.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<strong>42</strong>" in page and "thanks" in page


def test_export_mistakes_are_one_line(ip, conversation):
    with pytest.raises(ExportError, match="no conversation yet"):
        ip.run_line_magic("agent", "export x.md")  # the default session never ran
    with pytest.raises(ExportError, match=r"\.ipynb, \.md or \.html"):
        ip.run_line_magic("agent", "export talk.txt --session talk")
    with pytest.raises(ExportError, match="usage"):
        ip.run_line_magic("agent", "export")
    (conversation / "afile").write_text("x")
    (conversation / "adir.md").mkdir()
    with pytest.raises(ExportError, match="afile is not a directory"):
        ip.run_line_magic("agent", "export afile/talk.md --session talk")
    with pytest.raises(ExportError, match="it is a directory"):
        ip.run_line_magic("agent", "export adir.md --session talk")
    assert not list(conversation.glob("afile*/*"))
    # the next command works as if the failed ones never ran
    ip.run_line_magic("agent", "export ok.md --session talk")
    assert "thanks" in (conversation / "ok.md").read_text()


def test_cache_subcommand_counts_and_clears(ip, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ip.run_cell_magic("agent", "--cache", ECHO + "keep me")
    assert ip.run_line_magic("agent", "cache") == 1
    assert f"1 cached run in {tmp_path / '.nb_agents_cache'}" in capsys.readouterr().out
    assert ip.run_line_magic("agent", "cache clear") == 1
    assert ip.run_line_magic("agent", "cache") == 0
    from nb_agents.errors import ConfigError

    with pytest.raises(ConfigError, match="usage"):
        ip.run_line_magic("agent", "cache purge")


def test_export_after_run_all_from_the_cache(ip, emu, tmp_path, monkeypatch):
    """Replayed turns are not in any server history: the export is the runs the notebook showed."""
    from nb_agents.sessions import get_session

    monkeypatch.chdir(tmp_path)
    ip.run_cell_magic("agent", "--cache --new -s c", ECHO + "first question")
    ip.run_cell_magic("agent", "--cache -s c", ECHO + "second question")
    get_session("c").new()  # Run All again: both cells replay
    sessions = emu.stats["sessions_created"]
    ip.run_cell_magic("agent", "--cache -s c", ECHO + "first question")
    ip.run_cell_magic("agent", "--cache -s c", ECHO + "second question")
    assert emu.stats["sessions_created"] == sessions and get_session("c").events == []
    ip.run_line_magic("agent", "export c.md -s c")
    md = (tmp_path / "c.md").read_text()
    # you + the echo once each: the live and replayed copies of a turn share their event ids
    assert md.count("first question") == 2 and md.count("second question") == 2
    assert md.index("first question") < md.index("second question")
