"""Named sessions of a kernel and their turns: `AgentSession`, the registry, `Turn`, background
and async runs, `{{name}}` interpolation and the record/cache hooks.
"""

from .background import BackgroundRun, StillRunning
from .context import user_namespace, want_live
from .recording import replay_cell
from .session import AgentSession, attach, forget, get_session, registry

__all__ = ["user_namespace", "want_live", "AgentSession", "BackgroundRun", "StillRunning", "attach", "forget", "get_session", "registry", "replay_cell"]
