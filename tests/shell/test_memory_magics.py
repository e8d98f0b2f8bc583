"""`--memory NAME`, `%agent memory [NAME]`, `%agent vault add`, `%agent vaults` and `--vault NAME`
through a real InteractiveShell against the emulator. The token prompt is `getpass.getpass`, the
function ipykernel replaces with its password `input_request` (tests/badinput/test_vault_token_kernel.py
runs it in a real kernel); here it is replaced the same way."""

from __future__ import annotations

import getpass
import uuid

import pytest

import nb_agents
from nb_agents.view import render_html, render_text


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_memory_flag_by_name_mounts_the_store_and_shows_memory_calls(ip, capsys):
    name = "project"  # the built-in `memory` scenario reads and writes /mnt/memory/project
    store = nb_agents.memory(name)
    store.write("/conventions.md", "Charts use matplotlib.\n")
    ip.run_cell_magic("agent", f"--new --memory {name}", "[[emulator: scenario memory]]\nGo")
    run = ip.user_ns["_agent"]
    read, write = run.tool_calls
    assert read.status == "done" and "Charts use matplotlib." in read.result_text
    assert write.status == "done"
    text = render_text(run.transcript)
    assert "> read (memory) /mnt/memory/project/conventions.md" in text
    assert "> write (memory) /mnt/memory/project/learned.md" in text
    assert "(memory)" in render_html(run.transcript)
    assert "memory project" in text  # the set-up line names the store
    # the agent's write is a memory version of the same store (same name -> one store)
    assert store.read("/learned.md").startswith("- revenue is reported in EUR")
    (version,) = store.history("/learned.md").data.values()
    assert version.by == f"session {run.session_id}"
    assert [r["id"] for r in nb_agents.api.list_memory_stores(nb_agents.api.make_client())
            if r["name"] == name] == [store.id]


def test_read_only_memory_by_name(ip):
    name = unique("ro")
    nb_agents.memory(name).write("/a.md", "keep")
    ip.run_cell_magic("agent", f"--new --memory {name}:read_only", "[[emulator: echo]]\nhi")
    status = repr(ip.run_line_magic("agent", "status"))
    assert f"(read_only) at /mnt/memory/{name}" in status


def test_memory_subcommand_lists_stores_and_memories(ip, capsys):
    name = unique("listed")
    nb_agents.memory(name).write("/notes/style.md", "Use EUR.")
    stores = ip.run_line_magic("agent", "memory")
    assert name in repr(stores) and any(r["name"] == name for r in stores)
    memories = ip.run_line_magic("agent", f"memory {name}")
    assert memories.header == ("path", "size", "updated")
    assert memories.rows[0][:2] == ("/notes/style.md", "8 B")
    ip.run_cell(f"%agent memory {name}")
    assert "/notes/style.md" in capsys.readouterr().out
    bundle = memories._repr_mimebundle_()
    assert "<td><code>/notes/style.md</code></td>" in bundle["text/html"]


def test_vault_add_then_vault_flag_and_listing(ip, monkeypatch, scenario):
    secret, prompts = "tok_" + uuid.uuid4().hex, []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return secret

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    vault = unique("gh")
    added = ip.run_line_magic("agent", f"vault add {vault} --mcp https://docs.test/mcp")
    assert prompts == ["Token for https://docs.test/mcp (hidden): "]
    assert f"in vault {vault!r}" in repr(added) and f"--vault {vault}" in repr(added)
    listing = ip.run_line_magic("agent", "vaults")
    (row,) = [r for r in listing if r["vault"] == vault]
    assert (row["type"], row["for"]) == ("static_bearer", "https://docs.test/mcp")
    assert secret not in repr(listing) and secret not in repr(added)
    steps = [{"mcp": "search", "server": "docs", "input": {"q": "x"}, "result": "found"}, {"say": "Found it."}]
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")  # the MCP tool asks first
    ip.run_cell_magic("agent", f"--new --mcp docs=https://docs.test/mcp --vault {vault}", scenario(steps) + "search")
    run = ip.user_ns["_agent"]
    assert run.text.endswith("Found it.")
    sess = nb_agents.session()
    remote = nb_agents.api.make_client().beta.sessions.retrieve(sess.session_id)
    assert remote.vault_ids == [row["vault_id"]]


@pytest.mark.parametrize("usage", ["vault", "vault list", "vault add", "vault add x"])
def test_vault_usage(ip, usage):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError):
        ip.run_line_magic("agent", usage)


def test_help_lists_the_memory_and_vault_commands(ip, capsys):
    ip.run_line_magic("agent", "help")
    out = capsys.readouterr().out
    for usage in ("%agent memory [NAME]", "%agent vaults", "%agent vault add NAME --mcp URL",
                  "--memory NAME[:read_only]", "--vault NAME"):
        assert usage in out
