"""`%%agent` (a turn) and `%agent <subcommand>`: parse, hand off, show the result.

Thin on purpose: a cell is handed to `cells.py`, a subcommand is looked up in the table of
`registry.py` (filled from `commands.py` when the extension loads). Loading the extension
imports only this module, the flags, the configuration and the tables: the rest loads with
the first `%%agent` cell or the first subcommand that needs it.
"""

from __future__ import annotations

import re
import shlex
import sys
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..config import AgentMagic, current_config, set_current_config
from ..errors import ConfigError, NbAgentsError, did_you_mean
from .commands import BUILTIN, GROUPS
from .flags import usage_text
from .registry import SUBCOMMANDS, register_all

__all__ = ["NbAgentsMagics", "register", "unregister"]


@magics_class
class NbAgentsMagics(Magics):
    def __init__(self, shell: Any, config_obj: AgentMagic) -> None:
        super().__init__(shell)
        self.settings = config_obj

    def agent(self, line: str, cell: str | None = None) -> Any:
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

    # `%%agent?` and `%agent?` show this: the full usage, as magics built with magic_arguments do
    agent.__doc__ = (
        "%%agent [options]: the cell is the prompt, sent as the next turn of a session;\n"
        "`{{name}}` inserts a kernel variable (a DataFrame is uploaded and described).\n"
        "%agent SUBCOMMAND [args]: " + ", ".join(n for names in GROUPS.values() for n in names.split())
        + " (`%agent help` says what each does).\n\n" + usage_text()
    )
    agent = line_cell_magic(agent)

    def _cell(self, line: str, cell: str) -> Any:
        # The one deferred import of the extension: the cell machinery (sessions, the API client,
        # files, record/replay) loads with the first cell, so `%load_ext` stays light
        # (bench/bench_load_time.py).
        from .cells import run_cell

        return run_cell(self, line, cell)

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
    register_all(BUILTIN)


def unregister(ipython: Any) -> None:
    ipython.magics_manager.magics["line"].pop("agent", None)
    ipython.magics_manager.magics["cell"].pop("agent", None)
    ipython.configurables[:] = [c for c in ipython.configurables if not isinstance(c, AgentMagic)]
    set_current_config(None)
    if ipython.custom_exceptions == (NbAgentsError,):
        ipython.set_custom_exc((), None)
