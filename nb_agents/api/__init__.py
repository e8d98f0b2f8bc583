"""The anthropic client and what goes over the wire: backends, agent/environment get-or-create,
request params built from `Options`, memory stores and vaults by name, the event stream of one session (sync and async drivers
over one core), and the retry policy every caller shares.
"""

from .agent_params import split_agent_ref, with_mcp_toolsets
from .async_stream import AsyncEventLoop
from .client import (
    Backend,
    api_call,
    api_error,
    api_read,
    backend,
    backend_kind,
    config_hash,
    create_once,
    create_session,
    ensure_agent,
    ensure_agent_and_environment,
    ensure_environment,
    forget_cached,
    go_offline,
    go_online,
    make_async_client,
    make_client,
    using_emulator,
)
from .listings import list_agents, list_environments
from .memory_stores import MemoryStore, list_memory_stores, memory
from .retry import backoff, is_retryable, retry_wait, retrying
from .session_params import session_kwargs, setup_notice, turn_events
from .stream import INTERRUPT, BaseEventLoop, DeadlineExceeded, EventLoop, event_key
from .vaults import add_mcp_token, check_mcp_url, list_vaults

__all__ = [
    "AsyncEventLoop",
    "Backend",
    "BaseEventLoop",
    "DeadlineExceeded",
    "EventLoop",
    "INTERRUPT",
    "MemoryStore",
    "add_mcp_token",
    "api_call",
    "api_error",
    "api_read",
    "backend",
    "backend_kind",
    "backoff",
    "check_mcp_url",
    "config_hash",
    "create_once",
    "create_session",
    "ensure_agent",
    "ensure_agent_and_environment",
    "ensure_environment",
    "event_key",
    "forget_cached",
    "go_offline",
    "go_online",
    "is_retryable",
    "list_agents",
    "list_environments",
    "list_memory_stores",
    "list_vaults",
    "make_async_client",
    "make_client",
    "retry_wait",
    "memory",
    "retrying",
    "session_kwargs",
    "setup_notice",
    "split_agent_ref",
    "turn_events",
    "using_emulator",
    "with_mcp_toolsets",
]
