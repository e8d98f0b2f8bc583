"""What a test compares before and after to show nothing leaked: this process's threads and
open sockets, and a poll until both are back at their baseline."""

from __future__ import annotations

import os
import threading
import time

__all__ = ["open_sockets", "settled"]


def open_sockets() -> int:
    """How many sockets this process has open (Linux: its `/proc/self/fd` links)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:  # closed while we looked
            pass
    return count


def settled(threads: set[threading.Thread], sockets: int, within: float) -> tuple[list[str], int]:
    """Poll (up to `within` seconds) until no thread outside `threads` runs and the socket count
    is back at `sockets`; returns the extra threads' names and the socket count then."""
    end = time.monotonic() + within
    while True:
        extra = [t.name for t in threading.enumerate() if t not in threads and t.is_alive()]
        now = open_sockets()
        if (not extra and now <= sockets) or time.monotonic() > end:
            return extra, now
        time.sleep(0.05)
