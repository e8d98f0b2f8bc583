"""The built-in `%agent` subcommands, in the order `%agent help` lists them.

`%agent NAME` runs `cmd_NAME(magics, argv)` of its module (imported on first use); the function's
docstring gives its usage (first line) and what it does (the rest).
"""

from __future__ import annotations

from .registry import Subcommand

__all__ = ["BUILTIN"]

GROUPS = {
    "session_commands": "help offline status sessions new attach interrupt wait config archive",
    "file_commands": "outputs pull upload budget cost egress",
    "record_commands": "export cache",
    "resource_commands": "envs agents",
    "memory_commands": "memory vaults vault",
    "schedule_commands": "schedules trigger pause resume unschedule runs",
    "local_commands": "local",
}

BUILTIN = tuple(Subcommand(name, f"{module}:cmd_{name}") for module, names in GROUPS.items() for name in names.split())
