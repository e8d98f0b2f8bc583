"""The table of `%agent` subcommands and what every command needs to read its words.

A command is `func(magics, argv)`; the command modules list theirs (`COMMANDS`) and the
extension registers them when it loads. `register_subcommand` is also how a user adds one.
A name is registered once: a second registration of a taken name is an error unless it says
`replace=True`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from ..errors import SessionError, did_you_mean
from ..sessions import registry

__all__ = ["SUBCOMMANDS", "Subcommand", "name_arg", "register_all", "register_subcommand", "session_or_fail", "sub_parser"]


@dataclass(frozen=True)
class Subcommand:
    name: str
    func: Callable[[Any, list[str]], Any]
    usage: str
    help: str


SUBCOMMANDS: dict[str, Subcommand] = {}


def register_subcommand(name: str, func: Callable[..., Any], usage: str, help: str, *, replace: bool = False) -> None:
    """Add `%agent <name>`; `func(magics, argv)` gets the words after the name."""
    taken = SUBCOMMANDS.get(name)
    if taken is not None and taken.func is not func and not replace:
        raise ValueError(f"%agent {name} is already a subcommand ({taken.usage}); pass replace=True to replace it")
    SUBCOMMANDS[name] = Subcommand(name, func, usage, help)


def register_all(commands: Iterable[Subcommand]) -> None:
    for cmd in commands:
        register_subcommand(cmd.name, cmd.func, cmd.usage, cmd.help)


def name_arg(argv: list[str], usage: str) -> str:
    """The one optional NAME of `%agent <sub> [NAME]` (default: "default")."""
    if len(argv) > 1:
        raise UsageError(f"usage: {usage}")
    return argv[0] if argv else "default"


def session_or_fail(name: str) -> Any:
    """The named session of this kernel, or a one-line error listing the others."""
    sess = registry().get(name)
    if sess is None:
        known = ", ".join(sorted(registry())) or "none yet"
        raise SessionError(f"no session named {name!r}{did_you_mean(name, registry())} (sessions: {known})")
    return sess


def sub_parser(prog: str) -> MagicArgumentParser:
    return MagicArgumentParser(prog=f"%agent {prog}", add_help=False)
