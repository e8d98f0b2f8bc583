"""`%agent vault add` in a real ipykernel: the token is asked with a password `input_request`
(the frontend masks it) and appears nowhere afterwards: not in any output, the saved notebook,
the input history, a cassette of a run that uses the vault, an export, or a DEBUG-level log of
everything (the SDK logs request bodies there)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest
from kernel_kit import kernel, run_cell


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


@pytest.mark.timeout(180)
def test_the_token_is_asked_masked_and_kept_nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "tok_" + uuid.uuid4().hex
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("NB_AGENTS_OUTPUTS_DIR", str(tmp_path / "outputs"))
    requests: list[dict[str, Any]] = []
    nb = nbformat.v4.new_notebook()
    with kernel(monkeypatch) as kc:
        for source, stdin in _cells(tmp_path):
            cell = nbformat.v4.new_code_cell(source)
            cell.outputs = run_cell(kc, source, answers=[secret] if stdin else None, requests=requests)
            nb.cells.append(cell)
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
