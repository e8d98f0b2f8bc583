"""The bad-input suite's shell: a real InteractiveShell with the extension loaded, on the offline
emulator, with a sentinel in the user's namespace that every test must leave intact."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from agent_shell import agent_shell, offline_emulator, scenario_writer

SENTINEL = {"keep_me": [1, 2, 3], "answer": 42}


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    yield from offline_emulator()


@pytest.fixture()
def ip(emu: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Any]:
    env = {"ANTHROPIC_BASE_URL": None, "NB_AGENTS_OUTPUTS_DIR": str(tmp_path / "outputs")}  # never into the repo
    with agent_shell(emu, monkeypatch, **env) as shell:
        shell.user_ns.update({k: v if not isinstance(v, list) else list(v) for k, v in SENTINEL.items()})
        yield shell
        # nothing the user already had is lost, whatever the test did
        assert {k: shell.user_ns.get(k) for k in SENTINEL} == SENTINEL


@pytest.fixture()
def scenario(tmp_path: Any) -> Callable[..., str]:
    """Write steps as a scenario file; returns the directive line that selects it."""
    return scenario_writer(tmp_path)


def one_line(ip: Any, code: str, capsys: Any) -> str:
    """Run a cell the way a notebook does and return what it printed; it must be one line, no traceback."""
    ip.run_cell(code)
    captured = capsys.readouterr()
    text = (captured.out + captured.err).strip()
    assert "Traceback" not in text, text
    return text
