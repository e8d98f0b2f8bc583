"""What a `%%agent` cell does once its flags are parsed: a turn of a named session, a replay,
or a fan-out (`--map`); the result goes to `_agent` (and `--out NAME`)."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import ConfigError, did_you_mean
from ..sessions import get_session, replay_cell
from .flags import flag_overrides, parse_cell_flags, tool_flags

__all__ = ["collect_finished", "map_cell", "run_cell", "store_result"]


def run_cell(magics: Any, line: str, cell: str) -> Any:
    shell = magics.shell
    assert shell is not None

    args = parse_cell_flags(line)
    if args.schedule is not None or args.tz is not None or args.name is not None:
        from .schedule_commands import schedule_cell  # a plain cell does not load the scheduler

        return schedule_cell(magics, args, cell)
    if args.replay:
        return store_result(magics, args, replay_cell(args))
    if args.speed is not None or args.instant:
        raise ConfigError("%%agent: --speed and --instant go with --replay PATH")
    if not cell.strip():
        raise ConfigError("%%agent: the cell is empty: write the prompt below the %%agent line")
    if args.map:
        return map_cell(magics, args, cell)
    sess = get_session(args.session)
    if sess.active is not None and sess.active.done:
        collect_finished(sess)
    result = sess.ask(
        cell,
        namespace=shell.user_ns,
        interpolate=not args.no_interpolate,
        dry_run=args.dry_run,
        new=args.new,
        files=args.files,
        **tool_flags(args),
        live=True,
        background=args.bg and not args.dry_run,
        record=args.record,
        refresh=args.refresh,
        **flag_overrides(args),
    )
    if args.dry_run:
        # The plan goes to `--out` only: `_agent` keeps the last real run.
        if args.out:
            shell.user_ns[args.out] = result
        return result
    store_result(magics, args, result)
    # The live view already left a static copy (text/plain + text/html) below the widget;
    # a background run leaves it when it is waited for (`%agent wait`, `run.wait()`).
    return None


def collect_finished(sess: Any) -> Any:
    """Collect a finished background run before the next cell (its static copy shows). A run that
    failed is reported here, once, in one line, and this cell goes on: the session is free."""
    try:
        return sess.collect()
    except Exception as exc:  # noqa: BLE001 - the old run's failure is news, not this cell's error
        print(f"the background run of session {sess.name!r} failed: {exc}", file=sys.stderr)
        return None


def store_result(magics: Any, args: Any, result: Any) -> None:
    """A cell's Run goes to `_agent` (and `--out NAME`); its view already showed it."""
    assert magics.shell is not None
    magics.shell.user_ns["_agent"] = result
    if args.out:
        magics.shell.user_ns[args.out] = result


def map_cell(magics: Any, args: Any, cell: str) -> Any:
    """`%%agent --map VAR [--concurrency N] [--bg] ...`: the cell is the template."""
    ns = magics.shell.user_ns
    if args.map not in ns:
        visible = [k for k in ns if not k.startswith("_")]
        raise ConfigError(f"%%agent --map: no variable named {args.map!r}{did_you_mean(args.map, visible)}")
    if args.dry_run:
        raise ConfigError("%%agent --map does not support --dry-run yet: try the template on one item first")
    from ..fanout import map as fan_out  # (on first use: a plain cell does not load the fan-out)

    flags = tool_flags(args)
    max_usd = flags.pop("max_usd", None)
    result = fan_out(
        cell, ns[args.map], concurrency=args.concurrency or 8, max_usd=max_usd, files=args.files, namespace=ns,
        interpolate=not args.no_interpolate, live=True, background=args.bg,
        **flags, **flag_overrides(args),
    )
    store_result(magics, args, result)
    return None if args.out or args.bg else result
