"""`%agent` subcommands about sessions and the backend: help, offline, status, sessions, new,
attach, interrupt, wait, config, archive. Each is `func(magics, argv)`, listed in `COMMANDS`.
"""

from __future__ import annotations

from typing import Any

from IPython.display import display

from ..api import backend, go_offline
from ..config import find_pyproject, resolve_options
from ..run import Run
from ..sessions import StillRunning, get_session, registry
from .args import name_arg, session_or_fail, sub_parser
from .flags import usage_text
from .registry import SUBCOMMANDS
from .report import Report

__all__ = ["all_costs"]


def cmd_help(m: Any, argv: list[str]) -> None:
    """%agent help

    this list and the %%agent options"""
    lines = ["%agent subcommands:"]
    for name in SUBCOMMANDS:
        sub = SUBCOMMANDS[name]
        lines.append(f"  {sub.usage:<38} {sub.help}")
    lines += ["", usage_text()]
    print("\n".join(lines))


def cmd_offline(m: Any, argv: list[str]) -> None:
    """%agent offline

    start the built-in emulator in this kernel and use it"""
    emu = go_offline()
    print(f"offline emulator running at {emu.base_url} (scripted, not Claude); %%agent cells now use it")


def _fmt_cost(cost: float | None) -> str:
    return "-" if cost is None else f"${cost:.4f}"


def _backend_line() -> str:
    try:
        where = backend()
    except Exception as exc:  # no backend yet is a normal state to report
        return f"backend: none ({exc})"
    label = "offline emulator" if where.offline else "Anthropic API"
    return f"backend: {label}" + (f" at {where.base_url}" if where.base_url else "")


def cmd_status(m: Any, argv: list[str]) -> Report:
    """%agent status [NAME]

    backend, session id, status, turns and cost"""
    name = name_arg(argv, "%agent status [NAME]")
    if not argv and name not in registry():
        return Report(f"{_backend_line()}\nno session yet: run a %%agent cell", {"name": name, "session_id": None})
    sess = session_or_fail(name)
    info = sess.info()
    text = (
        f"{_backend_line()}\nsession {info['name']!r}: {info['session_id'] or '(not started)'}, "
        f"status {info['status']}, turns {info['turns']}, cost {_fmt_cost(info['cost_usd'])}"
    )
    text += "".join(f"\n  {line}" for line in info.get("resources") or [])  # memory stores, repos, files
    return Report(text, info)


def cmd_sessions(m: Any, argv: list[str]) -> Report:
    """%agent sessions

    every session of this kernel"""
    rows = [s.info() for s in registry().values()]
    if not rows:
        return Report("no sessions yet: run a %%agent cell", rows)
    lines = [f"{'name':<16} {'session id':<32} {'status':<12} {'turns':>5} {'cost':>10}"]
    for r in rows:
        sid = r["session_id"] or "(not started)"
        lines.append(f"{r['name']:<16} {sid:<32} {r['status']:<12} {r['turns']:>5} {_fmt_cost(r['cost_usd']):>10}")
    return Report("\n".join(lines), rows)


def cmd_new(m: Any, argv: list[str]) -> None:
    """%agent new [NAME]

    the next cell starts a new conversation"""
    name = name_arg(argv, "%agent new [NAME]")
    get_session(name).new()
    print(f"session {name!r}: the next %%agent cell starts a new conversation")


def cmd_attach(m: Any, argv: list[str]) -> Any:
    """%agent attach SESSION_ID [--session NAME]

    rebuild a session's transcript and continue it"""
    parser = sub_parser("attach")
    parser.add_argument("session_id")
    parser.add_argument("--session", "-s", default=None)
    args = parser.parse_args(argv)
    name = args.session or "default"
    sess = get_session(name)
    status = sess.attach(args.session_id)
    t = sess.history
    print(f"attached {args.session_id} as session {name!r}: {len(sess.events)} events, status {status}; "
          f"%%agent -s {name} continues it")
    history = Run(transcript=t, events=list(sess.events), session_id=args.session_id, session_name=name,
                  prompt="", elapsed=0.0, stop_reason=t.stop_reason)
    display(history)
    m.shell.user_ns["_agent"] = history
    if status in ("running", "rescheduling"):
        m.shell.user_ns["_agent"] = sess.follow(live=True)  # show the rest of the running turn
    return None


def cmd_interrupt(m: Any, argv: list[str]) -> None:
    """%agent interrupt [NAME]

    stop a session's run (foreground elsewhere or --bg)"""
    name = name_arg(argv, "%agent interrupt [NAME]")
    sess = session_or_fail(name)
    background = sess.active is not None and not sess.active.done
    sess.interrupt()
    print(f"stopping the background run of session {name!r}" if background else f"sent user.interrupt to session {name!r}")


def cmd_wait(m: Any, argv: list[str]) -> None:
    """%agent wait [NAME] [--timeout S]

    wait for background runs (all, or NAME's) and show them"""
    parser = sub_parser("wait")
    parser.add_argument("name", nargs="?")
    parser.add_argument("--timeout", type=float, default=None)
    args = parser.parse_args(argv)
    sessions = [session_or_fail(args.name)] if args.name else list(registry().values())
    pending = [s for s in sessions if s.active is not None]
    if not pending:
        print(f"session {args.name!r} has no background run" if args.name else "no background runs")
        return
    for sess in pending:
        try:
            m.shell.user_ns["_agent"] = sess.active.wait(args.timeout)
        except StillRunning:
            print(f"session {sess.name!r} is still running after {args.timeout:g} s")


def all_costs() -> Report:
    """Every session's cost and the total (`%agent cost` without a name)."""
    total, lines, rows = 0.0, [], {}
    for sess in registry().values():
        info = sess.info()
        total += info["cost_usd"] or 0.0
        rows[info["name"]] = info["cost_usd"]
        lines.append(f"{info['name']:<16} {info['session_id'] or '(not started)':<32} {_fmt_cost(info['cost_usd']):>10}")
    lines.append(f"{'total':<49} {_fmt_cost(total):>10}")
    rows["total"] = total
    return Report("\n".join(lines), rows)


def cmd_config(m: Any, argv: list[str]) -> Report:
    """%agent config

    resolved options and where each comes from"""
    opts = resolve_options()
    lines = [f"options (precedence: flag > %config > NB_AGENTS_* env > pyproject > default); pyproject: {find_pyproject()}"]
    for name in sorted(opts.sources):
        lines.append(f"  {name:<18} {getattr(opts, name)!r:<40} [{opts.sources[name]}]")
    lines.append(_backend_line())
    return Report("\n".join(lines), {name: getattr(opts, name) for name in opts.sources})


def cmd_archive(m: Any, argv: list[str]) -> None:
    """%agent archive [NAME]

    archive the session on the server and forget it"""
    name = name_arg(argv, "%agent archive [NAME]")
    sess = session_or_fail(name)
    sid = sess.session_id
    sess.archive()
    print(f"archived session {name!r} ({sid})" if sid else f"forgot session {name!r} (it had not started)")
