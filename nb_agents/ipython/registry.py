"""The table of `%agent` subcommands.

A subcommand is `func(magics, argv)` (argv: the words after its name). Its target is the function
itself or, for the built-ins (listed in `commands.py`), `"module:function"` under `nb_agents.ipython`,
imported on first use so that loading the extension stays light. `register_subcommand` is also how
a user adds one. A name is registered once: registering a taken name with another function is an
error unless it says `replace=True`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["SUBCOMMANDS", "Subcommand", "register_all", "register_subcommand"]


@dataclass(frozen=True)
class Subcommand:
    """`%agent <name>`; `usage` and `help` default to the first line and the rest of the
    function's docstring."""

    name: str
    target: Callable[[Any, list[str]], Any] | str
    given_usage: str | None = None
    given_help: str | None = None

    @property
    def func(self) -> Callable[[Any, list[str]], Any]:
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        func: Callable[[Any, list[str]], Any] = getattr(importlib.import_module(f"{__package__}.{module}"), attr)
        return func

    @property
    def usage(self) -> str:
        return self.given_usage or self._doc()[0]

    @property
    def help(self) -> str:
        return self.given_help or self._doc()[1]

    def _doc(self) -> tuple[str, str]:
        first, _, rest = inspect.cleandoc(self.func.__doc__ or f"%agent {self.name}").partition("\n")
        return first.strip(), " ".join(rest.split())


SUBCOMMANDS: dict[str, Subcommand] = {}


def register_subcommand(
    name: str, func: Callable[..., Any] | str, usage: str | None = None, help: str | None = None, *,
    replace: bool = False,
) -> None:
    """Add `%agent <name>`; `func(magics, argv)` gets the words after the name. Without `usage`
    and `help`, the first line and the rest of `func`'s docstring say them."""
    taken = SUBCOMMANDS.get(name)
    if taken is not None and taken.target != func and not replace:
        raise ValueError(f"%agent {name} is already a subcommand ({taken.usage}); pass replace=True to replace it")
    SUBCOMMANDS[name] = Subcommand(name, func, usage, help)


def register_all(commands: Iterable[Subcommand]) -> None:
    for cmd in commands:
        register_subcommand(cmd.name, cmd.target, cmd.given_usage, cmd.given_help)
