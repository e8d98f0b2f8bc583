"""No API key ever appears in an output, widget state, cassette, log or error message.

nb_agents runs in service mode (a key and a base URL, as against the real API; the server is the
emulator) with a recognisable fake key, records a cassette, shows the widget view, runs a tool
that dumps the sandbox's environment, pulls an output file, answers the status/config/cost
subcommands and meets a 401 with a second fake key. Then everything the user or a saved
notebook could see is searched for both keys. A second run plants a made-up credential of every
kind the scrubber knows (tests/helpers/fake_credentials.py) and searches every file people share."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

import nb_agents.api.client as nb_client

CANARY = "LEAKCANARY"
KEY = f"sk-ant-api03-{CANARY}-0123456789abcdef"
BAD_KEY = f"sk-bad-{CANARY}-fedcba9876543210"  # the emulator answers 401 to sk-bad… keys


def _files_text(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file())


def test_the_api_key_never_leaks(
    ip: Any,
    emu: Any,
    scenario: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exit_stack: Any,
    capsys: Any,
    caplog: Any,
) -> None:
    from ipywidgets import Widget

    caplog.set_level(logging.DEBUG)
    exit_stack.enter_context(nb_client.using_emulator(None))  # service mode: a key and a base URL
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
    monkeypatch.setenv("ANTHROPIC_LOG", "debug")
    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")
    steps = [
        {"tool": "bash", "input": {"command": "env | sort"}, "say": "Looking at the environment."},
        {"write_output": "report.md", "content": "# Report\nall fine"},
        {"say": "Done."},
    ]
    # %config, as a user would (it also wins over a value another test left in the shell's config)
    ip.run_line_magic("config", f"AgentMagic.record_dir = {str(tmp_path / 'cassettes')!r}")
    try:
        ip.run_cell("%%agent -o r\n" + scenario(steps) + "go")
    finally:
        ip.run_line_magic("config", "AgentMagic.record_dir = ''")
    run = ip.user_ns["r"]
    assert run.stop_reason == "end_turn" and run.text.endswith("Done.")
    assert "PATH=" in run.tool_calls[0].result_text  # the tool really dumped an environment
    for sub in ("status", "sessions", "cost", "config", "egress"):
        ip.run_cell(f"%agent {sub}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", BAD_KEY)
    ip.run_cell("%%agent -s other\nhi")

    printed = capsys.readouterr()
    seen = {
        "printed output": printed.out + printed.err,
        "logs": caplog.text + "\n".join(str(r.__dict__) for r in caplog.records),
        "widget state": json.dumps(Widget.get_manager_state(drop_defaults=False), default=str),
        "cassettes": _files_text(tmp_path / "cassettes"),
        "pulled outputs": _files_text(tmp_path / "outputs"),
        "run display": json.dumps(run._repr_mimebundle_(), default=str) + repr(run),
        "run events": json.dumps([e.model_dump(mode="json") for e in run.events]),
    }
    assert "401" in seen["printed output"]  # the second key was refused, in one line
    assert all(seen[k] for k in ("cassettes", "widget state", "logs")), [k for k, v in seen.items() if not v]
    leaks = [where for where, text in seen.items() if CANARY in text]
    assert not leaks, f"the API key appears in: {', '.join(leaks)}"


def test_no_credential_of_any_kind_reaches_a_shared_file(
    ip: Any, emu: Any, scenario: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_stack: Any
) -> None:
    """Every kind of credential in tests/helpers/fake_credentials.py is planted in a prompt, a bash
    command and its output, a kernel tool's result and its error, the tool's input, a written
    output file, the answer and an input file's name. None may survive in the files people share
    (the cassette and its stored files, each export format, the saved output's provenance) nor
    in the tool results sent to the API; the ordinary text around them stays word for word."""
    from fake_credentials import ALL_PLANTED, KEEP, PLANTED, leaked

    from nb_agents.record import export

    exit_stack.enter_context(nb_client.using_emulator(None))  # service mode: a key and a base URL
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
    one_line = " ".join(ALL_PLANTED.split())

    def read_config() -> str:
        """The service's configuration file."""
        return ALL_PLANTED

    def connect(password: str) -> str:
        """Connect to the database."""
        raise ConnectionError(f"cannot connect with {one_line}")

    ip.user_ns.update(read_config=read_config, connect=connect)
    named = tmp_path / f"creds-{PLANTED['ghp'][0]}.txt"  # an input whose very name is a token
    named.write_text(KEEP)
    steps = [
        {"tool": "bash", "input": {"command": f"cat <<'EOF'\n{ALL_PLANTED}\nEOF"}, "say": "Reading."},
        {"custom_tool": "read_config", "input": {}},
        {"custom_tool": "connect", "input": {"password": PLANTED["password"][1]}},
        {"write_output": "notes.txt", "content": ALL_PLANTED},
        {"say": f"Found these:\n\n{ALL_PLANTED}"},
    ]
    ip.run_line_magic("config", f"AgentMagic.record_dir = {str(tmp_path / 'cassettes')!r}")
    try:
        ip.run_cell(f"%%agent -o r --tools read_config,connect --files {named}\n"
                    + scenario(steps) + f"Look at this:\n{ALL_PLANTED}")
    finally:
        ip.run_line_magic("config", "AgentMagic.record_dir = ''")
    run = ip.user_ns["r"]
    assert run.stop_reason == "end_turn", run.text
    assert all(secret in run.tool_calls[0].result_text for _, secret in PLANTED.values())  # really planted

    [cassette] = (tmp_path / "cassettes").glob("*.jsonl")
    stored = sorted(cassette.with_suffix(".files").rglob("*"))
    sources = {"run": run, "cassette": cassette}
    exports = [export(source, tmp_path / f"from-{kind}{suffix}")
               for suffix in (".ipynb", ".md", ".html") for kind, source in sources.items()]
    data, metadata = run._repr_mimebundle_()
    sent = [e.model_dump(mode="json") for e in run.events if e.type == "user.custom_tool_result"]
    shared = {
        "cassette": cassette.read_text(encoding="utf-8"),
        **{f"stored {p.name}": p.read_text(encoding="utf-8") for p in stored if p.is_file()},
        **{f"export {p.name}": p.read_text(encoding="utf-8") for p in exports},
        "provenance of the saved output": json.dumps(metadata),
        "tool results sent to the API": json.dumps(sent),
    }
    assert any(name.startswith("stored") for name in shared) and len(sent) == 2
    assert '"input_hashes"' in shared["provenance of the saved output"]
    leaks = {where: leaked(text) for where, text in shared.items() if leaked(text)}
    assert not leaks, f"credentials left in shared files: {leaks}"
    # no over-redaction: the ordinary text is still there, word for word
    for where in ("cassette", "stored notes.txt", "export from-run.md", "export from-cassette.ipynb"):
        assert KEEP in shared[where] or json.dumps(KEEP)[1:-1] in shared[where], where
    assert KEEP in sent[0]["content"][0]["text"]
    assert "-----BEGIN RSA PRIVATE KEY-----" in shared["export from-run.md"]
