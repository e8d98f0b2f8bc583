"""No API key ever appears in an output, widget state, cassette, log or error message.

nb_agents runs in service mode (a key and a base URL, as against the real API; the server is the
emulator) with a recognisable fake key, records a cassette, shows the widget view, runs a tool
that dumps the sandbox's environment, pulls an output file, answers the status/config/cost
subcommands and meets a 401 with a second fake key. Then everything the user or a saved
notebook could see is searched for both keys."""

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
    capsys: Any,
    caplog: Any,
) -> None:
    from ipywidgets import Widget

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(nb_client, "_emulator", None)
    monkeypatch.setattr(nb_client, "_cache", {})
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
    for sub in ("status", "sessions", "cost", "config"):
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
