"""What every `%agent` subcommand needs to read its words: an optional session NAME, a named
session of this kernel (or a one-line error listing the others), a small argument parser."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from ..errors import SessionError, did_you_mean
from ..sessions import registry

__all__ = ["name_arg", "session_or_fail", "sub_parser"]


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
