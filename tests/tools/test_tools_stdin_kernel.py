"""The foreground approval prompt works in a real ipykernel: `input()` from the prompter's worker
thread reaches the frontend as an `input_request`, and the reply decides Allow / Deny."""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = """
from nb_agents.tools.approvals import ConfirmationRequest, StdinPrompter
p = StdinPrompter()
first = p.ask(ConfirmationRequest("sevt_1", "bash", {"command": "ls"}), 20)
second = p.ask(ConfirmationRequest("sevt_2", "write", {"file_path": "/tmp/x"}), 20)
print("RESULT", first.allow, second.allow, second.message)
"""


@pytest.mark.timeout(90)
def test_stdin_prompter_in_a_real_kernel(monkeypatch):
    from jupyter_client.manager import start_new_kernel

    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    km, kc = start_new_kernel(kernel_name="python3")
    answers, prompts, output = ["y", "n: not in /tmp"], [], []
    try:
        msg_id = kc.execute(CODE, allow_stdin=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                msg = kc.get_stdin_msg(timeout=0.1)
                if msg["msg_type"] == "input_request":
                    prompts.append(msg["content"]["prompt"])
                    kc.input(answers.pop(0))
            except queue.Empty:
                pass
            try:
                msg = kc.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                output.append(msg["content"]["text"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    text = "".join(output)
    assert len(prompts) == 2 and prompts[0].startswith("Allow?")
    assert 'The agent wants to run bash: {"command": "ls"}' in text
    assert "RESULT True False not in /tmp" in text
