"""What a session asks of local mode: its working folder, its inputs written there, the worker
serving it, the outputs it wrote, and finding all that again after `%agent attach`.

`prepare_local(name, opts, inputs, token)` checks the folder and every `--allow-path` (one-line
errors before anything is created) and writes the inputs (`files.LocalFolder`); `LocalRun.serve`
registers the session with the kernel's worker (worker.py) once it exists; `LocalRun.outputs()`
is what the turn wrote. `attach_local` rebuilds a `LocalRun` for a session made by an earlier
kernel (its metadata carries the token; the folder is the default one for its name, or `--workdir`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import backend
from ..config import Options
from ..errors import ConfigError
from ..files import clean_component
from ..files.local import LocalFolder
from .worker import HOST, LOCAL_KEY, LocalSpec, environment_key

__all__ = ["LocalRun", "attach_local", "is_local_environment", "local_environment_base", "prepare_local",
           "workdir_for"]

DEFAULT_ROOT = "agent_workspace"


def workdir_for(opts: Options, session_name: str) -> Path:
    if opts.workdir:
        return Path(opts.workdir).expanduser()
    return Path(DEFAULT_ROOT) / (re.sub(r"[/\\]", "_", clean_component(session_name)) or "default")


def _allowed(opts: Options) -> tuple[Path, ...]:
    out = []
    for raw in opts.allow_paths:
        path = Path(raw).expanduser()
        if not path.is_dir():
            raise ConfigError(f"--allow-path {raw}: not an existing folder")
        out.append(path.resolve())
    return tuple(out)


@dataclass
class LocalRun:
    """One local session's side of the kernel: its spec (folder, token) and the turn's snapshot."""

    spec: LocalSpec
    folder: LocalFolder
    prepared: Any = None
    before: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return self.spec.token

    def begin_turn(self) -> None:
        self.before = self.folder.snapshot()

    def outputs(self) -> Any:
        return self.folder.outputs(self.before)

    def serve(self, session_id: str, environment_id: str, opts: Options) -> None:
        self.spec.session_id = session_id or self.spec.session_id
        HOST.serve(self.spec, environment_id=environment_id, concurrency=opts.local_concurrency,
                   idle=opts.local_idle)

    def release(self) -> None:
        if self.spec.session_id:
            HOST.ledger.forget(self.spec.session_id)
        HOST.release(self.spec.token)


def prepare_local(session_name: str, opts: Options, inputs: dict[str, Any], token: str | None = None) -> LocalRun:
    """Check the key, the folder and the allowed paths, write the inputs; nothing is sent."""
    environment_key(backend().offline)  # the service needs the environment's key: say so before creating
    folder = LocalFolder(workdir_for(opts, session_name))
    root = folder.check()
    spec = LocalSpec(token or secrets.token_hex(12), session_name, root.resolve(), _allowed(opts))
    run = LocalRun(spec, folder)
    if inputs:
        run.prepared = folder.prepare(inputs, fmt=opts.file_format, sample=opts.sample_rows)
    return run


def local_environment_base(opts: Options) -> str:
    """`nb-agents-local`: each kernel serves `<this>-<host>-<n>` (slots.py, `HOST.environment_name`)."""
    return opts.environment_name + "-local"


def is_local_environment(client: Any, environment_id: str) -> bool:
    env = client.beta.environments.retrieve(environment_id)
    return getattr(getattr(env, "config", None), "type", None) == "self_hosted"


def attach_local(session_name: str, opts: Options, remote: Any) -> LocalRun | None:
    """The `LocalRun` of an attached session that this kernel's worker should serve, or None when
    it was not made by local mode (no token in its metadata)."""
    token = (getattr(remote, "metadata", None) or {}).get(LOCAL_KEY)
    if not token:
        return None
    run = prepare_local(session_name, opts, {}, token=str(token))
    run.serve(str(remote.id), str(remote.environment_id), opts)
    return run
