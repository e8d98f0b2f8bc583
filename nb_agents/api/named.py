"""Resources a user names in a cell (`--memory NAME`, `--vault NAME`, `%agent vault add NAME`):
an id or a name -> the live resource, and find-or-create by name that is safe to retry.

Memory stores are named by `name`, vaults by `display_name`. The API lets two live resources share
a name; a name that matches more than one is a one-line error naming their ids (pass an id). An
archived resource is never found by name. Creation goes out with the SDK's own retries off and is
retried through retry.py's policy, each attempt looking by name first (as `client.py` does for
agents and environments), so an answer lost on the way back never leaves a second resource behind;
concurrent first uses in one process (a fan-out) take `client.py`'s lock for the name in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import AgentAPIError, ConfigError, did_you_mean
from .client import _key_lock, api_call, api_read
from .retry import ATTEMPTS, retrying

__all__ = ["Kind", "MEMORY_STORES", "VAULTS", "find_named", "find_or_create", "live"]


class Kind:
    """How one kind of resource is named and reached: `collection(client)` is its SDK resource."""

    def __init__(self, noun: str, id_prefix: str, name_field: str,
                 collection: Callable[[Any], Any], hint: str) -> None:
        self.noun, self.id_prefix, self.name_field = noun, id_prefix, name_field
        self.collection, self.hint = collection, hint

    def name_of(self, item: Any) -> str:
        return str(getattr(item, self.name_field))


MEMORY_STORES = Kind("memory store", "memstore_", "name", lambda c: c.beta.memory_stores,
                     "a new name creates one")
VAULTS = Kind("vault", "vlt_", "display_name", lambda c: c.beta.vaults,
              "add one with %agent vault add NAME --mcp URL")


def _every(client: Any, kind: Kind) -> list[Any]:
    # iterating fetches the next pages: call inside `api_call` / `api_read`
    return [x for x in kind.collection(client).list(limit=100) if getattr(x, "archived_at", None) is None]


def live(client: Any, kind: Kind) -> list[Any]:
    """Every live (not archived) resource of `kind`, all pages."""
    return list(api_read(_every, client, kind))


def _matching(items: list[Any], kind: Kind, name: str) -> Any:
    found = [x for x in items if kind.name_of(x) == name]
    if len(found) > 1:
        ids = ", ".join(sorted(x.id for x in found))
        raise ConfigError(f"{len(found)} {kind.noun}s are named {name!r} ({ids}): pass one of the ids")
    return found[0] if found else None


def find_named(client: Any, kind: Kind, ref: str) -> Any:
    """The live resource whose id or name is `ref`; a one-line error when there is none."""
    if not ref.strip():
        raise ConfigError(f"{kind.noun}: the name is empty")
    if ref.startswith(kind.id_prefix):
        try:
            return api_read(kind.collection(client).retrieve, ref)
        except AgentAPIError as exc:
            if exc.status == 404:
                raise ConfigError(f"no {kind.noun} with id {ref!r}") from None
            raise
    items = live(client, kind)
    found = _matching(items, kind, ref)
    if found is None:
        names = sorted({kind.name_of(x) for x in items})
        known = ", ".join(names) or "none yet"
        raise ConfigError(f"no {kind.noun} named {ref!r}{did_you_mean(ref, names)} ({kind.noun}s: {known}; "
                          f"{kind.hint})")
    return found


def find_or_create(client: Any, kind: Kind, ref: str, **create: Any) -> Any:
    """`find_named`, except that a name nothing answers to is created (with `create`'s fields)."""
    if ref.startswith(kind.id_prefix):
        return find_named(client, kind, ref)
    if not ref.strip():
        raise ConfigError(f"{kind.noun}: the name is empty")
    once = kind.collection(client.with_options(max_retries=0))  # a retry looks before it creates
    key = (str(client.base_url), f"{kind.noun}:{ref}", "")

    def attempt() -> Any:
        found = _matching(api_call(_every, client, kind), kind, ref)
        if found is not None:
            return found
        return api_call(once.create, **{kind.name_field: ref}, metadata={"created_by": "nb_agents"}, **create)

    with _key_lock(key):  # a fan-out's first sessions, all at once: one creates, the others find it
        return retrying(attempt, attempts=ATTEMPTS)
