"""README.md and docs/*.md as tests: one sybil file per document, one test per example.

`make test` runs `pytest tests`, which never walks the documents themselves, so this folder
collects them: `DocExamples` (anchored on this conftest) yields a sybil file for each document
(tests/helpers/doc_examples.py says which fences run and how). Test ids are the document's path
and the example's line: `pytest tests/docs -k "magics.md"`.

Each document gets one shell (`doc_shell`, module scope = one document): the global IPython test
shell with a cleared namespace, the extension loaded on the offline emulator, clean sessions,
no API key, text views, and a fresh temporary working directory (`doc_tmp`) holding `sales.csv`.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_shell import agent_shell, offline_emulator
from doc_examples import ROOT, doc_sybil, documents
from sybil.integration.pytest import SybilFile, SybilItem

SYBIL = doc_sybil()


class DocExamples(pytest.File):
    """The documents, each as a sybil file (test ids `README.md::...`, `docs/NAME.md::...`)."""

    def collect(self) -> Iterator[SybilFile]:
        for path in documents():
            yield SybilFile.from_parent(self, path=path, sybils=[SYBIL])


def pytest_collect_file(file_path: Path, parent: Any) -> DocExamples | None:
    if file_path == Path(__file__):
        return DocExamples.from_parent(parent, path=file_path)
    return None


class SkipAtTheExample:
    """A skipped example is reported at its document and line with the skip's reason (sybil
    raises unittest's SkipTest, which pytest would place in its own unittest plugin). A plugin,
    not a hook of this conftest: the items' paths (docs/...) are outside this folder."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Any:
        report = yield
        if report.skipped and isinstance(item, SybilItem) and isinstance(report.longrepr, tuple):
            example = item.example
            report.longrepr = (str(Path(example.path).relative_to(ROOT)), example.line, report.longrepr[2])
        return report


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("doc-skips"):
        config.pluginmanager.register(SkipAtTheExample(), "doc-skips")


def sample_sales() -> Any:
    """The small table the examples call `sales` (month, region, product, revenue, units)."""
    import pandas as pd

    rows = [(m, r, p, 100.0 + 7 * m + 13 * i + 5 * j, 10 + m + i + j)
            for m in range(1, 7) for i, r in enumerate(("north", "south", "west"))
            for j, p in enumerate(("tea", "coffee"))]
    return pd.DataFrame(rows, columns=["month", "region", "product", "revenue", "units"])


@pytest.fixture(scope="module")
def doc_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The document's working directory: examples that write files write here, never in the repo."""
    folder = tmp_path_factory.mktemp("doc")
    sample_sales().to_csv(folder / "sales.csv", index=False)
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def doc_shell(doc_tmp: Path) -> Iterator[Any]:
    from IPython.testing.globalipapp import get_ipython, start_ipython

    shell = start_ipython() or get_ipython()
    shell.reset(new_session=False)
    # what a document changes (`%config AgentMagic...`, `%env ...`) ends with it
    saved_config = copy.deepcopy(shell.config.get("AgentMagic"))
    saved_env = dict(os.environ)
    with pytest.MonkeyPatch.context() as mp:
        # as in a kernel, the user's namespace is `__main__` (pydantic resolves a custom tool's
        # string annotations such as `-> "pd.DataFrame"` there); the test shell leaves pytest's
        mp.setitem(sys.modules, "__main__", shell.user_module)
        emu_gen = offline_emulator()
        emu = next(emu_gen)
        try:
            with agent_shell(emu, mp, ANTHROPIC_BASE_URL=None) as shell:  # outputs: under doc_tmp
                yield shell
        finally:
            next(emu_gen, None)  # back online
            shell.reset(new_session=False)
            shell.config.pop("AgentMagic", None)
            if saved_config is not None:
                shell.config["AgentMagic"] = saved_config
            os.environ.clear()
            os.environ.update(saved_env)
