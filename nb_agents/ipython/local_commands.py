"""`%agent local [status|stop]`: the kernel's self-hosted worker (local mode, docs/local.md).

`status` (the default) says whether the worker runs, for which environment, how many tool calls
it runs at once, which sessions it serves and the last thing that went wrong; `stop` stops it
(a running local command is killed; the next `%%agent --local` cell starts it again).
"""

from __future__ import annotations

from typing import Any

from ..local import HOST
from .args import sub_parser
from .report import Report

__all__: list[str] = []


def cmd_local(m: Any, argv: list[str]) -> Any:
    """%agent local [status|stop]

    the kernel's local-mode worker: what it serves, or stop it"""
    parser = sub_parser("local")
    parser.add_argument("action", nargs="?", default="status", choices=("status", "stop"))
    args = parser.parse_args(argv)
    if args.action == "stop":
        stopped = HOST.stop()
        return Report("stopped the local worker" if stopped else "the local worker was not running",
                      {"stopped": stopped})
    info = HOST.status()
    if not info["running"]:
        text = "local worker: not running (it starts with the first %%agent --local cell)"
    else:
        text = (f"local worker: running for environment {', '.join(info['environment_ids'])}, "
                f"{info['max_concurrent_calls']} tool calls at once; sessions: {', '.join(info['sessions']) or '—'}")
    if info["foreign_sessions"]:
        text += f"\nclaimed sessions another kernel made (they wait): {', '.join(info['foreign_sessions'])}"
    if info["last_error"]:
        text += f"\nlast error: {info['last_error']}"
    return Report(text, info)
