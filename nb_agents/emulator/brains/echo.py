"""The smallest brains: echo (answers the user's text back) and a fixed message."""

from __future__ import annotations

from typing import Any

__all__ = ["EchoBrain", "SayBrain"]


class EchoBrain:
    """One model request whose agent.message is exactly the user's text."""

    async def respond(self, turn: Any, prompt: str) -> None:
        await turn.model(prompt or "(empty message)")


class SayBrain:
    """One model request with a fixed text (unknown scenario, unknown brain...)."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def respond(self, turn: Any, prompt: str) -> None:
        await turn.model(self.text)
