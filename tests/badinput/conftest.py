"""The bad-input suite's shell: a real InteractiveShell with the extension loaded, on the offline
emulator, with a sentinel in the user's namespace that every test must leave intact."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

SENTINEL = {"keep_me": [1, 2, 3], "answer": 42}


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    from nb_agents import client

    emulator = client.go_offline()
    yield emulator
    client.go_online()


@pytest.fixture()
def ip(emu: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Any]:
    from IPython.testing.globalipapp import get_ipython, start_ipython

    from nb_agents.session import registry

    monkeypatch.setenv("NB_AGENTS_VIEW", "text")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.setenv("NB_AGENTS_INTERRUPT_WAIT", "10")
    monkeypatch.setenv("NB_AGENTS_OUTPUTS_DIR", str(tmp_path / "outputs"))  # never into the repo
    shell = start_ipython() or get_ipython()
    shell.run_line_magic("load_ext", "nb_agents")
    registry().clear()
    emu.faults.reset()
    shell.user_ns.update({k: v if not isinstance(v, list) else list(v) for k, v in SENTINEL.items()})
    yield shell
    # nothing the user already had is lost, whatever the test did
    assert {k: shell.user_ns.get(k) for k in SENTINEL} == SENTINEL
    registry().clear()
    emu.faults.reset()
    shell.run_line_magic("unload_ext", "nb_agents")


@pytest.fixture()
def scenario(tmp_path: Any) -> Callable[..., str]:
    """Write steps as a scenario file; returns the directive line that selects it."""

    def make(steps: list[dict[str, Any]], name: str = "s") -> str:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"name": name, "steps": steps}))
        return f"[[emulator: scenario {path}]]\n"

    return make


def one_line(ip: Any, code: str, capsys: Any) -> str:
    """Run a cell the way a notebook does and return what it printed; it must be one line, no traceback."""
    ip.run_cell(code)
    captured = capsys.readouterr()
    text = (captured.out + captured.err).strip()
    assert "Traceback" not in text, text
    return text
