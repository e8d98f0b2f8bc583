"""The anthropic client and what goes over the wire: backends, agent/environment get-or-create,
request params built from `Options`, the event stream of one session (sync and async drivers
over one core), and the retry policy every caller shares.
"""

from .agent_params import split_agent_ref, with_mcp_toolsets
from .async_stream import AsyncEventLoop
from .client import (
    Backend,
    api_call,
    api_error,
    backend,
    config_hash,
    ensure_agent,
    ensure_environment,
    go_offline,
    go_online,
    make_async_client,
    make_client,
)
from .retry import backoff, is_retryable
from .session_params import Outcome, outcome_of, session_kwargs, surface_notice, turn_events
from .stream import BaseEventLoop, DeadlineExceeded, EventLoop, event_key

__all__ = ["AsyncEventLoop", "Backend", "BaseEventLoop", "DeadlineExceeded", "EventLoop", "Outcome", "api_call",
           "api_error", "backend", "backoff", "config_hash", "ensure_agent", "ensure_environment", "event_key",
           "go_offline", "go_online", "is_retryable", "make_async_client", "make_client", "outcome_of",
           "session_kwargs", "split_agent_ref", "surface_notice", "turn_events", "with_mcp_toolsets"]

