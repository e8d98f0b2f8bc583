"""The table of `%agent` subcommands.

A subcommand is `func(magics, argv)` (argv: the words after its name). Its target is the function
itself or, for the built-ins (listed in `commands.py`), `"module:function"` under `nb_agents.ipython`,
imported on first use so that loading the extension stays light. `register_subcommand` is also how
a user adds one. A name is registered once: registering a taken name with another function is an
error unless it says `replace=True`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["SUBCOMMANDS", "Subcommand", "register_all", "register_subcommand"]


@dataclass(frozen=True)
class Subcommand:
    name: str
    target: Callable[[Any, list[str]], Any] | str
    usage: str
    help: str

    @property
    def func(self) -> Callable[[Any, list[str]], Any]:
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        func: Callable[[Any, list[str]], Any] = getattr(importlib.import_module(f"{__package__}.{module}"), attr)
        return func


SUBCOMMANDS: dict[str, Subcommand] = {}


def register_subcommand(
    name: str, func: Callable[..., Any] | str, usage: str, help: str, *, replace: bool = False
) -> None:
    """Add `%agent <name>`; `func(magics, argv)` gets the words after the name."""
    taken = SUBCOMMANDS.get(name)
    if taken is not None and taken.target != func and not replace:
        raise ValueError(f"%agent {name} is already a subcommand ({taken.usage}); pass replace=True to replace it")
    SUBCOMMANDS[name] = Subcommand(name, func, usage, help)


def register_all(commands: Iterable[Subcommand]) -> None:
    for cmd in commands:
        register_subcommand(cmd.name, cmd.target, cmd.usage, cmd.help)
