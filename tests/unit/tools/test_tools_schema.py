"""Custom tool definitions: decorator, schemas from type hints, --tools resolution, agent params."""

from __future__ import annotations

from typing import Literal

import pytest

from nb_agents.errors import ConfigError, NbAgentsError, ToolSetupError
from nb_agents.tools import ToolConfig, as_tool, build_tool_config, resolve_tools, tool
from nb_agents.tools.approvals import parse_tool_names, toolset_param


@tool
def revenue(
    month: int,
    region: str,
    scale: float = 1.0,
    tags: list[str] | None = None,
    unit: Literal["usd", "eur"] = "usd",
) -> str:
    """Revenue for one month.

    Args:
        month: month number, 1-12
        region: sales region
    """
    return f"{month}-{region}-{scale}-{tags}-{unit}"


def plain(n: int) -> int:
    """Double n."""
    return 2 * n


def test_decorator_keeps_the_function_callable():
    assert revenue(3, "north") == "3-north-1.0-None-usd"
    assert revenue.__name__ == "revenue"


def test_definition_has_schema_from_type_hints_and_docstring():
    d = as_tool(revenue).definition()
    assert d["type"] == "custom" and d["name"] == "revenue"
    assert d["description"].startswith("Revenue for one month.")
    schema = d["input_schema"]
    assert schema["type"] == "object"
    assert schema["required"] == ["month", "region"]
    props = schema["properties"]
    assert props["month"]["type"] == "integer" and props["month"]["description"] == "month number, 1-12"
    assert props["scale"]["type"] == "number"
    assert props["unit"]["enum"] == ["usd", "eur"]
    assert props["tags"]["anyOf"][0] == {"items": {"type": "string"}, "type": "array"}


def test_plain_typed_function_and_decorator_options():
    assert as_tool(plain).definition()["description"] == "Double n."

    @tool(name="load-data", description="Load it", timeout=5)
    def loader(path: str) -> str:
        return path

    kt = as_tool(loader)
    assert kt.name == "load-data" and kt.timeout == 5
    assert kt.definition()["description"] == "Load it"


def test_async_function_is_a_tool():
    async def fetch(q: str) -> str:
        """Fetch q."""
        return q

    kt = as_tool(fetch)
    assert kt.is_async and kt.definition()["input_schema"]["required"] == ["q"]


def test_bad_tools_are_one_line_errors():
    with pytest.raises(ToolSetupError, match="not callable"):
        as_tool(42)
    with pytest.raises(ToolSetupError, match="is a class"):
        as_tool(dict)
    with pytest.raises(ToolSetupError, match="invalid"):
        tool(name="has space")(plain)
    with pytest.raises(ToolSetupError, match="timeout"):
        tool(timeout=0)(plain)
    assert issubclass(ToolSetupError, NbAgentsError)


def test_resolve_names_from_namespace_in_order_and_deduped():
    ns = {"revenue": revenue, "plain": plain, "df": object()}
    tools = resolve_tools("plain, revenue,plain", ns, defaults=["revenue"])
    assert [t.name for t in tools] == ["revenue", "plain"]
    assert resolve_tools(None, ns) == []
    assert [t.name for t in resolve_tools([plain], None)] == ["plain"]


def test_resolve_unknown_name_suggests():
    with pytest.raises(ToolSetupError, match=r"no function named 'revenu'.*did you mean 'revenue'"):
        resolve_tools("revenu", {"revenue": revenue})
    with pytest.raises(ToolSetupError, match="define the function first"):
        resolve_tools("zzz", {"revenue": revenue})
    with pytest.raises(ToolSetupError, match=r"^tools \(config default\): no function named 'gone'"):
        resolve_tools(None, {"revenue": revenue}, defaults=["gone"])


def test_resolve_non_callable_name():
    with pytest.raises(ToolSetupError, match="df is a list, not a function"):
        resolve_tools("df", {"df": [1, 2]})


def test_two_different_tools_with_one_name():
    def other(n: int) -> int:
        return n

    with pytest.raises(ToolSetupError, match="two different tools"):
        resolve_tools([tool(name="plain")(other), plain])


def test_toolset_policies():
    assert toolset_param() == {"type": "agent_toolset_20260401"}
    assert toolset_param(ask=["bash", "write"]) == {
        "type": "agent_toolset_20260401",
        "configs": [
            {"name": "bash", "permission_policy": {"type": "always_ask"}},
            {"name": "write", "permission_policy": {"type": "always_ask"}},
        ],
    }
    assert toolset_param(ask_all=True)["default_config"] == {"permission_policy": {"type": "always_ask"}}
    auto = toolset_param(auto=True, ask=["bash"])
    assert auto["default_config"] == {"permission_policy": {"type": "auto"}}
    assert auto["configs"] == [{"name": "bash", "permission_policy": {"type": "always_ask"}}]
    mixed = toolset_param(auto=["bash", "edit"], ask=["bash"])
    assert {c["name"]: c["permission_policy"]["type"] for c in mixed["configs"]} == {
        "bash": "always_ask",
        "edit": "auto",
    }


def test_tools_list_validates_against_the_sdk_param_types():
    from anthropic.types.beta.beta_managed_agents_agent_with_overrides_params import Tool
    from pydantic import TypeAdapter

    cfg = build_tool_config([revenue], ask="bash", auto="edit")
    adapter = TypeAdapter(Tool)
    for entry in cfg.agent_tools():
        adapter.validate_python(entry)


def test_ask_names_are_validated():
    assert parse_tool_names("bash, write,bash") == ("bash", "write")
    with pytest.raises(ConfigError, match="did you mean 'bash'"):
        parse_tool_names("bsh")
    with pytest.raises(ConfigError, match="built-in tools are"):
        parse_tool_names(["python"])


def test_tool_config_agent_params():
    empty = ToolConfig()
    assert empty.agent_param("agent_1") == "agent_1"
    assert empty.agent_param("agent_1", version=3) == {"type": "agent", "id": "agent_1", "version": 3}
    cfg = build_tool_config("revenue", {"revenue": revenue}, ask=["bash"])
    param = cfg.agent_param("agent_1", version=2)
    assert param["type"] == "agent_with_overrides" and param["id"] == "agent_1" and param["version"] == 2
    assert [t["type"] for t in param["tools"]] == ["agent_toolset_20260401", "custom"]
    assert cfg.update_param() == {"tools": param["tools"]}
    assert cfg.fingerprint == build_tool_config([revenue], ask="bash").fingerprint
    assert cfg.fingerprint != build_tool_config([revenue]).fingerprint


def test_kernel_tools_only_when_enabled():
    ns = {"x": 1}
    assert build_tool_config(None, ns).tools == ()
    names = [t.name for t in build_tool_config(None, ns, kernel_tools=True).tools]
    assert names == ["list_variables", "describe_variable"]


def test_handler_from_config():
    handler = build_tool_config([plain]).handler(tool_timeout=3)
    assert set(handler.tools) == {"plain"} and handler.tool_timeout == 3


def test_tool_setup_bundles_create_kwargs_handler_and_guard():
    from nb_agents.tools.approvals import ButtonPrompter, StdinPrompter
    from nb_agents.tools.setup import tool_setup

    setup = tool_setup(tools="revenue", namespace={"revenue": revenue}, ask="bash", max_usd=0.5)
    kwargs = setup.create_kwargs("agent_1")
    assert kwargs["agent"]["type"] == "agent_with_overrides"
    assert kwargs["budget"] == {"type": "limit", "max_list_cost": {"amount": "50", "currency": "USD"}}
    assert isinstance(setup.handler.prompter, StdinPrompter) and set(setup.handler.tools) == {"revenue"}
    assert setup.guard is not None and setup.guard.max_usd == 0.5
    plain_setup = tool_setup(background=True)
    assert plain_setup.create_kwargs("agent_1") == {"agent": "agent_1"}
    assert plain_setup.guard is None and isinstance(plain_setup.handler.prompter, ButtonPrompter)


def test_tool_setup_sync_updates_only_on_change():
    from nb_agents.tools.setup import tool_setup

    calls = []
    statuses = ["running", "running", "idle"]  # retrieve lags behind the streamed idle

    class Sessions:
        def retrieve(self, session_id):
            status = statuses.pop(0) if statuses else "idle"
            return type("Session", (), {"status": status})()

        def update(self, session_id, agent):
            assert not statuses, "updated while the session was still running"
            calls.append((session_id, agent))

    class Client:
        class beta:  # noqa: N801 - mirrors client.beta.sessions
            sessions = Sessions()

    setup = tool_setup(tools=[revenue])
    applied = setup.sync(Client, "sesn_1", None)
    assert applied == setup.config.fingerprint and calls == [("sesn_1", setup.config.update_param())]
    assert setup.sync(Client, "sesn_1", applied) == applied and len(calls) == 1
    assert tool_setup().sync(Client, "sesn_1", None) is None and len(calls) == 1
    assert tool_setup().sync(Client, "sesn_1", "") is None and len(calls) == 1
    tool_setup().sync(Client, "sesn_1", applied)  # tools removed: back to the plain toolset
    assert calls[-1][1] == {"tools": [{"type": "agent_toolset_20260401"}]}


def test_tool_setup_sync_gives_up_on_a_running_session(monkeypatch):
    import nb_agents.tools.setup as ts

    class Sessions:
        def retrieve(self, session_id):
            return type("Session", (), {"status": "running"})()

    class Client:
        class beta:  # noqa: N801
            sessions = Sessions()

    monkeypatch.setattr(ts, "SETTLE_TIMEOUT", 0.1)
    with pytest.raises(ToolSetupError, match="while it is running"):
        ts._wait_until_settled(Client, "sesn_1", timeout=0.1)
