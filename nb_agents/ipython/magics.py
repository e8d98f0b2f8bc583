"""`%%agent` (a turn) and `%agent <subcommand>`: parse, hand off, show the result.

Thin on purpose: the flags are declared and parsed in `flags.py`, every action lives in the
layers below (sessions, fan-out, record), and subcommands are looked up in the table of
`registry.py`, which the command modules fill when the extension loads.
"""

from __future__ import annotations

import re
import shlex
import sys
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..config import AgentMagic, current_config, set_current_config
from ..errors import ConfigError, NbAgentsError, did_you_mean
from ..fanout import map as fan_out
from ..sessions import get_session, replay_cell
from . import file_commands, record_commands, resource_commands, session_commands
from .flags import flag_overrides, parse_cell_flags, tool_flags
from .registry import SUBCOMMANDS, register_all

__all__ = ["NbAgentsMagics", "register", "unregister"]

COMMAND_MODULES = (session_commands, file_commands, record_commands, resource_commands)


@magics_class
class NbAgentsMagics(Magics):
    def __init__(self, shell: Any, config_obj: AgentMagic) -> None:
        super().__init__(shell)
        self.settings = config_obj

    @line_cell_magic
    def agent(self, line: str, cell: str | None = None) -> Any:
        """%%agent [options] (a turn; see `%agent help`) or %agent <subcommand>."""
        try:
            if cell is None and re.search(r"(?<!\S)--replay(?!\S)", line):
                return self._cell(line, "")  # `%agent --replay PATH`: a replay needs no prompt
            if cell is None:
                return self._subcommand(line)
            return self._cell(line, cell)
        except NbAgentsError as exc:
            if self.settings.short_errors:
                raise
            raise RuntimeError(str(exc)) from (exc.__cause__ or exc)

    def _cell(self, line: str, cell: str) -> Any:
        shell = self.shell
        assert shell is not None

        args = parse_cell_flags(line)
        if args.replay:
            return self.store_result(args, replay_cell(args))
        if args.speed is not None or args.instant:
            raise ConfigError("%%agent: --speed and --instant go with --replay PATH")
        if not cell.strip():
            raise ConfigError("%%agent: the cell is empty: write the prompt below the %%agent line")
        if args.map:
            return map_cell(self, args, cell)
        sess = get_session(args.session)
        if sess.active is not None and sess.active.done:
            sess.active.wait()  # collect the finished background run (shows its static copy)
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
            return result
        self.store_result(args, result)
        # The live view already left a static copy (text/plain + text/html) below the widget;
        # a background run leaves it when it is waited for (`%agent wait`, `run.wait()`).
        return None

    def store_result(self, args: Any, result: Any) -> None:
        """A cell's Run goes to `_agent` (and `--out NAME`); its view already showed it."""
        assert self.shell is not None
        self.shell.user_ns["_agent"] = result
        if args.out:
            self.shell.user_ns[args.out] = result

    def _subcommand(self, line: str) -> Any:
        argv = shlex.split(line)
        if not argv:
            argv = ["help"]
        name, rest = argv[0], argv[1:]
        sub = SUBCOMMANDS.get(name)
        if sub is None:
            raise ConfigError(f"%agent: unknown subcommand {name!r}{did_you_mean(name, SUBCOMMANDS)}; see %agent help")
        return sub.func(self, rest)


def _one_line(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> Any:
    """Our errors as one line. IPython shortens only `UsageError` itself (`etype is UsageError`),
    not its subclasses, so the extension installs this handler for `NbAgentsError`."""
    if current_config().short_errors:
        print(f"{etype.__name__}: {value}", file=sys.stderr)
        return None
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    shell._showtraceback(etype, value, stb)
    return stb


def register(ipython: Any) -> None:
    cfg = AgentMagic(parent=ipython, config=ipython.config)
    ipython.configurables[:] = [c for c in ipython.configurables if not isinstance(c, AgentMagic)]
    ipython.configurables.append(cfg)
    set_current_config(cfg)
    ipython.register_magics(NbAgentsMagics(ipython, cfg))
    if not ipython.custom_exceptions:
        ipython.set_custom_exc((NbAgentsError,), _one_line)
    for module in COMMAND_MODULES:
        register_all(module.COMMANDS)


def unregister(ipython: Any) -> None:
    ipython.magics_manager.magics["line"].pop("agent", None)
    ipython.magics_manager.magics["cell"].pop("agent", None)
    ipython.configurables[:] = [c for c in ipython.configurables if not isinstance(c, AgentMagic)]
    set_current_config(None)
    if ipython.custom_exceptions == (NbAgentsError,):
        ipython.set_custom_exc((), None)


def map_cell(magics: Any, args: Any, cell: str) -> Any:
    """`%%agent --map VAR [--concurrency N] [--bg] ...`: the cell is the template."""
    ns = magics.shell.user_ns
    if args.map not in ns:
        visible = [k for k in ns if not k.startswith("_")]
        raise ConfigError(f"%%agent --map: no variable named {args.map!r}{did_you_mean(args.map, visible)}")
    if args.dry_run:
        raise ConfigError("%%agent --map does not support --dry-run yet: try the template on one item first")
    flags = tool_flags(args)
    max_usd = flags.pop("max_usd", None)
    result = fan_out(
        cell, ns[args.map], concurrency=args.concurrency or 8, max_usd=max_usd, files=args.files, namespace=ns,
        interpolate=not args.no_interpolate, live=True, background=args.bg,
        **flags, **flag_overrides(args),
    )
    magics.store_result(args, result)
    return None if args.out or args.bg else result
