"""Named sessions of a kernel and their turns: `AgentSession`, the registry, `Turn`, background
and async runs, `{{name}}` interpolation and the record/cache hooks.
"""

from .background import BackgroundRun, StillRunning
from .context import user_namespace, want_live
from .interpolate import interpolate
from .recording import replay_cell
from .session import AgentSession, attach, forget, get_session, registry
from .turn import Turn

__all__ = [
    "AgentSession",
    "BackgroundRun",
    "StillRunning",
    "Turn",
    "attach",
    "forget",
    "get_session",
    "interpolate",
    "registry",
    "replay_cell",
    "user_namespace",
    "want_live",
]
