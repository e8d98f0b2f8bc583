"""Fixtures for the real-browser tests: a JupyterLab server and a headless Chromium.

Playwright is imported lazily, so that `make test` (which deselects `-m e2e`) can collect
this folder without the `e2e` extra installed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .lab import LabServer
from .notebook_page import CHROMIUM, CHROMIUM_ARGS, NotebookPage, write_notebook

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "e2e"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    root = tmp_path_factory.mktemp("lab_root")
    state = tmp_path_factory.mktemp("lab_state")
    with LabServer(root, state) as server:
        yield server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "jupyterlab.log").write_text(server.log_path.read_text(errors="replace"))


def _unavailable(why: str) -> None:
    """`make e2e` sets NB_AGENTS_E2E_REQUIRED: there a missing browser is a failure, not a skip."""
    if os.environ.get("NB_AGENTS_E2E_REQUIRED"):
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing: run `make e2e`, which installs it with apt-get")
    try:
        import playwright.sync_api as sync_api
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[e2e]' (never `playwright install`)")
    sync_api.expect.set_options(timeout=30_000)
    with (
        sync_api.sync_playwright() as pw,
        tempfile.TemporaryDirectory(prefix="nb_agents_chromium_") as profile,
    ):
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 1000},
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def open_notebook(lab: LabServer, browser_context: Any) -> Iterator[Callable[[str, list[str]], NotebookPage]]:
    """`open_notebook("name.ipynb", [cell sources])` writes the notebook and opens it, kernel ready."""
    pages: list[Any] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def _open(name: str, sources: list[str]) -> NotebookPage:
        write_notebook(lab.root_dir / name, sources)
        page = browser_context.new_page()
        pages.append(page)
        nb = NotebookPage(page)
        nb.open(lab.url(name))
        return nb

    yield _open
    for i, page in enumerate(pages):
        # a picture of the page is the quickest way to see why a browser test failed;
        # best effort: a crashed page must not hide the test's own failure
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"last_page_{i}.png"), full_page=True, timeout=10_000)
        with contextlib.suppress(Exception):
            page.close()
