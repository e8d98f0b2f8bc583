"""Driving a JupyterLab notebook in headless Chromium through Playwright.

Cells are run through JupyterLab's own command registry (`window.jupyterapp`, exposed by
`--LabApp.expose_app_in_browser`), which is what the keyboard shortcuts call; the kernel is
interrupted with the toolbar's stop button, as a user would. Every wait is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "NotebookPage", "write_notebook"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]  # fmt: skip

# The toolbar says "idle" before a kernel exists and cells sent then are dropped: ask the app.
_KERNEL_READY = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const ctx = w && w.sessionContext;
  const k = ctx && ctx.session && ctx.session.kernel;
  return !!(ctx && ctx.isReady && k && k.connectionStatus === 'connected' && k.status === 'idle');
}"""

# Not awaited: the command's promise resolves only when the cell has finished running.
_RUN_CELL = """(index) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  panel.content.activeCellIndex = index;
  app.commands.execute('notebook:run-cell');
}"""

_SNAPSHOT = """(index) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
  const prompt = cell.querySelector('.jp-InputPrompt');
  const out = cell.querySelector('.jp-OutputArea');
  return [prompt ? prompt.innerText : '', out ? out.innerText : ''];
}"""


def write_notebook(path: Path, sources: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.write(nb, path)
    return path


class NotebookPage:
    """One open notebook: run cells, read prompts and outputs, interrupt, screenshot."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def open(self, url: str, *, timeout: float = 90) -> None:
        self.page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
        self.page.wait_for_function(_KERNEL_READY, timeout=timeout * 1000, polling=250)

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run(self, index: int) -> None:
        self.page.evaluate(_RUN_CELL, index)

    def prompt(self, index: int) -> str:
        return str(self.cell(index).locator(".jp-InputPrompt").inner_text()).strip()

    def running(self, index: int) -> bool:
        return "[*]" in self.prompt(index)

    def snapshot(self, index: int) -> tuple[str, str]:
        """(input prompt, output text) of a cell, read in one go so that they agree."""
        prompt, text = self.page.evaluate(_SNAPSHOT, index)
        return str(prompt).strip(), str(text)

    def output_text(self, index: int) -> str:
        outputs = self.cell(index).locator(".jp-OutputArea")
        return str(outputs.inner_text()) if outputs.count() else ""

    def wait_done(self, index: int, *, timeout: float) -> str:
        """Wait until the cell has an execution count (`[n]:`) and return its output text."""
        wait_until(lambda: _finished(self.prompt(index)), timeout, f"cell {index} to finish")
        return self.output_text(index)

    def interrupt(self) -> str:
        """Click the toolbar's interrupt button; fall back to the Kernel > Interrupt command."""
        button = self.page.locator(
            ".jp-NotebookPanel-toolbar [data-command='notebook:interrupt-kernel'], "
            ".jp-NotebookPanel-toolbar [data-command='kernel:interrupt']"
        )
        if button.count():
            button.first.click(timeout=10_000)
            return "toolbar"
        self.page.evaluate("() => window.jupyterapp.commands.execute('kernel:interrupt')")
        return "command"

    def screenshot(self, path: Path, index: int | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if index is None:
            self.page.screenshot(path=str(path), full_page=True)
        else:
            self.cell(index).screenshot(path=str(path), timeout=30_000)
        return path


def _finished(prompt: str) -> bool:
    return prompt.startswith("[") and "[*]" not in prompt and prompt not in ("[ ]:", "[]:")


def wait_until(check: Callable[[], object], timeout: float, what: str, poll: float = 0.1) -> Any:
    """Poll `check()` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)
