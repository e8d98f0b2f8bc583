"""`%agent envs` (environments: packages, networking) and `%agent agents` (agents with their
versions, skills, MCP servers, subagents), listed in `COMMANDS`. Each returns a `Report` (text
repr, rows as data) over the listings of `api/listings.py`.
"""

from __future__ import annotations

from typing import Any

from ..api import list_agents, list_environments, make_client
from ..config import resolve_options
from .args import sub_parser
from .report import Report

__all__: list[str] = []


def _client() -> Any:
    return make_client(resolve_options())


def _table(rows: list[dict[str, Any]], columns: list[str], empty: str) -> str:
    if not rows:
        return empty
    cells = [[str(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def cmd_envs(m: Any, argv: list[str]) -> Any:
    """%agent envs

    environments: networking and packages"""
    sub_parser("envs").parse_args(argv)
    rows = list_environments(_client())
    return Report(_table(rows, ["id", "name", "networking", "packages"], "no environments yet"), rows)


def cmd_agents(m: Any, argv: list[str]) -> Any:
    """%agent agents

    agents with their versions (--agent ID@VERSION pins one)"""
    sub_parser("agents").parse_args(argv)
    rows = [dict(r, versions=",".join(map(str, r["versions"]))) for r in list_agents(_client())]
    columns = ["id", "name", "version", "versions", "model", "skills", "mcp", "subagents"]
    return Report(_table(rows, columns, "no agents yet"), rows)
