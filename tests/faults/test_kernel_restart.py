"""Kernel restart: run a turn in a real kernel, restart the kernel, `%agent attach <id>` in the
new one -> the same transcript.

The emulator runs in the test process (a kernel restart must not take the "service" down with
it), and the kernel reaches it as the real service would be reached: `ANTHROPIC_BASE_URL` and
an API key in its environment. Compared: the rendered text of the session's history
(`view.text.render_text`), the final answer and the event ids, before and after.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from nb_agents.emulator import Emulator

STEPS = [
    {"tool": "bash", "input": {"command": "echo 'rows: 3'"}, "say": "Counting the rows.", "think": True},
    {"write_output": "notes.md", "content": "# Notes\n3 rows"},
    {"say": "There are **3 rows**; the notes are in `notes.md`."},
]
KEY = "sk-ant-restart-test-0000"

SNAPSHOT = """
import json, nb_agents
from nb_agents.view import render_text
_s = nb_agents.session("default")
print("SNAP" + json.dumps({"sid": _s.session_id, "text": render_text(_s.history), "answer": _s.history.text,
                           "ids": [str(e.id) for e in _s.events]}))
"""


@pytest.fixture
def kernel(tmp_path: Any) -> Iterator[Any]:
    from jupyter_client.manager import KernelManager

    with Emulator(brain="scenario:restart", scenarios={"restart": STEPS}) as emu:
        env = {
            **os.environ,
            "ANTHROPIC_BASE_URL": emu.base_url,
            "ANTHROPIC_API_KEY": KEY,
            "NB_AGENTS_VIEW": "text",
        }
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=env, cwd=str(tmp_path))
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            yield km, kc
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def run_cell(kc: Any, code: str) -> str:
    """Execute `code`; its stdout, or the error (name: value) if it failed."""
    out: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append(f"ERROR {msg['content']['ename']}: {msg['content']['evalue']}")

    reply = kc.execute_interactive(code, timeout=90, output_hook=hook)
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out)


def snapshot(kc: Any) -> dict[str, Any]:
    line = next(x for x in run_cell(kc, SNAPSHOT).splitlines() if x.startswith("SNAP"))
    return dict(json.loads(line[4:]))


@pytest.mark.timeout(180)
def test_attach_after_a_kernel_restart_shows_the_same_transcript(kernel: Any) -> None:
    km, kc = kernel
    run_cell(kc, "%load_ext nb_agents")
    printed = run_cell(kc, "%%agent -o r\nHow many rows?")
    assert "There are **3 rows**" in printed and "rows: 3" in printed
    before = snapshot(kc)
    assert (
        before["answer"].endswith("There are **3 rows**; the notes are in `notes.md`.")
        and len(before["ids"]) > 10
    )

    km.restart_kernel(now=True)
    kc.wait_for_ready(timeout=60)
    assert "NameError" in run_cell(kc, "try:\n    r\nexcept NameError as e:\n    print('NameError', e)")
    run_cell(kc, "%load_ext nb_agents")
    attached = run_cell(kc, f"%agent attach {before['sid']}")
    assert f"attached {before['sid']} as session 'default'" in attached and "status idle" in attached
    after = snapshot(kc)
    assert after["sid"] == before["sid"]
    assert after["ids"] == before["ids"]
    assert after["answer"] == before["answer"]
    assert after["text"] == before["text"]
    # and the conversation continues in the new kernel
    again = run_cell(kc, "%%agent -o r2\nAgain?")
    assert "no more turns" in again  # the one-turn scenario says so: the same server session answered
    assert run_cell(kc, "print(r2.session_id)").strip() == before["sid"]
