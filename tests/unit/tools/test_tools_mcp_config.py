"""`ToolConfig.mcp_toolsets`: custom tools replace the agent's whole tools list, so the agent's MCP
toolsets travel in the config (api.agent_params.with_mcp_toolsets fills the field)."""

from __future__ import annotations

from types import SimpleNamespace

from nb_agents.api.agent_params import with_mcp_toolsets
from nb_agents.tools import ToolConfig, build_tool_config


def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())


def test_mcp_toolsets_follow_the_custom_tools_in_every_param():
    toolset = {"type": "mcp_toolset", "mcp_server_name": "docs"}
    plain = build_tool_config([word_count])
    config = ToolConfig(tools=plain.tools, mcp_toolsets=(toolset,))
    tools = config.agent_tools()
    assert [t["type"] for t in tools] == ["agent_toolset_20260401", "custom", "mcp_toolset"]
    assert tools[-1] == toolset and tools[-1] is not toolset  # a copy: the request cannot alter the config
    assert config.agent_param("agent_1")["tools"] == tools == config.update_param()["tools"]
    assert config.fingerprint != plain.fingerprint


def test_mcp_toolsets_alone_do_not_customise():
    assert ToolConfig(mcp_toolsets=({"type": "mcp_toolset", "mcp_server_name": "docs"},)).customised is False
    assert ToolConfig().agent_param("agent_1") == "agent_1"


def test_with_mcp_toolsets_adds_the_servers_toolsets_only_to_customised_configs():
    opts = SimpleNamespace(mcp=("docs=https://docs.test/mcp",))
    custom = build_tool_config([word_count])
    merged = with_mcp_toolsets(custom, opts)
    assert type(merged) is ToolConfig and merged.tools == custom.tools
    assert [t["type"] for t in merged.agent_tools()][-1] == "mcp_toolset"
    assert merged.agent_tools()[-1]["mcp_server_name"] == "docs"
    assert with_mcp_toolsets(ToolConfig(), opts) == ToolConfig()
    assert with_mcp_toolsets(custom, SimpleNamespace(mcp=())) is custom
