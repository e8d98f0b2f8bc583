"""Bad input, memory and vaults: an unknown store, a bad memory path, an ambiguous `--memory NAME`,
an unknown `--vault NAME`, an unknown store or vault id, a bad MCP URL, an empty token, a cancelled
prompt, a frontend without stdin. Each is one line (asserted verbatim where the text is ours),
nothing is created or stored, and the next cell works."""

from __future__ import annotations

import getpass
import uuid
from typing import Any

import pytest
from IPython.core.error import StdinNotImplementedError

import nb_agents
from nb_agents.api import list_vaults, make_client

from .conftest import one_line

ECHO = "[[emulator: echo]]\n"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def next_cell_works(ip: Any, line: str = "") -> None:
    ip.run_cell_magic("agent", f"--timeout 30 -o nxt {line}", ECHO + "next question")
    assert ip.user_ns["nxt"].text == "next question"


def test_unknown_store(ip: Any, capsys: Any) -> None:
    name = unique("nope")
    out = one_line(ip, f"%agent memory {name}", capsys)
    assert out.startswith(f"ConfigError: no memory store named {name!r} (memory stores: ")
    assert out.endswith("; a new name creates one)")
    assert name not in [r["name"] for r in ip.run_line_magic("agent", "memory")]  # listing made nothing
    assert one_line(ip, "%agent memory a b", capsys) == "UsageError: usage: %agent memory [NAME]"
    next_cell_works(ip)


def test_bad_memory_path(ip: Any, capsys: Any) -> None:
    ip.user_ns["store"] = nb_agents.memory(unique("paths"))
    out = one_line(ip, "store.write('notes//a.md', 'x')", capsys)
    assert out == "ConfigError: memory path '/notes//a.md': its parts must not be empty, '.' or '..'"
    out = one_line(ip, "store.read('/missing.md')", capsys)
    assert out.startswith("ConfigError: no memory at '/missing.md' in memory store 'paths-")
    assert one_line(ip, "store.redact('nope')", capsys).startswith("ConfigError: redact: 'nope' is not a memory")
    one_line(ip, "store.write('/ok.md', 'fine')", capsys)
    assert ip.user_ns["store"].read("/ok.md") == "fine"
    next_cell_works(ip)


def test_ambiguous_memory_name(ip: Any, capsys: Any) -> None:
    name = unique("twin")
    client = make_client()
    ids = sorted(client.beta.memory_stores.create(name=name).id for _ in range(2))
    out = one_line(ip, f"%%agent --new --memory {name}\nhi", capsys)
    assert out == f"ConfigError: 2 memory stores are named {name!r} ({', '.join(ids)}): pass one of the ids"
    next_cell_works(ip, f"--new --memory {ids[0]}")  # an id settles it


def test_bad_memory_access(ip: Any, capsys: Any) -> None:
    out = one_line(ip, "%%agent --new --memory notes:rw\nhi", capsys)
    assert out == "ConfigError: memory: access 'rw' in 'notes:rw' must be read_only or read_write"
    next_cell_works(ip, "--new")


def test_unknown_vault_name(ip: Any, capsys: Any) -> None:
    name = unique("novault")
    out = one_line(ip, f"%%agent --new --vault {name}\nhi", capsys)
    assert out.startswith(f"ConfigError: no vault named {name!r}")
    assert out.endswith("add one with %agent vault add NAME --mcp URL)")
    next_cell_works(ip, "--new")


def _prompt(monkeypatch: Any, answer: Any) -> list[str]:
    asked: list[str] = []

    def fake(prompt: str = "") -> str:
        asked.append(prompt)
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)

    monkeypatch.setattr(getpass, "getpass", fake)
    return asked


@pytest.mark.parametrize(("answer", "message"), [
    ("", "ConfigError: vault add: no token given; nothing stored"),
    ("   ", "ConfigError: vault add: no token given; nothing stored"),
    (KeyboardInterrupt(), "ConfigError: vault add: cancelled; nothing stored"),
    (EOFError(), "ConfigError: vault add: cancelled; nothing stored"),
    (StdinNotImplementedError("no stdin"),
     "ConfigError: vault add: this frontend cannot ask for a password (no stdin); run the cell in Jupyter or a terminal"),
])
def test_no_token_stores_nothing(ip: Any, capsys: Any, monkeypatch: Any, answer: Any, message: str) -> None:
    asked = _prompt(monkeypatch, answer)
    name = unique("empty")
    assert one_line(ip, f"%agent vault add {name} --mcp https://mcp.example.test/sse", capsys) == message
    assert len(asked) == 1
    assert not [r for r in list_vaults(make_client()) if r["vault"] == name and r["credential_id"] != "-"]
    next_cell_works(ip)


def test_bad_mcp_url_is_refused_before_the_prompt(ip: Any, capsys: Any, monkeypatch: Any) -> None:
    asked = _prompt(monkeypatch, "tok_never_asked")
    out = one_line(ip, "%agent vault add gh --mcp mcp.example.test", capsys)
    assert out == "ConfigError: vault add: the MCP URL must start with https:// (got 'mcp.example.test')"
    assert one_line(ip, "%agent vault add gh", capsys).startswith("UsageError: ")
    assert one_line(ip, "%agent vault remove gh", capsys) == "UsageError: usage: %agent vault add NAME --mcp URL"
    assert asked == []
    next_cell_works(ip)


@pytest.mark.parametrize(("line", "message"), [
    ("--memory memstore_01Nope:read_only", "resources.0.memory_store_id: Memory store memstore_01Nope not found"),
    ("--vault vlt_01Nope", "vault_ids.0: Vault vlt_01Nope not found"),
])
def test_unknown_memory_store_or_vault_id(ip: Any, capsys: Any, line: str, message: str) -> None:
    """An id is sent as given (no look-up first): the service's 404 is the one line, no session is
    made, and the next cell works."""
    client = make_client()
    before = {s.id for s in client.beta.sessions.list(limit=100)}
    out = one_line(ip, f"%%agent --new {line}\nhi", capsys)
    assert out.startswith(f"AgentAPIError: API error 404 (not_found_error): {message} [request_id: req_"), out
    assert "\n" not in out
    assert {s.id for s in client.beta.sessions.list(limit=100)} == before
    next_cell_works(ip)
