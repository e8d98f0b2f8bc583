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

__all__ = ["export_command"]


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


def cmd_export(m: Any, argv: list[str]) -> Path:
    """%agent export PATH [--session NAME]

    write a session's conversation as .ipynb, .md or .html"""
    return export_command(argv)


def export_command(argv: list[str]) -> Path:
    """`%agent export PATH [--session NAME]`: the named session's whole conversation."""
    rest, name = _split(argv)
    if not name:
        raise ExportError("usage: %agent export PATH [--session NAME]")
    if len(rest) != 1:
        raise ExportError("usage: %agent export PATH [--session NAME]  (PATH ends in .ipynb, .md or .html)")
    session = registry().get(name)
    runs = list(session.runs) if session is not None else []
    if any(getattr(r, "replayed", False) for r in runs):
        # Turns replayed from the cache are not in the server session's history: the conversation
        # the notebook showed is the runs' events, in order.
        events, session_id = [e for r in runs for e in r.events], runs[-1].session_id
    elif session is None or not session.events:
        raise ExportError(f"Nothing to export: session {name!r} has no conversation yet")
    else:
        events, session_id = session.events, session.session_id
    target = export(events, rest[0], title=f"Agent session {session_id} ({name})")
    print(f"exported session {name!r} to {target}")
    return target


def cmd_cache(m: Any, argv: list[str]) -> int:
    """%agent cache [clear]

    the Run-All cache: how many runs, or empty it"""
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
