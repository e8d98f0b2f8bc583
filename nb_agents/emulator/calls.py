"""A tool use the emulated agent made, as the runtime and the turn driver both track it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Call"]


@dataclass
class Call:
    """A tool use the agent made: `kind` is builtin | custom | remote (self-hosted builtin)."""

    id: str
    name: str
    input: dict[str, Any]
    kind: str
    permission: str = "allow"  # allow | ask | deny (builtin only)
    resolved: bool = False
    decision: str | None = None  # allow | deny after a confirmation
    deny_message: str | None = None
    result: dict[str, Any] | None = None  # custom/remote: {content, is_error}
    waiting: bool = False  # named by the current requires_action idle
    denial: str = ""  # the synthetic error text if the policy denies it

    @property
    def answered(self) -> bool:
        """Whether the client's part is done (a custom result, or a confirmation for an ask)."""
        if self.kind == "custom":
            return self.resolved
        return self.permission != "ask" or self.decision is not None
