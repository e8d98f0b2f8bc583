"""nb_agents: Claude Managed Agents in Jupyter.

`%load_ext nb_agents` registers the `%%agent` cell magic and the `%agent` line magic.
Loading is cheap: anthropic, pandas and ipywidgets are imported on first use, and so are the
public names below (resolved lazily by `__getattr__`).

Python API (mirrors the magics):
    nb_agents.session(name="default", **options).ask(prompt) -> Run
    nb_agents.session(...).ask(prompt, background=True) -> BackgroundRun (.wait(), await, .interrupt())
    await nb_agents.session(...).ask_async(prompt) -> Run
    nb_agents.map(template, items, concurrency=8, ...) -> MapResult (one session per item)
    nb_agents.attach(session_id, name=None) -> AgentSession
    nb_agents.runs(schedule_name) -> [ScheduledRun] oldest first (`.wait(timeout=...)` -> Run)
    nb_agents.offline() -> the in-kernel emulator (like `%agent offline`)
    nb_agents.memory(name) -> MemoryStore (.list() .read(path) .write(path, text) .delete(path)
                              .history(path) .redact(version)); created when the name is new
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _moved
from ._version import __version__

_moved.install()

__all__ = [
    "AgentSession",
    "BackgroundRun",
    "DryRun",
    "MapResult",
    "NbAgentsError",
    "Run",
    "__version__",
    "attach",
    "load_ipython_extension",
    "map",
    "memory",
    "offline",
    "replay",
    "runs",
    "session",
    "tool",
    "unload_ipython_extension",
]

# public name -> (module, attribute), imported on first access
_LAZY = {
    "AgentSession": ("sessions", "AgentSession"),
    "BackgroundRun": ("sessions", "BackgroundRun"),
    "MapResult": ("fanout", "MapResult"),
    "map": ("fanout", "map"),
    "DryRun": ("run", "DryRun"),
    "NbAgentsError": ("errors", "NbAgentsError"),
    "Run": ("run", "Run"),
    "attach": ("sessions", "attach"),
    "replay": ("record", "replay"),
    "runs": ("sessions.schedules", "runs"),
    "tool": ("tools", "tool"),
}

if TYPE_CHECKING:
    from .errors import NbAgentsError
    from .fanout import MapResult, map
    from .record import replay
    from .run import DryRun, Run
    from .sessions import AgentSession, BackgroundRun, attach
    from .sessions.schedules import runs
    from .tools import tool


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nb_agents' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def session(name: str = "default", **options: Any) -> AgentSession:
    """The named session of this kernel (created on first use); `options` are its defaults
    (model=, system=, timeout=, verbose=... as in `%config AgentMagic`)."""
    from .sessions import get_session

    return get_session(name, **options)


def memory(name: str, *, create: bool = True) -> Any:
    """The memory store `name` (or its id), created when no store has that name (`create=False`:
    a one-line error instead): `.list()`, `.read(path)`, `.write(path, text)`, `.delete(path)`,
    `.history(path)`, `.redact(version)`. Sessions attach it with `--memory NAME`."""
    from .api import memory as store

    return store(name, create=create)


def offline(**emulator_kw: Any) -> Any:
    """Start the built-in emulator in this process and use it (same as `%agent offline`)."""
    from .api import go_offline

    return go_offline(**emulator_kw)


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    from .ipython import register

    register(ipython)


def unload_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    from .ipython import unregister

    unregister(ipython)
