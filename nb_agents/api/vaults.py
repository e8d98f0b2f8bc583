"""Vaults for people: `--vault NAME` -> vault ids, `add_mcp_token` (what `%agent vault add NAME
--mcp URL` stores) and `list_vaults` (vaults and their credentials, never a secret).

A token for an MCP server is stored as a `static_bearer` credential (`mcp_server_url` + `token`):
the credential type the API has for "this URL, this bearer token". Adding a token for a URL the
vault already has a bearer credential for replaces that credential's token (same vault, same
credential), so running the cell again is safe. The token is a parameter of one call and is never
kept or returned: responses carry no secret (the API never sends one back). The SDK logs every
request's body at DEBUG level (`anthropic._base_client`); while the token is on its way, that
logger's records have it replaced by `[REDACTED]`, so a user's debug log never holds it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from ..errors import ConfigError
from ..scrub import REDACTED
from .client import api_call, api_read
from .named import VAULTS, find_named, find_or_create, live
from .retry import ATTEMPTS, retrying

__all__ = ["add_mcp_token", "check_mcp_url", "list_vaults", "vault_ids"]


def vault_ids(client: Any, refs: tuple[str, ...] | list[str]) -> list[str]:
    """The ids of the vaults `refs`: ids as they are (the server answers for them), names looked
    up (a name must exist: `%agent vault add` makes one)."""
    return [ref if ref.startswith(VAULTS.id_prefix) else str(find_named(client, VAULTS, ref).id) for ref in refs]


class _Redact(logging.Filter):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, REDACTED), None
        return True


@contextmanager
def _kept_out_of_logs(secret: str) -> Iterator[None]:
    logger = logging.getLogger("anthropic._base_client")
    redact = _Redact(secret)
    logger.addFilter(redact)
    try:
        yield
    finally:
        logger.removeFilter(redact)


def _credentials(client: Any, vault_id: str) -> list[Any]:
    return [c for c in client.beta.vaults.credentials.list(vault_id, limit=100)
            if getattr(c, "archived_at", None) is None]


def _target(auth: Any) -> str:
    return str(getattr(auth, "mcp_server_url", None) or getattr(auth, "secret_name", None) or "-")


def check_mcp_url(url: str) -> str:
    """`url` when it is an http(s) URL with a host; else a one-line error."""
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        raise ConfigError(f"vault add: the MCP URL must start with https:// (got {url!r})")
    return url


def add_mcp_token(client: Any, name: str, url: str, token: str) -> dict[str, Any]:
    """Store `token` for the MCP server at `url` in the vault `name` (created when new). Returns
    the row `list_vaults` would show for it."""
    check_mcp_url(url)
    if not token or not token.strip():
        raise ConfigError("vault add: no token given; nothing stored")
    vault = find_or_create(client, VAULTS, name)
    once = client.with_options(max_retries=0).beta.vaults.credentials

    def attempt() -> Any:  # looks first, so a retried create (answer lost) updates what it made
        same = [c for c in api_call(_credentials, client, vault.id) if _target(c.auth) == url]
        if same and same[0].auth.type != "static_bearer":
            raise ConfigError(f"vault {name!r} already has a {same[0].auth.type} credential for {url} "
                              f"({same[0].id}); archive it first")
        if same:
            return api_call(once.update, same[0].id, vault_id=vault.id,
                            auth={"type": "static_bearer", "token": token.strip()})
        return api_call(once.create, vault.id, display_name=urlparse(url).netloc,
                        auth={"type": "static_bearer", "mcp_server_url": url, "token": token.strip()})

    with _kept_out_of_logs(token.strip()):
        cred = retrying(attempt, attempts=ATTEMPTS)
    return _row(vault, cred)


def _row(vault: Any, cred: Any) -> dict[str, Any]:
    return {"vault": vault.display_name, "vault_id": vault.id, "credential_id": cred.id,
            "type": cred.auth.type, "for": _target(cred.auth), "updated": cred.updated_at.strftime("%Y-%m-%d %H:%M")}


def list_vaults(client: Any) -> list[dict[str, Any]]:
    """One row per credential (a vault without any gets one row of its own): vault name and id,
    credential id, type and what it is for (MCP URL or variable name). No secret is ever shown."""
    rows: list[dict[str, Any]] = []
    for vault in live(client, VAULTS):
        creds = list(api_read(_credentials, client, vault.id))
        rows += [_row(vault, c) for c in creds] or [
            {"vault": vault.display_name, "vault_id": vault.id, "credential_id": "-", "type": "-",
             "for": "(no credentials)", "updated": "-"}]
    return rows
