"""Output paths checked before anything is spent: a cell that will write a file (a cassette, the
cache, pulled outputs) learns now, in one line, that it cannot — not after a paid turn ran.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError

__all__ = ["check_writable"]


def check_writable(path: str | os.PathLike[str], what: str, *, suffix: str = "") -> Path:
    """The file `path` (with `suffix` added unless it ends so) can be written: it is not a folder,
    and its nearest existing ancestor is a writable folder (the folders below it are made when
    writing). Returns the path; a `ConfigError` naming `what` (e.g. `--record`) otherwise."""
    target = Path(path).expanduser()
    if suffix and target.suffix != suffix:
        target = target.with_name(target.name + suffix)
    if target.is_dir():
        raise ConfigError(f"{what}: cannot write {target}: it is a directory")
    probe = target.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"{what}: cannot write {target}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"{what}: cannot write {target}: {probe} is not writable")
    return target
