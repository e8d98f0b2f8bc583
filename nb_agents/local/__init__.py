"""Local mode (`%%agent --local`, docs/local.md): this kernel is the worker of a self-hosted
environment, so the agent's tools run here, in a working folder, and no file is uploaded.

`worker.py` hosts the SDK's `EnvironmentWorker` on its own thread and loop (one per kernel);
`toolset.py` binds the SDK's agent toolset to each session's folder, interruptible and run once
per call; `slots.py` picks this kernel's own environment (`nb-agents-local-<host>-<n>`);
`setup.py` is what a session asks of it (folder, inputs, outputs, serve/release).
"""

from .setup import (
    LocalRun,
    attach_local,
    is_local_environment,
    local_environment_base,
    prepare_local,
    workdir_for,
)
from .toolset import STOPPED_TEXT
from .worker import HOST, LOCAL_KEY, LocalSpec, WorkerHost

__all__ = [
    "HOST",
    "LOCAL_KEY",
    "LocalRun",
    "LocalSpec",
    "STOPPED_TEXT",
    "WorkerHost",
    "attach_local",
    "is_local_environment",
    "local_environment_base",
    "prepare_local",
    "workdir_for",
]
