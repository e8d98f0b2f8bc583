"""A bash output over the SDK's limit: the result is cut where the SDK's reference toolset cuts it,
and when that SDK saves the whole output to a file, the agent can read that file in its sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from anthropic.lib.tools import agent_toolset

from nb_agents.emulator.sandbox import Sandbox

pytestmark = pytest.mark.anyio
LIMIT = agent_toolset.BASH_OUTPUT_LIMIT  # the SDK's own limit (2.10: 100 KiB kept; 2.17: 30,000 characters)


async def test_a_cut_bash_output_is_bounded_and_its_saved_file_is_readable(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, session_id="sesn_cut")
    try:
        run = await box.run_tool("bash", {"command": "for i in $(seq 1 40000); do echo line-$i-abcdef; done"})
        assert not run["is_error"]
        assert 0.9 * LIMIT < len(run["text"]) < LIMIT + 1_000
        assert str(tmp_path) not in run["text"]  # no host path reaches the agent
        saved = re.search(r"saved to: (\S+\.txt)", run["text"])
        if saved is None:
            pytest.skip("this SDK's bash keeps no file with the whole output")
        path = saved.group(1)
        assert path.startswith("/tmp/bash-output-")
        read = await box.run_tool("read", {"file_path": path, "view_range": [39999, 40000]})
        assert not read["is_error"], read["text"]
        assert "line-40000-abcdef" in read["text"]
        grep = await box.run_tool("grep", {"pattern": "line-39999-", "path": path})
        assert not grep["is_error"] and "line-39999-abcdef" in grep["text"], grep["text"]
        tail = await box.run_tool("bash", {"command": f"tail -n 1 {path}"})
        assert tail["text"].strip() == "line-40000-abcdef"
    finally:
        await box.close()
