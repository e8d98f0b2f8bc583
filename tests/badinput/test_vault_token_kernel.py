"""`%agent vault add` in a real ipykernel: the token is asked with a password `input_request`
(the frontend masks it) and appears nowhere afterwards: not in any output, the saved notebook,
the input history, a cassette of a run that uses the vault, an export, or a DEBUG-level log of
everything (the SDK logs request bodies there)."""

from __future__ import annotations

import os
import queue
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cells(tmp: Path) -> list[tuple[str, bool]]:
    """(source, allow_stdin) of each cell, in order."""
    return [
        (f"import logging, os\nos.chdir({str(tmp)!r})\nos.environ['NB_AGENTS_VIEW'] = 'text'\n"
         f"logging.basicConfig(filename='all.log', level=logging.DEBUG, force=True)", False),
        ("%load_ext nb_agents\n%agent offline", False),
        ("%agent vault add gh --mcp https://docs.test/mcp", True),
        ("%%agent --mcp docs=https://docs.test/mcp --vault gh --record run.jsonl\n[[emulator: echo]]\nhi", False),
        ("%agent vaults", False),
        ("%agent export chat.ipynb", False),
        ("%history -n -o", False),
        ("import logging; logging.shutdown()", False),
    ]


def _run(kc: Any, source: str, allow_stdin: bool, answer: str, requests: list[dict[str, Any]]) -> list[Any]:
    """Execute one cell; answer an input request with `answer`; return its outputs (nbformat)."""
    msg_id = kc.execute(source, allow_stdin=allow_stdin)
    outputs: list[Any] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if allow_stdin:
            try:
                msg = kc.get_stdin_msg(timeout=0.05)
                if msg["msg_type"] == "input_request":
                    requests.append(msg["content"])
                    kc.input(answer)
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
    raise AssertionError(f"cell did not finish: {source!r}")


@pytest.mark.timeout(180)
def test_the_token_is_asked_masked_and_kept_nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_client.manager import start_new_kernel

    secret = "tok_" + uuid.uuid4().hex
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("NB_AGENTS_OUTPUTS_DIR", str(tmp_path / "outputs"))
    km, kc = start_new_kernel(kernel_name="python3")
    requests: list[dict[str, Any]] = []
    nb = nbformat.v4.new_notebook()
    try:
        for source, stdin in _cells(tmp_path):
            cell = nbformat.v4.new_code_cell(source)
            cell.outputs = _run(kc, source, stdin, secret, requests)
            nb.cells.append(cell)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    saved = tmp_path / "saved.ipynb"
    nbformat.write(nb, saved)

    assert [(r["prompt"], r["password"]) for r in requests] == [("Token for https://docs.test/mcp (hidden): ", True)]
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert errors == [], errors
    shown = saved.read_text()
    assert "static_bearer" in shown and "https://docs.test/mcp" in shown  # the listing is there…
    assert "%agent vault add gh --mcp https://docs.test/mcp" in shown  # …and the history
    assert "[REDACTED]" in (tmp_path / "all.log").read_text()  # the SDK did log the request body
    for name in ("saved.ipynb", "run.jsonl", "chat.ipynb", "all.log"):
        text = (tmp_path / name).read_text(errors="replace")
        assert secret not in text, name  # …the token is in none of them
