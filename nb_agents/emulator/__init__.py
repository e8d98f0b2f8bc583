"""nb_agents.emulator: an offline server that speaks the Claude Managed Agents API.

`Emulator(...)` runs it in-process (a context manager: `.base_url`, `.client()`,
`.async_client()`, `.stats`, `.faults`, `.close()`); `python -m nb_agents.emulator --port N`
runs it standalone. See docs/emulator.md.
"""

from __future__ import annotations

from .common import ApiError, EmulatorConfig
from .faults import FaultConfig, Faults
from .handle import Emulator, start_emulator

__all__ = ["ApiError", "Emulator", "EmulatorConfig", "FaultConfig", "Faults", "start_emulator"]
