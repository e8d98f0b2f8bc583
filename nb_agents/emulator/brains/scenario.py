"""Scripted brains: a scenario is a JSON list of steps, one step per agent action.

A scenario file is `{"name", "description", "steps": [...]}` (one turn) or
`{"name", "description", "turns": [[...], [...]]}` (the session's n-th turn runs
`turns[n]`). Each step is an object whose first known key names its kind (see
docs/emulator.md for every kind with an example). Scenarios come from
`config.scenarios` (name -> scenario dict or step list), `config.scenario_dirs`,
the built-in `nb_agents/emulator/scenarios/*.json`, or a path to a `.json` file.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any

__all__ = ["ScenarioBrain", "ScenarioError", "load_scenario", "builtin_scenarios", "STEP_KINDS"]

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "scenarios"
STEP_KINDS = ("say", "think", "tool", "tools", "custom_tool", "confirm", "write_output", "delay", "error",
              "reschedule", "refusal", "terminate", "thread", "outcome", "event", "mcp")


class ScenarioError(ValueError):
    """A scenario that cannot be found or is malformed."""


def builtin_scenarios() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.json"))


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ScenarioError(f"cannot read scenario {path}: {e}") from e


def _find(name: str, config: Any) -> Any:
    registered = getattr(config, "scenarios", None) or {}
    if name in registered:
        return registered[name]
    for directory in [*(getattr(config, "scenario_dirs", None) or []), BUILTIN_DIR]:
        candidate = Path(directory) / f"{name}.json"
        if candidate.is_file():
            return _read(candidate)
    if name.endswith(".json") and Path(name).expanduser().is_file():
        return _read(Path(name).expanduser())
    known = sorted({*registered, *builtin_scenarios()})
    raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(known)}")


def _kind(step: Any, where: str) -> str:
    if not isinstance(step, dict):
        raise ScenarioError(f"{where}: a step must be an object, got {step!r}")
    for key in step:
        if key in STEP_KINDS:
            return key
    raise ScenarioError(f"{where}: no step kind in {sorted(step)}; kinds: {', '.join(STEP_KINDS)}")


def load_scenario(name: str, config: Any = None) -> dict[str, Any]:
    """The scenario as `{"name", "description", "turns": [[step, ...], ...]}`, validated."""
    raw = _find(name, config)
    if isinstance(raw, list):
        raw = {"steps": raw}
    if not isinstance(raw, dict):
        raise ScenarioError(f"scenario {name!r} must be an object or a list of steps")
    turns = raw.get("turns") or [raw.get("steps") or []]
    for t, steps in enumerate(turns):
        for i, step in enumerate(steps):
            _kind(step, f"scenario {name!r} turn {t} step {i}")
    return {"name": raw.get("name") or name, "description": raw.get("description", ""), "turns": turns}


def _call(step: dict[str, Any]) -> dict[str, Any]:
    """A tool-call spec for `turn.model(calls=...)` from a tool / custom_tool / confirm step."""
    if "custom_tool" in step:
        return {"name": step["custom_tool"], "input": step.get("input") or {}, "custom": True}
    if "mcp" in step:
        return {"name": step["mcp"], "mcp_server": step.get("server", "mcp"), "input": step.get("input") or {},
                "result": step.get("result", ""), "is_error": bool(step.get("is_error")),
                "permission": step.get("permission")}
    if "confirm" in step:
        return {"name": step["confirm"], "input": step.get("input") or {}, "builtin": True,
                "permission": "always_ask"}
    return {"name": step["tool"], "input": step.get("input") or {}, "builtin": True,
            "permission": step.get("permission")}


class ScenarioBrain:
    def __init__(self, scenario: dict[str, Any]) -> None:
        self.scenario = scenario

    async def respond(self, turn: Any, prompt: str) -> None:
        key = f"scenario:{self.scenario['name']}"
        index = turn.rt.brain_state.get(key, 0)
        turn.rt.brain_state[key] = index + 1
        turns = self.scenario["turns"]
        if index >= len(turns):
            await turn.model(f"(scenario {self.scenario['name']} has no more turns)")
            return
        for step in turns[index]:
            await run_step(turn, step)


async def run_step(turn: Any, step: dict[str, Any]) -> None:
    kind = _kind(step, "step")
    text, think = step.get("say") if kind != "say" else step["say"], bool(step.get("think"))
    if kind in ("say", "think"):
        await turn.model(text, thinking=think or kind == "think")
    elif kind in ("tool", "custom_tool", "confirm", "mcp"):
        await turn.model(text, thinking=think, calls=[_call(step)])
    elif kind == "tools":
        await turn.model(text, thinking=think, calls=[_call(s) for s in step["tools"]])
    elif kind == "write_output":
        path = posixpath.join("/mnt/session/outputs", str(step["write_output"]))
        await turn.model(text, thinking=think, calls=[{"name": "write", "builtin": True,
                                                       "input": {"file_path": path, "content": step.get("content", "")}}])
    elif kind == "delay":
        await turn.sleep(float(step["delay"]))
    elif kind == "error":
        await turn.error(step["error"], step.get("retry_status", "retrying"), step.get("message"),
                         **(step.get("fields") or {}))
    elif kind == "reschedule":
        await turn.reschedule(float(step.get("seconds", 0.05)))
    elif kind == "refusal":
        await turn.refusal(step["refusal"], step.get("explanation"))
    elif kind == "terminate":
        await turn.terminate()
    elif kind == "thread":
        await turn.thread(**step["thread"])
    elif kind == "outcome":
        await turn.evaluate_outcome(step["outcome"], step.get("explanation", ""))
    elif kind == "event":
        turn.emit(step["event"])
