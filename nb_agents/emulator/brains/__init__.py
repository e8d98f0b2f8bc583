"""What the emulated agent does on a turn: the brains.

A brain has `async respond(turn, prompt)` and acts only through the `Turn` primitives
(`turn.model(...)`, `turn.sleep`, errors, threads, outcomes), so every brain produces the
same faithful event lifecycle. Which brain answers is chosen, first match wins, by a
directive line in the user text (`[[emulator: echo]]`, `[[emulator: analyst]]`,
`[[emulator: scenario NAME]]`), the session's then the agent's `metadata.emulator_brain`
(`analyst`, `echo`, `scenario:NAME`), the server's `config.brain`, else the analyst.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from .analyst import AnalystBrain
from .echo import EchoBrain, SayBrain
from .scenario import ScenarioBrain, ScenarioError, load_scenario

__all__ = ["Brain", "pick_brain", "brain_for", "parse_directive", "load_scenario", "ScenarioError",
           "AnalystBrain", "EchoBrain", "ScenarioBrain"]

_DIRECTIVE = re.compile(r"^[ \t]*\[\[\s*emulator\s*:\s*([^\]]*?)\s*\]\][ \t]*\r?\n?", re.MULTILINE | re.IGNORECASE)


class Brain(Protocol):
    async def respond(self, turn: Any, prompt: str) -> None: ...


def parse_directive(text: str) -> tuple[str | None, str]:
    """(the first directive's spec or None, the text without directive lines)."""
    found = _DIRECTIVE.search(text)
    cleaned = _DIRECTIVE.sub("", text).strip()
    return (found.group(1).strip() if found else None), cleaned


def brain_for(spec: str, config: Any = None) -> Brain:
    """`analyst` | `echo` | `scenario NAME` | `scenario:NAME` (NAME may be a .json path)."""
    kind, _, arg = spec.strip().replace(":", " ", 1).partition(" ")
    kind, arg = kind.lower(), arg.strip()
    if kind == "analyst":
        return AnalystBrain()
    if kind == "echo":
        return EchoBrain()
    if kind == "scenario" and arg:
        try:
            return ScenarioBrain(load_scenario(arg, config))
        except ScenarioError as e:
            return SayBrain(f"Offline emulator: {e}")
    return SayBrain(f"Offline emulator: unknown brain {spec!r} (use analyst, echo or scenario NAME).")


def pick_brain(rt: Any, text: str) -> tuple[Brain, str]:
    directive, prompt = parse_directive(text)
    spec = (directive or (rt.session.get("metadata") or {}).get("emulator_brain")
            or rt.agent_metadata.get("emulator_brain") or getattr(rt.config, "brain", None) or "analyst")
    return brain_for(spec, rt.config), prompt
