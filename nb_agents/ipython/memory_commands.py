"""`%agent memory [NAME]` (memory stores, or one store's memories), `%agent vaults` (vaults and
their credentials, no secrets) and `%agent vault add NAME --mcp URL` (asks for the token with a
password prompt). Each is `func(magics, argv)`, listed in `commands.py`; the work is in
api/memory_stores.py and api/vaults.py.

The token is read with `getpass.getpass`, looked up when the command runs: in a Jupyter kernel
that is ipykernel's password `input_request` (the frontend shows a masked field; nothing is
echoed and the answer is not part of the cell, its outputs or the history), in a terminal the
tty. It goes to the API in one request and is dropped.
"""

from __future__ import annotations

import getpass
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError

from ..api import add_mcp_token, check_mcp_url, list_memory_stores, list_vaults, make_client, memory
from ..config import resolve_options
from ..errors import ConfigError
from .args import sub_parser
from .report import Table

__all__: list[str] = []

_VAULT_USAGE = "usage: %agent vault add NAME --mcp URL"


def _client() -> Any:
    return make_client(resolve_options())


def cmd_memory(m: Any, argv: list[str]) -> Table:
    """%agent memory [NAME]

    memory stores, or the memories of one (path, size, updated)"""
    if len(argv) > 1:
        raise UsageError("usage: %agent memory [NAME]")
    client = _client()
    if argv:
        return memory(argv[0], create=False, client=client).list()
    rows = list_memory_stores(client)
    return Table(f"{len(rows)} memory store{'s' if len(rows) != 1 else ''}", ("name", "id", "updated", "description"),
                 [(r["name"], r["id"], r["updated"], r["description"]) for r in rows], rows,
                 () if rows else ("none yet: --memory NAME creates one",))


def cmd_vaults(m: Any, argv: list[str]) -> Table:
    """%agent vaults

    vaults and their credentials (never a secret)"""
    sub_parser("vaults").parse_args(argv)
    rows = list_vaults(_client())
    n = len({r["vault_id"] for r in rows})
    return Table(f"{n} vault{'s' if n != 1 else ''}", ("vault", "id", "credential", "type", "for"),
                 [(r["vault"], r["vault_id"], r["credential_id"], r["type"], r["for"]) for r in rows], rows,
                 () if rows else ("none yet: %agent vault add NAME --mcp URL",))


def _ask_token(url: str) -> str:
    try:
        token = getpass.getpass(f"Token for {url} (hidden): ")
    except (KeyboardInterrupt, EOFError):
        raise ConfigError("vault add: cancelled; nothing stored") from None
    except StdinNotImplementedError:
        raise ConfigError("vault add: this frontend cannot ask for a password (no stdin); "
                          "run the cell in Jupyter or a terminal") from None
    if not token.strip():
        raise ConfigError("vault add: no token given; nothing stored")
    return token


def cmd_vault(m: Any, argv: list[str]) -> Table:
    """%agent vault add NAME --mcp URL

    store a token for an MCP server in a vault (asked with a password prompt)"""
    parser = sub_parser("vault")
    parser.add_argument("action", choices=["add"])
    parser.add_argument("name")
    parser.add_argument("--mcp", required=True, metavar="URL")
    if not argv or argv[0] != "add":
        raise UsageError(_VAULT_USAGE)
    args = parser.parse_args(argv)
    check_mcp_url(args.mcp)  # before the prompt: no token typed for nothing
    client = _client()  # a missing backend fails before the prompt
    row = add_mcp_token(client, args.name, args.mcp, _ask_token(args.mcp))
    return Table(f"stored a token for {row['for']} in vault {row['vault']!r} ({row['vault_id']}); "
                 f"use it with --vault {row['vault']}", ("vault", "id", "credential", "type", "for"),
                 [(row["vault"], row["vault_id"], row["credential_id"], row["type"], row["for"])], [row])
