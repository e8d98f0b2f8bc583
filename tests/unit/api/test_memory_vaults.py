"""Memory stores and vaults by name on the emulator: find-or-create (one store per name, safe to
retry), ambiguity, the `MemoryStore` handle, the memory API's own beta header, MCP tokens stored
as static bearer credentials (replaced, never shown, never logged) and names in session params."""

from __future__ import annotations

import logging
import types
import uuid
from typing import Any

import anthropic
import pytest

from nb_agents.api import add_mcp_token, list_memory_stores, list_vaults, memory, session_kwargs
from nb_agents.api.named import MEMORY_STORES, VAULTS, find_named, find_or_create
from nb_agents.config import Options
from nb_agents.errors import AgentAPIError, ConfigError

NO_SHELL = types.SimpleNamespace(user_ns={}, execution_count=0)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_same_name_is_one_store_and_ids_are_accepted(client: Any) -> None:
    name = unique("proj")
    first = find_or_create(client, MEMORY_STORES, name)
    again = find_or_create(client, MEMORY_STORES, name)
    assert first.id == again.id and first.name == name
    assert [r["id"] for r in list_memory_stores(client) if r["name"] == name] == [first.id]
    assert find_named(client, MEMORY_STORES, first.id).name == name
    with pytest.raises(ConfigError, match=r"^no memory store with id 'memstore_nope'$"):
        find_named(client, MEMORY_STORES, "memstore_nope")


def test_a_failed_create_is_retried_after_looking(client: Any, emulator: Any) -> None:
    name = unique("retry")
    emulator.faults.fail_next(1, 500, "POST /v1/memory_stores")
    made = find_or_create(client, MEMORY_STORES, name)
    assert [r["id"] for r in list_memory_stores(client) if r["name"] == name] == [made.id]
    # what a lost answer left behind is found, not made again
    assert find_or_create(client, MEMORY_STORES, name).id == made.id


def test_an_ambiguous_name_names_the_ids(client: Any) -> None:
    name = unique("twin")
    a = client.beta.memory_stores.create(name=name)
    b = client.beta.memory_stores.create(name=name)
    with pytest.raises(ConfigError) as info:
        find_or_create(client, MEMORY_STORES, name)
    assert str(info.value) == f"2 memory stores are named {name!r} ({', '.join(sorted([a.id, b.id]))}): pass one of the ids"
    client.beta.memory_stores.archive(b.id)  # archived stores are not found by name
    assert find_or_create(client, MEMORY_STORES, name).id == a.id


def test_unknown_names_say_what_exists(client: Any) -> None:
    name = unique("known")
    find_or_create(client, MEMORY_STORES, name)
    with pytest.raises(ConfigError, match=rf"^no memory store named '{name}x' \(did you mean '{name}'\?\)"):
        find_named(client, MEMORY_STORES, name + "x")
    with pytest.raises(ConfigError, match="add one with %agent vault add NAME --mcp URL"):
        find_named(client, VAULTS, unique("novault"))
    with pytest.raises(ConfigError, match="the name is empty"):
        find_or_create(client, MEMORY_STORES, " ")


def test_memory_store_handle(client: Any) -> None:
    store = memory(unique("handle"), client=client)
    assert repr(store).startswith("MemoryStore('handle-") and "memstore_" in repr(store)
    assert "0 memories" in repr(store.list())
    store.write("style.md", "Use EUR.\n")  # the leading / is added
    made = store.write("/notes/a.md", "first")
    changed = store.write("/notes/a.md", "second")
    assert changed.id == made.id and changed.version_id != made.version_id
    listing = store.list()
    assert [m.path for m in listing.data.values()] == ["/notes/a.md", "/style.md"]
    assert listing["/style.md"].size == len("Use EUR.\n") and "/notes/a.md  6 B" in repr(listing)
    assert store.read("/notes/a.md") == "second"
    history = store.history("/notes/a.md")
    assert [v.operation for v in history.data.values()] == ["created", "modified"]
    assert "created" in repr(history) and "by" in history.text
    store.delete("notes/a.md")
    assert "/notes/a.md" not in store.list().data
    after = store.history("/notes/a.md")
    assert [v.operation for v in after.data.values()] == ["created", "modified", "deleted"]
    first = next(iter(after.data.values()))
    redacted = store.redact(first)
    assert redacted.redacted and redacted.id == first.id
    assert "redacted" in repr(store.history("/notes/a.md"))
    assert "no versions of '/nothing.md' yet" in repr(store.history("/nothing.md"))


def test_memory_store_refusals(client: Any) -> None:
    store = memory(unique("refuse"), client=client)
    name = store.name
    with pytest.raises(ConfigError, match=rf"^no memory at '/missing.md' in memory store '{name}' \(see .list\(\)\)$"):
        store.read("missing.md")
    with pytest.raises(ConfigError, match=r"^no memory at '/gone.md'"):
        store.delete("/gone.md")
    with pytest.raises(ConfigError, match=r"^memory path '/\.\./etc': its parts must not be empty, '\.' or '\.\.'$"):
        store.write("../etc", "x")
    with pytest.raises(ConfigError, match=r"^redact: 'v1' is not a memory version id"):
        store.redact("v1")
    with pytest.raises(ConfigError, match=r"^no memory version 'memver_nope'"):
        store.redact("memver_nope")
    with pytest.raises(AgentAPIError, match="at most 102400 bytes"):
        store.write("/big.md", "x" * 200_000)
    with pytest.raises(ConfigError, match="no memory store named"):
        memory(unique("absent"), create=False, client=client)


def test_memory_calls_send_the_memory_beta(emulator: Any) -> None:
    seen: list[tuple[str, str]] = []

    def hook(request: Any) -> None:
        seen.append((request.url.path, request.headers.get("anthropic-beta", "")))

    http = anthropic.DefaultHttpxClient(event_hooks={"request": [hook]})
    with emulator.client(http_client=http) as client:
        store = memory(unique("beta"), client=client)
        store.write("/a.md", "x")
        store.read("/a.md")
    paths = {p for p, _ in seen}
    assert any(p.endswith("/memories") for p in paths)
    assert all(beta == "agent-memory-2026-07-22" for p, beta in seen if p.startswith("/v1/memory_stores")), seen


def test_mcp_token_is_a_static_bearer_credential(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    vault, secret = unique("gh"), "tok_" + uuid.uuid4().hex
    with caplog.at_level(logging.DEBUG, logger="anthropic"):
        row = add_mcp_token(client, vault, "https://mcp.example.test/sse", secret)
        again = add_mcp_token(client, vault, "https://mcp.example.test/sse", secret + "2")  # replaces the token
    assert secret not in caplog.text and "[REDACTED]" in caplog.text  # the SDK's debug log of the body
    assert again["credential_id"] == row["credential_id"] and again["vault_id"] == row["vault_id"]
    (cred,) = client.beta.vaults.credentials.list(row["vault_id"])
    assert cred.auth.type == "static_bearer" and cred.auth.mcp_server_url == "https://mcp.example.test/sse"
    rows = [r for r in list_vaults(client) if r["vault"] == vault]
    assert rows == [row | {"updated": rows[0]["updated"]}] and secret not in repr(rows)
    other = add_mcp_token(client, vault, "https://other.example.test/mcp", secret)
    assert other["vault_id"] == row["vault_id"] and other["credential_id"] != row["credential_id"]
    with pytest.raises(ConfigError, match="no token given"):
        add_mcp_token(client, vault, "https://mcp.example.test/sse", "  ")
    with pytest.raises(ConfigError, match="must start with https://"):
        add_mcp_token(client, vault, "mcp.example.test", secret)


def test_an_empty_vault_is_listed(client: Any) -> None:
    vault = client.beta.vaults.create(display_name=unique("empty"))
    (row,) = [r for r in list_vaults(client) if r["vault_id"] == vault.id]
    assert row["for"] == "(no credentials)" and row["credential_id"] == "-"


def test_session_params_resolve_names(client: Any) -> None:
    store, vault = unique("sess"), unique("sessvault")
    row = add_mcp_token(client, vault, "https://mcp.example.test/x", "tok_abcdefgh")
    opts = Options(memory=(f"{store}:read_only", "memstore_given"), vaults=(vault, "vlt_given"))
    kw = session_kwargs(opts, "default", shell=NO_SHELL, client=client)
    store_id = find_named(client, MEMORY_STORES, store).id
    assert kw["resources"] == [
        {"type": "memory_store", "memory_store_id": store_id, "access": "read_only"},
        {"type": "memory_store", "memory_store_id": "memstore_given"},
    ]
    assert kw["vault_ids"] == [row["vault_id"], "vlt_given"]
    with pytest.raises(ConfigError, match="attaches a memory store twice"):
        session_kwargs(Options(memory=(store, store_id)), "default", shell=NO_SHELL, client=client)
    with pytest.raises(ConfigError, match="no vault named"):
        session_kwargs(Options(vaults=(unique("missing"),)), "default", shell=NO_SHELL, client=client)


def test_concurrent_first_uses_create_one_store(client: Any) -> None:
    """A fan-out's sessions all name the store at once in a fresh kernel: one store is made."""
    from concurrent.futures import ThreadPoolExecutor

    from nb_agents.api.memory_stores import ensure_memory_store

    name = unique("fan")
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: ensure_memory_store(client, name), range(8)))
    assert len(ids) == 1
    assert [r["id"] for r in list_memory_stores(client) if r["name"] == name] == list(ids)
