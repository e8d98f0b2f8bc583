"""The anthropic client and what goes over the wire: backends, agent/environment get-or-create,
request params built from `Options`, and the event stream of one session.
"""

from .agent_params import split_agent_ref, with_mcp_toolsets
from .client import (
    Backend,
    api_call,
    backend,
    config_hash,
    ensure_agent,
    ensure_environment,
    go_offline,
    go_online,
    make_client,
)
from .listings import list_agents, list_environments
from .session_params import session_kwargs, setup_notice, turn_events
from .stream import DeadlineExceeded, EventLoop, event_key

__all__ = ["list_agents", "list_environments", "Backend", "DeadlineExceeded", "EventLoop", "api_call", "backend", "config_hash", "ensure_agent", "ensure_environment", "event_key", "go_offline", "go_online", "make_client", "session_kwargs", "split_agent_ref", "setup_notice", "turn_events", "with_mcp_toolsets"]
