"""Shared fixtures: the in-process emulator and a client for it.

`emulator` is one server for the whole test session (default brain: the analyst; pick another
per agent with metadata `{"emulator_brain": "echo"}` or per message with `[[emulator: echo]]`).
`client` is an `anthropic.Anthropic` on it with `max_retries=0`, so errors surface at once;
it resets the emulator's faults afterwards. `make_emulator(**config)` starts a private one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nb_agents.emulator import Emulator


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Any]:
    c = emulator.client(max_retries=0)
    try:
        yield c
    finally:
        emulator.faults.reset()
        c.close()


@pytest.fixture
def exit_stack() -> Iterator[contextlib.ExitStack]:
    """Context managers a test enters along the way (e.g. `using_emulator`), left at its end."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Start private emulators (`make_emulator(brain="echo", turn_delay=0.2)`); closed after the test."""
    started: list[Emulator] = []

    def make(*args: Any, **config: Any) -> Emulator:
        emu = Emulator(*args, **config).start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.close()


@pytest.fixture(autouse=True)
def _restore_agent_magic_config():
    """`%config AgentMagic.x = ...` in one test must not leak into the next through the shared shell."""
    import copy

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance() if InteractiveShell.initialized() else None
    saved = copy.deepcopy(shell.config.get("AgentMagic")) if shell is not None else None
    yield
    shell = InteractiveShell.instance() if InteractiveShell.initialized() else None
    if shell is None:
        return
    if saved is None:
        shell.config.pop("AgentMagic", None)
    else:
        shell.config["AgentMagic"] = saved
