"""The anthropic client (real service or the offline emulator) and agent/environment get-or-create.

Backends: `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`; `ANTHROPIC_BASE_URL` is honoured by the
SDK) talks to the service; `%agent offline` / `go_offline()` starts the in-kernel emulator and
points every client at it. Neither -> `NoBackendError` saying how to get one.

Agents and environments are created once and found again by name + a hash of their config kept in
`metadata` (`nb_agents_config`). A changed config updates the same agent (a new version) instead of
creating one per cell; results are cached per process so a cell costs no list calls. One lock per
(backend, name, hash) makes concurrent first uses (an async fan-out in a fresh kernel) create once.

Nothing here is created twice by a retry: creates go out with the SDK's own retries off and are
retried through retry.py's policy, each attempt looking first for what a lost answer may have made
(get-or-create looks by name + hash, which also settles a 409 "already exists" from a concurrent
creator; `create_session` looks for its own metadata marker). Idempotent reads (`api_read`) are
retried the same way. `forget_cached` drops a backend's cached ids when the server no longer
knows them (sessions/session.py re-resolves once after a 400/404 on session creation).

`Backend.key` names what clients talk to, including which emulator instance: a session compares it
to remake its client after `%agent offline`, `go_online()` or `using_emulator(...)`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from ..config import Options
from ..errors import AgentAPIError, NoBackendError, format_api_error
from .agent_params import agent_params, cleared_fields, environment_config, split_agent_ref
from .retry import ATTEMPTS, retrying

__all__ = [
    "Backend",
    "backend",
    "backend_kind",
    "go_offline",
    "go_online",
    "make_client",
    "make_async_client",
    "ensure_agent",
    "ensure_agent_and_environment",
    "ensure_environment",
    "config_hash",
    "api_call",
    "api_error",
    "create_once",
    "alongside",
    "api_read",
    "create_session",
    "forget_cached",
    "DEFAULT_SYSTEM",
]

T = TypeVar("T")

DEFAULT_SYSTEM = (
    "You are a data-science assistant working for a user in a Jupyter notebook. Input files are "
    "mounted under /mnt/session/uploads/. Write every deliverable (charts, tables, reports) under "
    "/mnt/session/outputs/ so the notebook receives it. Answer in concise markdown."
)
HASH_KEY = "nb_agents_config"
TOOLSET = {"type": "agent_toolset_20260401"}
MARKER_KEY = "nb_agents_create"  # session metadata: the one creation request it answers
READ_ATTEMPTS = 3  # of `api_read`; the SDK itself tries each of them three times

_lock = threading.Lock()
_emulator: Any = None
_generation = 0  # bumped whenever the emulator in use changes (`Backend.key`)
_cache: dict[tuple[str, str, str], str] = {}
_key_locks: dict[tuple[str, str, str], threading.Lock] = {}


class Backend:
    """What the next client talks to: `kind` is "emulator" or "service"; `key` tells two
    backends apart even at one URL (an emulator restarted by `go_online()` + `go_offline()`)."""

    def __init__(self, kind: str, base_url: str | None, generation: int = 0) -> None:
        self.kind = kind
        self.base_url = base_url
        self.key = (kind, base_url, generation)

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
            _switched()
        return _emulator


def go_online() -> None:
    """Stop the in-kernel emulator (if any) and go back to the service."""
    global _emulator
    with _lock:
        emu, _emulator = _emulator, None
        _switched()
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
        _switched()
    try:
        yield server
    finally:
        with _lock:
            _emulator = previous
            _switched()


def _switched() -> None:
    """The backend changed (under `_lock`): cached ids belong to the old one, sessions follow."""
    global _generation
    _generation += 1
    _cache.clear()


def backend() -> Backend:
    if _emulator is not None:
        return Backend("emulator", str(_emulator.base_url), _generation)
    if os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"):
        return Backend("service", os.environ.get("ANTHROPIC_BASE_URL"), _generation)
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


def api_read(fn: Any, *args: Any, **kw: Any) -> Any:
    """`api_call` for an idempotent read (a retrieve, a list), tried again after a transient
    failure (retry.py): a few 5xx in a row in an error storm do not fail a cell."""
    return retrying(lambda: api_call(fn, *args, **kw), attempts=READ_ATTEMPTS)


def _agent_config(opts: Options) -> dict[str, Any]:
    return agent_params(opts, {"model": opts.model, "system": opts.system or DEFAULT_SYSTEM, "tools": [TOOLSET]})


def _find_by_name(pages: Any, name: str) -> Any:
    for item in pages:  # (iterating fetches the next pages: call inside `api_call`)
        if item.name == name and getattr(item, "archived_at", None) is None:
            return item
    return None


def forget_cached(client: Any) -> None:
    """Forget the agent/environment ids cached for `client`'s backend (the server lost them)."""
    base = str(client.base_url)
    with _lock:
        for key in [k for k in _cache if k[0] == base]:
            del _cache[key]


def _key_lock(key: tuple[str, str, str]) -> threading.Lock:
    with _lock:
        return _key_locks.setdefault(key, threading.Lock())


def ensure_agent(client: Any, opts: Options) -> str:
    """The id of the agent for `opts` (get-or-create by name + config hash; update -> new version)."""
    if opts.agent_id:
        return split_agent_ref(opts.agent_id)[0]
    config = _agent_config(opts)  # an update keeps omitted fields: `cleared_fields` clears them
    return _get_or_create(client, "agents", opts.agent_name, opts.agent_name, config,
                          create=config, update={**config, **cleared_fields(config)})


def _environment_config(opts: Options) -> dict[str, Any]:
    return environment_config(opts)


def ensure_environment(client: Any, opts: Options, name: str | None = None) -> str:
    """The id of the environment for `opts` (get-or-create by name + config hash; update in place);
    `name` (local mode: this kernel's own, local/slots.py) instead of the one `opts` names."""
    if opts.environment_id:
        return opts.environment_id
    config = _environment_config(opts)
    body = {"config": config}
    # A config's type cannot change: local mode has its own environment beside the cloud one.
    name = name or opts.environment_name + ("-local" if opts.local else "")
    return _get_or_create(client, "environments", name, "env:" + name, config, create=body, update=body)


def ensure_agent_and_environment(client: Any, opts: Options, environment: str | None = None) -> tuple[str, str]:
    """`(ensure_agent(...), ensure_environment(..., environment))`, looked up at the same time:
    each is a list and maybe a create, so a new session waits for the slower of the two instead
    of both, one or two round trips less on its first cell. The environment's look-up runs on a
    short-lived thread; an error of either is raised here (the agent's first)."""
    if opts.agent_id or opts.environment_id:  # one of them is given: nothing to overlap
        return ensure_agent(client, opts), ensure_environment(client, opts, environment)
    with alongside(lambda: ensure_environment(client, opts, environment), "nb_agents-environment") as env:
        agent = ensure_agent(client, opts)
        return agent, env.result()


@contextmanager
def alongside(fn: Callable[[], T], name: str) -> Iterator[Future[T]]:
    """`fn()` on a short-lived thread while the caller goes on (`.result()` waits for it). Left
    by an exception (a failure, Ctrl-C), it does not wait: `fn`'s result is dropped, and an
    interrupted cell ends at once instead of after a request that may take minutes."""
    pool = ThreadPoolExecutor(1, thread_name_prefix=name)
    try:
        yield pool.submit(fn)
    finally:
        pool.shutdown(wait=False)


def _get_or_create(client: Any, kind: str, name: str, cache_name: str, config: dict[str, Any], *,
                   create: dict[str, Any], update: dict[str, Any]) -> str:
    """The id of the live resource called `name` whose metadata holds `config`'s hash: reused as
    is, updated when the hash differs (the agent gets a new version), created when there is none.
    One caller at a time per (backend, name, hash); a failed attempt is retried from the look-up,
    so a create whose answer was lost, or that lost a race (409), finds what exists."""
    digest = config_hash(config)
    key = (str(client.base_url), cache_name, digest)
    with _key_lock(key):
        if key in _cache:
            return _cache[key]
        resources = getattr(client.beta, kind)
        once = getattr(client.with_options(max_retries=0).beta, kind)  # a retry looks before it creates
        metadata = {HASH_KEY: digest, "created_by": "nb_agents"}

        def attempt() -> Any:
            found = api_call(lambda: _find_by_name(resources.list(limit=100), name))
            if found is None:
                return api_call(once.create, name=name, metadata=metadata, **create)
            if (found.metadata or {}).get(HASH_KEY) != digest:
                return api_call(once.update, found.id, metadata=metadata, **update)
            return found

        made = retrying(attempt, attempts=ATTEMPTS)
        _cache[key] = str(made.id)
        return str(made.id)


def _agent_id(agent: Any) -> str:
    return str(agent if isinstance(agent, str) else agent["id"])


def create_once(create: Callable[[], T], find: Callable[[], T | None]) -> T:
    """`create()` through the retry policy (SDK retries off in `create`), never leaving a second
    resource behind: after a failed attempt, `find()` looks for what a create whose answer was
    lost made, and only when it finds nothing is the create sent again."""
    sent = False

    def attempt() -> T:
        nonlocal sent
        if sent:
            found = api_call(find)
            if found is not None:
                return found
        sent = True
        return api_call(create)

    return retrying(attempt, attempts=ATTEMPTS)


def create_session(client: Any, **params: Any) -> Any:
    """`sessions.create(**params)`, safe to retry: the request carries a marker in its metadata;
    after a transient failure the agent's recent sessions are searched for it before creating
    again (`create_once`), so a lost answer never leaves a second session behind."""
    marker = uuid.uuid4().hex
    params = {**params, "metadata": {**(params.get("metadata") or {}), MARKER_KEY: marker}}
    once = client.with_options(max_retries=0).beta.sessions

    def find() -> Any:
        recent = client.beta.sessions.list(agent_id=_agent_id(params["agent"]), limit=20, order="desc")
        return next((s for s in recent.data if (s.metadata or {}).get(MARKER_KEY) == marker), None)

    return create_once(lambda: once.create(**params), find)
