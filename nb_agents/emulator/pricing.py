"""Synthetic token usage and list cost for the emulator's model requests.

Nothing here is measured: token counts are derived from text lengths (about four
characters per token, plus a fixed system/tool-definition overhead) so that they are
consistent from one run to the next, and cost follows the public list prices per model
family plus the $0.08/hour session runtime charge. docs/emulator.md documents the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHARS_PER_TOKEN", "SYSTEM_OVERHEAD_TOKENS", "Prices", "prices_for", "tokens", "Meter"]

CHARS_PER_TOKEN = 4
SYSTEM_OVERHEAD_TOKENS = 2400  # system prompt + toolset definitions, cached on the first request
THINKING_TOKENS = 24
RUNTIME_USD_PER_HOUR = 0.08


@dataclass(frozen=True)
class Prices:
    """USD per million tokens."""

    input: float
    output: float

    @property
    def cache_write(self) -> float:  # 5-minute cache writes cost 1.25x input
        return self.input * 1.25

    @property
    def cache_read(self) -> float:  # cache hits cost 0.1x input
        return self.input * 0.1


_FAMILIES = {"opus": Prices(5.0, 25.0), "sonnet": Prices(3.0, 15.0), "haiku": Prices(1.0, 5.0)}


def prices_for(model: Any) -> Prices:
    """List prices for a model id (or `{id: ...}` config); unknown families price as Sonnet."""
    model_id = model.get("id", "") if isinstance(model, dict) else str(model or "")
    for family, prices in _FAMILIES.items():
        if family in model_id:
            return prices
    return _FAMILIES["sonnet"]


def tokens(text: str) -> int:
    """Synthetic token count of a text: ceil(chars / 4)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass
class Meter:
    """Cumulative usage of one session; `request()` prices one model request."""

    prices: Prices
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    active_seconds: float = 0.0
    _context: int = 0  # tokens already in the cached prefix
    _fresh: int = 0  # tokens added since the last request (user text, tool results)
    _requests: int = field(default=0)

    def add_input(self, text: str) -> None:
        self._fresh += tokens(text)

    def request(self, output_text: str, *, thinking: bool = False) -> dict[str, Any]:
        """Usage of one model request (the `model_usage` of its span end)."""
        creation = SYSTEM_OVERHEAD_TOKENS if self._requests == 0 else 0
        fresh = max(1, self._fresh)
        output = max(1, tokens(output_text) + (THINKING_TOKENS if thinking else 0))
        usage = {"input_tokens": fresh, "output_tokens": output, "cache_read_input_tokens": self._context,
                 "cache_creation_input_tokens": creation, "speed": None}
        self._requests += 1
        self.input_tokens += fresh
        self.output_tokens += output
        self.cache_read_input_tokens += self._context
        self.cache_creation_input_tokens += creation
        # what this request read and wrote becomes part of the next request's cached prefix
        self._context += creation + fresh + output
        self._fresh = 0
        return usage

    def cost_usd(self) -> float:
        """Unrounded list cost so far (budgets are enforced on this value)."""
        p = self.prices
        model = (
            self.input_tokens * p.input
            + self.output_tokens * p.output
            + self.cache_creation_input_tokens * p.cache_write
            + self.cache_read_input_tokens * p.cache_read
        ) / 1_000_000
        return model + self.active_seconds * RUNTIME_USD_PER_HOUR / 3600

    def snapshot(self) -> dict[str, Any]:
        """The wire `usage` object (Session.usage and session.usage events)."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_input_tokens,
                "ephemeral_1h_input_tokens": 0,
            },
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "list_cost": {"amount": str(round(self.cost_usd() * 100)), "currency": "USD"},
            "active_seconds": round(self.active_seconds, 3),
        }
