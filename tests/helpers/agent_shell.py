"""Shared pieces of the shell-level suites (shell, scale, capabilities, badinput): the in-kernel
offline emulator, the global IPython test shell with the extension loaded, scenario files.

Each suite's conftest keeps its own fixtures (their set-up differs a little) and builds them
from these helpers, so the common steps live in one place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ECHO = "[[emulator: echo]]\n"


def offline_emulator() -> Iterator[Any]:
    """`%agent offline` for a module: the in-kernel emulator, back online afterwards."""
    from nb_agents.api import client

    emulator = client.go_offline()
    yield emulator
    client.go_online()


def offline_env(monkeypatch: pytest.MonkeyPatch, **env: str | None) -> None:
    """Text views and no API key, plus `env` (a None value removes the variable)."""
    for name, value in {"NB_AGENTS_VIEW": "text", "ANTHROPIC_API_KEY": None, **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@contextmanager
def clean_sessions(emu: Any) -> Iterator[None]:
    """An empty session registry and no emulator faults, before and after; afterwards no local-mode
    worker either (as after a kernel restart: the next test's sessions are not served by this one's)."""
    from nb_agents.local import HOST
    from nb_agents.sessions import registry

    registry().clear()
    emu.faults.reset()
    try:
        yield
    finally:
        registry().clear()
        emu.faults.reset()
        HOST.stop()
        HOST.specs.clear()


@contextmanager
def extension_loaded() -> Iterator[Any]:
    """The global IPython test shell with `%load_ext nb_agents`; unloaded afterwards, and the
    names a test left in the user namespace removed (a later test's `{{x}}` must not find them)."""
    from IPython.testing.globalipapp import get_ipython, start_ipython

    shell = start_ipython() or get_ipython()
    before = set(shell.user_ns)
    shell.run_line_magic("load_ext", "nb_agents")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "nb_agents")
        for name in set(shell.user_ns) - before:
            del shell.user_ns[name]


@contextmanager
def agent_shell(emu: Any, monkeypatch: pytest.MonkeyPatch, **env: str | None) -> Iterator[Any]:
    """The extension loaded on the offline emulator with clean sessions (interrupts wait 10 s)."""
    offline_env(monkeypatch, NB_AGENTS_INTERRUPT_WAIT="10", **env)
    with extension_loaded() as shell, clean_sessions(emu):
        yield shell


def scenario_writer(tmp_path: Path) -> Callable[..., str]:
    """Write steps as a scenario file; returns the directive line that selects it."""

    def make(steps: list[dict[str, Any]], name: str = "s") -> str:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"name": name, "steps": steps}))
        return f"[[emulator: scenario {path}]]\n"

    return make
