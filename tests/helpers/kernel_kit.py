"""A real ipykernel for tests that need its stdin channel (password prompts, `input()` from a
worker thread): start one with this checkout on its path, run a cell answering its input
requests, collect the cell's outputs as nbformat outputs."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["kernel", "run_cell"]


@contextmanager
def kernel(monkeypatch: Any) -> Iterator[Any]:
    """A fresh `python3` kernel that imports nb_agents from this checkout; its client."""
    from jupyter_client.manager import start_new_kernel

    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_cell(kc: Any, source: str, *, answers: list[str] | None = None, requests: list[dict[str, Any]] | None = None,
             timeout: float = 60) -> list[Any]:
    """Execute `source`; each `input_request` is recorded in `requests` and answered with the next
    of `answers` (stdin is allowed only when answers are given); returns the cell's outputs.
    Fails when the cell has not finished within `timeout` seconds."""
    msg_id = kc.execute(source, allow_stdin=answers is not None)
    outputs: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers is not None:
            try:
                msg = kc.get_stdin_msg(timeout=0.05)
                if msg["msg_type"] == "input_request":
                    if requests is not None:
                        requests.append(msg["content"])
                    kc.input(answers.pop(0))
            except queue.Empty:
                pass
        try:
            msg = kc.get_iopub_msg(timeout=0.1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
        if kind in ("stream", "display_data", "execute_result", "error"):
            outputs.append(nbformat.v4.output_from_msg(msg))
    raise AssertionError(f"cell did not finish within {timeout} s: {source!r}")
