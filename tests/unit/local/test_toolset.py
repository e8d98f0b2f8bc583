"""local.toolset: each call of the SDK's tools is interruptible and runs once, whatever the SDK's
runner dispatches again (stream cuts, worker restarts, lost leases)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from anthropic.lib.tools import ToolError

from nb_agents.local.toolset import CUT_TEXT, STOPPED_TEXT, Ledger, _Guarded, bash_environment, session_tools
from nb_agents.local.worker import LocalSpec


class FakeTool:
    name = "bash"

    def __init__(self, outputs: list[Any]) -> None:
        self.outputs = outputs
        self.calls: list[Any] = []

    async def call(self, input: Any) -> Any:
        self.calls.append(input)
        out = self.outputs.pop(0)
        if isinstance(out, Exception):
            raise out
        if out == "hang":
            await anyio.sleep(60)
        return out


class FakeHistory:
    """`client.beta.sessions.events.list`: tool uses and results, as the SDK's models read."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.lists = 0
        self.beta = SimpleNamespace(sessions=SimpleNamespace(events=SimpleNamespace(list=self.list)))

    def call(self, cid: str, command: str, answered: bool) -> None:
        self.events.append(SimpleNamespace(type="agent.tool_use", id=cid, name="bash", input={"command": command}))
        if answered:
            self.events.append(SimpleNamespace(type="user.tool_result", tool_use_id=cid))

    async def list(self, session_id: str, limit: int = 1000) -> Any:
        self.lists += 1
        for event in list(self.events):
            yield event


def guarded(outputs: list[Any]) -> tuple[Any, FakeTool, FakeHistory, LocalSpec]:
    history = FakeHistory()
    host = SimpleNamespace(ledger=Ledger(), client=history)
    spec = LocalSpec("tok", "s", __import__("pathlib").Path("."), session_id="sesn_1")
    tool = FakeTool(outputs)
    _Guarded(tool, spec, host)
    return tool, tool, history, spec


@pytest.mark.anyio
async def test_a_first_call_runs_without_reading_history() -> None:
    tool, inner, history, _ = guarded(["one"])
    history.call("c1", "ls", answered=False)
    assert await tool.call({"command": "ls"}) == "one"
    assert history.lists == 0  # the common path costs nothing


@pytest.mark.anyio
async def test_a_call_dispatched_again_without_an_answer_returns_the_kept_result() -> None:
    tool, inner, history, _ = guarded(["one", "never"])
    history.call("c1", "ls", answered=False)
    await tool.call({"command": "ls"})
    assert await tool.call({"command": "ls"}) == "one"  # the post never landed: same call again
    assert len(inner.outputs) == 1  # not run a second time


@pytest.mark.anyio
async def test_a_stale_dispatch_whose_result_landed_meanwhile_runs_nothing() -> None:
    tool, inner, history, _ = guarded(["one", "never"])
    history.call("c1", "ls", answered=False)
    await tool.call({"command": "ls"})
    history.events.append(SimpleNamespace(type="user.tool_result", tool_use_id="c1"))
    assert await tool.call({"command": "ls"}) == "one"
    assert len(inner.outputs) == 1


@pytest.mark.anyio
async def test_the_same_command_asked_again_later_runs_again() -> None:
    tool, inner, history, _ = guarded(["one", "two"])
    history.call("c1", "ls", answered=False)
    await tool.call({"command": "ls"})
    history.events.append(SimpleNamespace(type="user.tool_result", tool_use_id="c1"))
    history.call("c2", "ls", answered=False)  # a new call of the agent
    assert await tool.call({"command": "ls"}) == "two"


@pytest.mark.anyio
async def test_errors_are_kept_and_replayed_as_errors() -> None:
    tool, inner, history, _ = guarded([ToolError("exit 1")])
    history.call("c1", "false", answered=False)
    with pytest.raises(ToolError, match="exit 1"):
        await tool.call({"command": "false"})
    with pytest.raises(ToolError, match="exit 1"):
        await tool.call({"command": "false"})
    assert inner.calls == [{"command": "false"}]


@pytest.mark.anyio
async def test_an_interrupt_stops_the_call_and_a_bash_shell_is_restarted() -> None:
    tool, inner, history, spec = guarded(["hang", "bash session restarted"])

    async def interrupt() -> None:
        while not spec.running:
            await anyio.sleep(0.01)
        for scope in list(spec.running):
            scope.cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(interrupt)
        with pytest.raises(ToolError, match=re.escape(STOPPED_TEXT)):
            await tool.call({"command": "sleep 60"})
    assert inner.calls[-1] == {"restart": True} and not spec.running


@pytest.mark.anyio
async def test_a_call_cut_by_the_sdk_is_recorded_so_it_is_not_run_again() -> None:
    tool, inner, history, _ = guarded(["hang", "never"])
    history.call("c1", "sleep", answered=False)
    with anyio.move_on_after(0.1):  # the runner's own scope ends (e.g. the lease was lost)
        await tool.call({"command": "sleep"})
    with pytest.raises(ToolError, match="not run again"):
        await tool.call({"command": "sleep"})
    assert CUT_TEXT.startswith("stopped before it finished")


def test_the_toolset_is_the_sdks_on_the_sessions_folder(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    spec = LocalSpec("tok", "s", tmp_path, allow_paths=(tmp_path / "extra",), session_id="sesn_1")
    tools = session_tools(spec, SimpleNamespace(ledger=Ledger(), client=None))
    assert [t.name for t in tools] == ["bash", "read", "write", "edit", "glob", "grep"]
    assert spec.ctx.workdir == tmp_path and spec.ctx.allowed_roots == [tmp_path / "extra"]
    env = bash_environment()
    assert "ANTHROPIC_API_KEY" not in env and env["PATH"].split(":")[0].endswith("bin")
