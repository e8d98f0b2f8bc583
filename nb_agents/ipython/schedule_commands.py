"""Scheduled runs from a notebook: the `%%agent --schedule CRON --name NAME [--tz ZONE]` cell
(`schedule_cell`) and the subcommands schedules, trigger, pause, resume, unschedule, runs.
The work is `sessions/schedules.py`'s; these read the words and print one line or a table.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..sessions import schedules as sched
from .flags import flag_overrides, tool_flags
from .report import Table

__all__ = ["schedule_cell"]

# Flags that make no sense for a cell that does not run now (each: why).
_NOT_WITH = {
    "replay": "--replay", "map": "--map", "bg": "--bg", "dry_run": "--dry-run", "record": "--record",
    "cache": "--cache", "refresh": "--refresh", "new": "--new", "timeout": "--timeout",
}
_NO_KERNEL = {"tools": "--tools", "ask": "--ask", "ask_all": "--ask-all", "auto": "--auto",
              "kernel_tools": "--kernel-tools"}


def schedule_cell(magics: Any, args: Any, cell: str) -> None:
    """`%%agent --schedule CRON --name NAME [--tz ZONE] [options]`: define, print one line."""
    if args.schedule is None:
        given = "--tz" if args.tz is not None else "--name"
        raise ConfigError(f"%%agent: {given} goes with --schedule CRON (a named session is --session NAME)")
    if args.name is None:
        raise ConfigError("%%agent --schedule needs --name NAME (the schedule's name; the same name updates it)")
    for dest, flag in _NOT_WITH.items():
        if getattr(args, dest, None) not in (None, False):
            raise ConfigError(f"%%agent --schedule does not go with {flag}: a schedule runs later, on the server")
    for dest, flag in _NO_KERNEL.items():
        if getattr(args, dest, None) is not None:
            raise ConfigError(f"%%agent --schedule does not go with {flag}: no kernel answers a scheduled run")
    overrides = flag_overrides(args)
    max_usd = tool_flags(args).get("max_usd")
    if max_usd is not None:
        overrides["max_usd"] = max_usd
    defined = sched.schedule(
        cell, name=args.name, cron=args.schedule, tz=args.tz, session=args.session,
        namespace=magics.shell.user_ns, interpolate_vars=not args.no_interpolate, files=args.files, **overrides,
    )
    if args.out:
        magics.shell.user_ns[args.out] = defined
    print(defined.line)


def _name(argv: list[str], usage: str) -> str:
    if len(argv) != 1:
        raise ConfigError(f"usage: {usage}")
    return argv[0]


def _paused(dep: Any) -> str:
    if dep.status != "paused":
        return "no"
    reason = dep.paused_reason
    if getattr(reason, "type", None) == "error":
        return f"yes (error: {reason.error.type})"
    return "yes"


def _fmt_cost(cost: float | None) -> str:
    return "-" if cost is None else f"${cost:.4f}"


def cmd_schedules(m: Any, argv: list[str]) -> Table:
    """%agent schedules

    scheduled cells: schedule, next fire, paused, last run"""
    if argv:
        raise ConfigError("usage: %agent schedules")
    client = sched.connect()
    rows, data = [], []
    for dep in sched.schedules(client):
        fires = sched.next_fires(dep, 1)
        last = sched.last_run(dep, client)
        status, cost = sched.run_cost(client, last.session_id) if last is not None else ("-", None)
        if last is not None and last.error:
            status = f"error: {last.error.split(':')[0]}"
        when = f"{dep.schedule.expression} ({dep.schedule.timezone})" if dep.schedule else "manual only"
        row = {"name": dep.name, "id": dep.id, "schedule": when, "next": fires[0] if fires else None,
               "paused": _paused(dep), "last_run": status, "cost_usd": cost}
        data.append(row)
        rows.append([dep.name, when, sched.fmt_when(row["next"]), row["paused"], status, _fmt_cost(cost)])
    header = ["name", "schedule", "next fire", "paused", "last run", "cost"]
    notes = () if rows else ("no schedules yet: %%agent --schedule \"CRON\" --name NAME",)
    return Table("schedules", header, rows, data, notes)


def cmd_trigger(m: Any, argv: list[str]) -> Any:
    """%agent trigger NAME

    run a schedule now (its run: nb_agents.runs(NAME)[-1])"""
    name = _name(argv, "%agent trigger NAME")
    run = sched.trigger(name)
    if run.session_id is None:
        print(f"triggered {run.schedule!r}: run {run.id} failed: {run.error}")
    else:
        print(f"triggered {run.schedule!r}: run {run.id}, session {run.session_id} "
              f"(nb_agents.runs({run.schedule!r})[-1].wait() gives its Run)")
    return None


def cmd_pause(m: Any, argv: list[str]) -> None:
    """%agent pause NAME

    stop a schedule firing (%agent trigger still runs it)"""
    dep = sched.pause(_name(argv, "%agent pause NAME"))
    print(f"paused {dep.name!r}: it does not fire until %agent resume {dep.name}")


def cmd_resume(m: Any, argv: list[str]) -> None:
    """%agent resume NAME

    let a paused schedule fire again"""
    dep = sched.resume(_name(argv, "%agent resume NAME"))
    fires = ", ".join(sched.fmt_when(t) for t in sched.next_fires(dep)) or "none listed"
    print(f"resumed {dep.name!r}: next {fires}")


def cmd_unschedule(m: Any, argv: list[str]) -> None:
    """%agent unschedule NAME

    archive a schedule: it never fires again (its runs stay)"""
    dep = sched.unschedule(_name(argv, "%agent unschedule NAME"))
    print(f"unscheduled {dep.name!r} ({dep.id} archived); its runs and their sessions stay")


def cmd_runs(m: Any, argv: list[str]) -> Table:
    """%agent runs NAME

    a schedule's runs: time, trigger, status, cost, session"""
    name = _name(argv, "%agent runs NAME")
    client = sched.connect()
    dep = sched.find(name, client=client)
    zone = sched.zone_of(dep)
    rows, data = [], []
    for run in sched.runs(dep, client):
        status, cost = sched.run_cost(client, run.session_id)
        when = run.created_at.astimezone(zone) if zone else run.created_at
        data.append(run)
        rows.append([sched.fmt_when(when), run.trigger, status, _fmt_cost(cost), run.session_id or run.error or "-"])
    header = ["time", "trigger", "status", "cost", "session / error"]
    notes = () if rows else (f"no runs of {dep.name!r} yet: %agent trigger {dep.name} runs it now",)
    return Table(f"runs of {dep.name!r} (oldest first; nb_agents.runs({dep.name!r})[i].wait() gives a Run)",
                 header, rows, data, notes)
