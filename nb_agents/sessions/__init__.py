"""Named sessions of a kernel and their turns: `AgentSession`, the registry, `Turn`, background
and async runs, `{{name}}` interpolation and the record/cache hooks.
"""

from .background import BackgroundRun, StillRunning
from .recording import replay_cell
from .session import AgentSession, attach, forget, get_session, registry

__all__ = ["AgentSession", "BackgroundRun", "StillRunning", "attach", "forget", "get_session", "registry", "replay_cell"]
