"""The convention itself: every fence says its kind, and a failing, skipped or passing example is
reported as such, with the document and line (the examples themselves are collected by conftest)."""

from __future__ import annotations

from pathlib import Path
from unittest import SkipTest

import pytest
from agent_shell import extension_loaded
from doc_examples import LANGUAGES, ROOT, doc_sybil, documents, unlabelled_fences
from sybil.example import SybilFailure


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_fence_names_its_kind(path: Path) -> None:
    bad = unlabelled_fences(path.read_text(encoding="utf-8"))
    assert not bad, (f"{path.relative_to(ROOT)}: fences at lines {[line for line, _ in bad]} open with "
                     f"{sorted({info for _, info in bad})}; use one of {LANGUAGES} (```text for output)")


def test_unlabelled_fences_found() -> None:
    text = "a\n```\nx\n```\n```python\ny\n```\n  ```console\nz\n  ```\n"
    assert unlabelled_fences(text) == [(2, ""), (8, "console")]


def _examples(tmp_path: Path, text: str) -> list:
    doc = tmp_path / "doc.md"
    doc.write_text(text, encoding="utf-8")
    document = doc_sybil().parse(doc)
    document.namespace["doc_tmp"] = tmp_path
    return list(document.examples())


def test_failures_name_document_and_line(tmp_path: Path) -> None:
    toml_bad, toml_key, shell = _examples(tmp_path, (
        "# t\n\n```toml\n[tool.nb_agents]\nmodel = \n```\n\n"
        "```toml\n[tool.nb_agents]\nmodle = \"x\"\n```\n\n"
        "```bash\nmake tset\npython -m nb_agents.emulator --prot 1\n```\n"))
    with pytest.raises(Exception, match="line 2"):  # tomllib: the line inside the block
        toml_bad.evaluate()
    with pytest.raises(SybilFailure, match=r"(?s)doc\.md, line 8.*unknown setting .*'modle'.*model"):
        toml_key.evaluate()
    with pytest.raises(SybilFailure, match=r"(?s)line 13.*no Makefile target 'tset'.*no option --prot"):
        shell.evaluate()


def test_skip_shows_its_reason(tmp_path: Path) -> None:
    skip, block, after = _examples(tmp_path, (
        '<!-- skip: next "needs ANTHROPIC_API_KEY" -->\n```toml\nnot toml\n```\n\n```json\n{"a": 1}\n```\n'))
    skip.evaluate()
    with pytest.raises(SkipTest, match="needs ANTHROPIC_API_KEY"):
        block.evaluate()
    after.evaluate()  # only the next block is skipped


def test_a_failing_cell_names_document_line_and_what_it_printed(tmp_path: Path) -> None:
    first, failing, after = _examples(tmp_path, (
        "# t\n\n```python\nanswer = 42\n```\n\nText.\n\n```ipython\n%agent bogus\n```\n"
        "```python\nassert answer == 42\n```\n"))
    with extension_loaded() as shell:
        for example in (first, failing, after):
            example.namespace["doc_shell"] = shell
        first.evaluate()
        with pytest.raises(SybilFailure, match=r"(?s)doc\.md, line 9.*unknown subcommand 'bogus'.*printed"):
            failing.evaluate()
        after.evaluate()  # the blocks share one shell: the next cell sees `answer`
        shell.user_ns.pop("answer", None)


def test_a_python_block_with_a_magic_must_say_ipython(tmp_path: Path) -> None:
    (example,) = _examples(tmp_path, "```python\n%load_ext nb_agents\n```\n")
    with pytest.raises(SybilFailure, match=r"plain Python \(magics go in ```ipython\)"):
        example.evaluate()
