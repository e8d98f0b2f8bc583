"""The `%agent` subcommands of record/replay: `export` (a session's conversation as a file)
and `cache` (where the Run-All cache is, how many runs it holds; `clear` empties it).

Each is `func(magics, argv)`, listed in `COMMANDS`; the work is in record/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import resolve_options
from ..errors import ConfigError
from ..record import ExportError, RunCache, export
from ..sessions import registry
from .registry import Subcommand

__all__ = ["COMMANDS", "export_command"]


def _split(argv: list[str]) -> tuple[list[str], str]:
    """(the other words, the session name) of `export PATH [--session|-s NAME]`."""
    rest, name = [], "default"
    words = iter(argv)
    for word in words:
        if word in ("--session", "-s"):
            name = next(words, "")
        else:
            rest.append(word)
    return rest, name


def _export(m: Any, argv: list[str]) -> Path:
    rest, name = _split(argv)
    sess = registry().get(name)
    runs = list(sess.runs) if sess is not None else []
    if len(rest) != 1 or not name or not any(getattr(r, "replayed", False) for r in runs):
        return export_command([*rest, "--session", name] if name else argv)
    # Turns replayed from the cache are not in the server session's history: the conversation
    # the notebook showed is the runs' events, in order.
    target = export([e for r in runs for e in r.events], rest[0], title=f"Agent session {runs[-1].session_id} ({name})")
    print(f"exported session {name!r} to {target}")
    return target


def export_command(argv: list[str]) -> Path:
    """`%agent export PATH [--session NAME]`: the named session's whole conversation."""
    args = list(argv)
    name = "default"
    if "--session" in args:
        i = args.index("--session")
        if i + 1 >= len(args):
            raise ExportError("usage: %agent export PATH [--session NAME]")
        name = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        raise ExportError("usage: %agent export PATH [--session NAME]  (PATH ends in .ipynb, .md or .html)")
    session = registry().get(name)
    if session is None or not session.events:
        raise ExportError(f"Nothing to export: session {name!r} has no conversation yet")
    target = export(session.events, args[0], title=f"Agent session {session.session_id} ({name})")
    print(f"exported session {name!r} to {target}")
    return target


def _cache(m: Any, argv: list[str]) -> int:
    if argv not in ([], ["clear"]):
        raise ConfigError("usage: %agent cache [clear]")
    cache = RunCache(resolve_options().cache_dir or None)
    if argv == ["clear"]:
        n = cache.clear()
        print(f"removed {n} cached run{'s' if n != 1 else ''} from {cache.directory}")
        return n
    n = len(list(cache.directory.glob("*.jsonl"))) if cache.directory.is_dir() else 0
    print(f"{n} cached run{'s' if n != 1 else ''} in {cache.directory}")
    return n


COMMANDS = (
    Subcommand("export", _export, "%agent export PATH [--session NAME]", "write a session's conversation as .ipynb, .md or .html"),
    Subcommand("cache", _cache, "%agent cache [clear]", "the Run-All cache: how many runs, or empty it"),
)
