"""The foreground approval prompt works in a real ipykernel: `input()` from the prompter's worker
thread reaches the frontend as an `input_request`, and the reply decides Allow / Deny."""

from __future__ import annotations

import pytest
from kernel_kit import kernel, run_cell

CODE = """
from nb_agents.tools.approvals import ConfirmationRequest, StdinPrompter
p = StdinPrompter()
first = p.ask(ConfirmationRequest("sevt_1", "bash", {"command": "ls"}), 20)
second = p.ask(ConfirmationRequest("sevt_2", "write", {"file_path": "/tmp/x"}), 20)
print("RESULT", first.allow, second.allow, second.message)
"""


@pytest.mark.timeout(90)
def test_stdin_prompter_in_a_real_kernel(monkeypatch):
    prompts: list[dict] = []
    with kernel(monkeypatch) as kc:
        outputs = run_cell(kc, CODE, answers=["y", "n: not in /tmp"], requests=prompts)
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert len(prompts) == 2 and prompts[0]["prompt"].startswith("Allow?")
    assert 'The agent wants to run bash: {"command": "ls"}' in text
    assert "RESULT True False not in /tmp" in text
