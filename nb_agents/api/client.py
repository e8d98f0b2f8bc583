"""The anthropic client (real service or the offline emulator) and agent/environment get-or-create.

Backends: `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`; `ANTHROPIC_BASE_URL` is honoured by the
SDK) talks to the service; `%agent offline` / `go_offline()` starts the in-kernel emulator and
points every client at it. Neither -> `NoBackendError` saying how to get one.

Agents and environments are created once and found again by name + a hash of their config kept in
`metadata` (`nb_agents_config`). A changed config updates the same agent (a new version) instead of
creating one per cell; results are cached per process so a cell costs no list calls.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..config import Options
from ..errors import AgentAPIError, NoBackendError, format_api_error
from .agent_params import agent_params, cleared_fields, environment_config, split_agent_ref

__all__ = [
    "Backend",
    "backend",
    "backend_kind",
    "go_offline",
    "go_online",
    "make_client",
    "make_async_client",
    "ensure_agent",
    "ensure_environment",
    "config_hash",
    "api_call",
    "api_error",
    "DEFAULT_SYSTEM",
]

DEFAULT_SYSTEM = (
    "You are a data-science assistant working for a user in a Jupyter notebook. Input files are "
    "mounted under /mnt/session/uploads/. Write every deliverable (charts, tables, reports) under "
    "/mnt/session/outputs/ so the notebook receives it. Answer in concise markdown."
)
HASH_KEY = "nb_agents_config"
TOOLSET = {"type": "agent_toolset_20260401"}

_lock = threading.Lock()
_emulator: Any = None
_cache: dict[tuple[str, str, str], str] = {}


class Backend:
    """What the next client talks to: `kind` is "emulator" or "service"."""

    def __init__(self, kind: str, base_url: str | None) -> None:
        self.kind = kind
        self.base_url = base_url

    @property
    def offline(self) -> bool:
        return self.kind == "emulator"

    def __repr__(self) -> str:
        return f"Backend({self.kind!r}, {self.base_url!r})"


def go_offline(**emulator_kw: Any) -> Any:
    """Start (once) the in-kernel emulator and use it for every client; returns the Emulator."""
    global _emulator
    with _lock:
        if _emulator is None:
            from ..emulator import Emulator

            _emulator = Emulator(**emulator_kw).start()
            _cache.clear()
        return _emulator


def go_online() -> None:
    """Stop the in-kernel emulator (if any) and go back to the service."""
    global _emulator
    with _lock:
        emu, _emulator = _emulator, None
        _cache.clear()
    if emu is not None:
        emu.close()


@contextmanager
def using_emulator(server: Any) -> Iterator[Any]:
    """Within the block every new client talks to `server`: an `Emulator` started elsewhere, or
    anything with a `base_url` (a proxy in front of one); `None` means the service. The cached
    agent/environment ids are forgotten on the way in and out: they belong to one backend."""
    global _emulator
    with _lock:
        previous, _emulator = _emulator, server
        _cache.clear()
    try:
        yield server
    finally:
        with _lock:
            _emulator = previous
            _cache.clear()


def backend() -> Backend:
    if _emulator is not None:
        return Backend("emulator", str(_emulator.base_url))
    if os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"):
        return Backend("service", os.environ.get("ANTHROPIC_BASE_URL"))
    raise NoBackendError(
        "no backend: set ANTHROPIC_API_KEY (e.g. %env ANTHROPIC_API_KEY=sk-ant-...) "
        "or run `%agent offline` to use the built-in emulator"
    )


def backend_kind() -> str | None:
    """"emulator" or "service" for what the next client talks to, None when there is no backend
    yet: what recordings, cache keys and a run's provenance say about where an answer came from."""
    try:
        return backend().kind
    except NoBackendError:
        return None


def _client_kwargs(opts: Options | None, kw: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments of a client for the current backend, for both client classes:
    `offline=True` in opts starts the emulator first."""
    if opts is not None and opts.offline and _emulator is None:
        go_offline()
    where = backend()
    if where.offline:
        return {"base_url": where.base_url, "api_key": "offline-emulator", **kw}
    return kw


def make_client(opts: Options | None = None, **kw: Any) -> Any:
    """An `anthropic.Anthropic` for the current backend (`offline=True` in opts starts the emulator)."""
    kwargs = _client_kwargs(opts, kw)
    import anthropic

    return anthropic.Anthropic(**kwargs)


def make_async_client(opts: Options | None = None, **kw: Any) -> Any:
    """`make_client`'s `anthropic.AsyncAnthropic` twin. Make one per event loop and close it
    there: an async connection pool is bound to the loop that opened it."""
    kwargs = _client_kwargs(opts, kw)
    import anthropic

    return anthropic.AsyncAnthropic(**kwargs)


def config_hash(config: dict[str, Any]) -> str:
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def api_error(exc: BaseException) -> AgentAPIError:
    """The one-line `AgentAPIError` for an SDK failure (an `APIStatusError` or an
    `APIConnectionError`), carrying the status, or that no answer came."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return AgentAPIError(format_api_error(exc), status=status)
    return AgentAPIError(f"cannot reach the API: {exc}", connection=True)


def api_call(fn: Any, *args: Any, **kw: Any) -> Any:
    """Call the SDK; API failures become one-line `AgentAPIError`s (status, message, request id)."""
    import anthropic

    try:
        return fn(*args, **kw)
    except (anthropic.APIStatusError, anthropic.APIConnectionError) as exc:
        raise api_error(exc) from exc


def _agent_config(opts: Options) -> dict[str, Any]:
    return agent_params(opts, {"model": opts.model, "system": opts.system or DEFAULT_SYSTEM, "tools": [TOOLSET]})


def _find_by_name(pages: Any, name: str) -> Any:
    for item in pages:
        if item.name == name and getattr(item, "archived_at", None) is None:
            return item
    return None


def ensure_agent(client: Any, opts: Options) -> str:
    """The id of the agent for `opts` (get-or-create by name + config hash; update -> new version)."""
    if opts.agent_id:
        return split_agent_ref(opts.agent_id)[0]
    config = _agent_config(opts)  # an update keeps omitted fields: `cleared_fields` clears them
    return _get_or_create(client.beta.agents, client, opts.agent_name, opts.agent_name, config,
                          create=config, update={**config, **cleared_fields(config)})


def _environment_config(opts: Options) -> dict[str, Any]:
    return environment_config(opts)


def ensure_environment(client: Any, opts: Options) -> str:
    """The id of the environment for `opts` (get-or-create by name + config hash; update in place)."""
    if opts.environment_id:
        return opts.environment_id
    config = _environment_config(opts)
    body = {"config": config}
    return _get_or_create(client.beta.environments, client, opts.environment_name,
                          "env:" + opts.environment_name, config, create=body, update=body)


def _get_or_create(resources: Any, client: Any, name: str, cache_name: str, config: dict[str, Any], *,
                   create: dict[str, Any], update: dict[str, Any]) -> str:
    """The id of the live resource called `name` whose metadata holds `config`'s hash: reused as
    is, updated when the hash differs (the agent gets a new version), created when there is none."""
    digest = config_hash(config)
    key = (str(client.base_url), cache_name, digest)
    if key in _cache:
        return _cache[key]
    found = _find_by_name(api_call(resources.list, limit=100), name)
    metadata = {HASH_KEY: digest, "created_by": "nb_agents"}
    if found is None:
        made = api_call(resources.create, name=name, metadata=metadata, **create)
    elif (found.metadata or {}).get(HASH_KEY) != digest:
        made = api_call(resources.update, found.id, metadata=metadata, **update)
    else:
        made = found
    _cache[key] = made.id
    return str(made.id)
