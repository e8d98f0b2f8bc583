"""nb_agents: Claude Managed Agents in Jupyter.

`%load_ext nb_agents` registers the `%%agent` cell magic and the `%agent` line magic.
Loading is cheap: anthropic, pandas and ipywidgets are imported on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    from .magics import unregister

    unregister(ipython)
