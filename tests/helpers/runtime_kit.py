"""Helpers for driving a SessionRuntime directly (no HTTP): a real Store, a session dict,
an agent snapshot, strict validation of emitted events against the SDK models."""

from __future__ import annotations

import asyncio
import typing
from typing import Any

from nb_agents.emulator.common import EmulatorConfig, new_id, now_iso
from nb_agents.emulator.resolve import resolve_tools
from nb_agents.emulator.runtime import SessionRuntime
from nb_agents.emulator.store import Store

TERMINAL_IDLE = ("end_turn", "retries_exhausted", "budget_reached", "refusal")


def make_agent(tools: list[dict[str, Any]] | None = None, *, model: str = "claude-sonnet-4-6",
               metadata: dict[str, str] | None = None) -> dict[str, Any]:
    resolved = resolve_tools(tools if tools is not None else [{"type": "agent_toolset_20260401"}], [])
    agent = {"type": "agent", "id": new_id("agent"), "version": 1, "name": "analyst", "description": None,
             "system": None, "model": {"id": model, "speed": "standard"}, "tools": resolved, "mcp_servers": [],
             "skills": [], "multiagent": None, "execution_identity": {"type": "service_account"}}
    if metadata is not None:
        agent["metadata"] = metadata
    return agent


def make_runtime(tmp_path: Any, *, agent: dict[str, Any] | None = None, budget: dict[str, Any] | None = None,
                 env_type: str = "cloud", **config: Any) -> SessionRuntime:
    store = Store()
    agent = agent or make_agent()
    session = {"type": "session", "id": new_id("sesn"), "status": "idle", "agent": agent, "resources": [],
               "budget": budget, "metadata": {}, "outcome_evaluations": [], "created_at": now_iso(),
               "updated_at": now_iso()}
    env = {"type": "environment", "id": new_id("env"), "name": "e", "config": {"type": env_type}}
    cfg = EmulatorConfig(sandbox_root=tmp_path, **config)
    return SessionRuntime(store=store, session=session, agent=agent, environment=env, config=cfg)


def text_message(text: str) -> dict[str, Any]:
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}


async def wait_idle(rt: SessionRuntime, *, after: int = 0, timeout: float = 30, any_idle: bool = False) -> dict[str, Any]:
    """The first session.status_idle (terminal unless any_idle) or status_terminated after index `after`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for ev in rt.events[after:]:
            if ev["type"] == "session.status_terminated":
                return ev
            if ev["type"] == "session.status_idle" and (any_idle or ev["stop_reason"]["type"] in TERMINAL_IDLE):
                return ev
        await asyncio.sleep(0.01)
    raise AssertionError(f"no idle within {timeout}s: {[e['type'] for e in rt.events[after:]]}")


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def drain(queue: asyncio.Queue[Any]) -> list[Any]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def _check_model(value: Any, model: Any, path: str) -> None:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        extra = set(value.model_extra or {})
        assert not extra, f"{path}: unknown keys {extra} on {type(value).__name__}"
        for name in type(value).model_fields:
            _check_model(getattr(value, name), None, f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_model(item, None, f"{path}[{i}]")


def validate_event(event: dict[str, Any]) -> Any:
    """Strict: the SDK union member for its type validates it with no unknown keys."""
    from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents

    members = typing.get_args(typing.get_args(BetaManagedAgentsStreamSessionEvents)[0])
    by_type = {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in members}
    model = by_type.get(event["type"])
    assert model is not None, f"unknown event type {event['type']}"
    parsed = model.model_validate(event)
    _check_model(parsed, model, event["type"])
    return parsed


async def wait_event(rt: SessionRuntime, event_type: str, *, after: int = 0, timeout: float = 30) -> dict[str, Any]:
    """The first persisted event of `event_type` at index >= after."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for ev in rt.events[after:]:
            if ev["type"] == event_type:
                return ev
        await asyncio.sleep(0.005)
    raise AssertionError(f"no {event_type} within {timeout}s: {types(rt.events[after:])}")


def answer_text(rt: SessionRuntime) -> str:
    return "".join(b["text"] for b in [e for e in rt.events if e["type"] == "agent.message"][-1]["content"])
