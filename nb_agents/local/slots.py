"""Which self-hosted environment this kernel serves: `nb-agents-local-<host>-<n>`.

The work API routes work by environment only, so two kernels serving one environment would claim
each other's sessions. Each kernel takes slot n, the lowest one no other kernel on this machine
holds, by an exclusive non-blocking `fcntl.flock` on `<cache>/nb_agents/local-slots/<backend>/<n>.lock`
(the platform's cache folder; one folder per backend kind + URL, so the emulator and the service
never share slots), for as long as the kernel's `WorkerHost` keeps it. The lock dies with the
process, so a restarted kernel finds a free slot again (often the same one), and the environment
of that slot is found again by name + config hash: a machine has as many environments as it ever
had kernels at once, never one per kernel start. Where no lock can be taken (no `fcntl`, a cache
folder that cannot be written) the name is per process instead, and `Slot.note` says so.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_SLOTS", "Slot", "short_host", "slot_folder", "take_slot"]

MAX_SLOTS = 64


def slot_folder() -> Path:
    """The platform's per-user cache folder, `nb_agents/local-slots` in it."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nb_agents" / "local-slots"


def short_host() -> str:
    """This machine's short name, as an environment name may spell it."""
    name = re.sub(r"[^a-z0-9-]+", "-", socket.gethostname().split(".")[0].lower()).strip("-")
    return name[:32] or "kernel"


@dataclass
class Slot:
    """Slot `number` held through the open file `fd`; `number is None`: no lock (per-process name)."""

    key: str
    number: int | None
    fd: int | None = None
    note: str | None = None  # why there is no slot (one line for the user)

    def name(self, base: str) -> str:
        tail = str(self.number) if self.number is not None else f"p{os.getpid()}"
        return f"{base}-{short_host()}-{tail}"

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor of the open file drops its flock


def take_slot(backend_key: str, only: int | None = None) -> Slot:
    """The lowest free slot for `backend_key` (e.g. "emulator:http://127.0.0.1:8123"), held until
    `release()`; a per-process `Slot` when locks cannot be taken here. `only`: that slot or none
    (a `Slot` with `number=None` and a note when another kernel holds it)."""
    folder = slot_folder() / hashlib.sha256(backend_key.encode()).hexdigest()[:16]
    try:
        import fcntl
    except ImportError:  # Windows: no flock
        return Slot(backend_key, None, note="local mode: no file locks on this platform: this kernel "
                                            "serves an environment of its own process")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(MAX_SLOTS) if only is None else (only,):
            fd = os.open(folder / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            return Slot(backend_key, number, fd)
        if only is not None:
            return Slot(backend_key, None, note=f"local mode: another kernel of this machine took slot {only} "
                                                "while this one was stopped: both serve its environment now")
        why = f"all {MAX_SLOTS} slots are held"
    except OSError as exc:
        why = f"{folder} is not writable ({exc.strerror or exc})"
    return Slot(backend_key, None, note=f"local mode: {why}: this kernel serves an environment of its own "
                                        "process (it is not reused after a restart)")
