"""The kernel's worker leaves nothing behind: after `%agent local stop`, after the last local
session goes, and after a worker that died was restarted, the threads and open sockets of the
process are back where they were before local mode was used (the emulator runs in this process,
so both ends of every connection are counted)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from nb_agents.local import HOST


def open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def settled(threads: set[threading.Thread], sockets: int) -> tuple[list[str], int]:
    end = time.monotonic() + 5.0
    while True:
        extra = [t.name for t in threading.enumerate() if t not in threads and t.is_alive()]
        now = open_sockets()
        if (not extra and now <= sockets) or time.monotonic() > end:
            return extra, now
        time.sleep(0.05)


def test_stopping_the_worker_leaks_no_thread_or_socket(ip: Any, emu: Any, scenario: Any) -> None:
    ip.run_cell_magic("agent", "--out warm", scenario([{"say": "cloud warm-up"}], "warm") + "go")  # HTTP pool warm
    threads, sockets = set(threading.enumerate()), open_sockets()
    steps = [{"tool": "bash", "input": {"command": "echo hi"}}, {"say": "ok"}]
    ip.run_cell_magic("agent", "--local --auto --new --out r", scenario(steps) + "go")
    assert ip.user_ns["r"].stop_reason == "end_turn" and HOST.running
    ip.run_line_magic("agent", "local stop")
    extra, now = settled(threads, sockets)
    assert extra == [] and now <= sockets, (extra, now, sockets)
    # the worker comes back with the next cell, and goes with the last local session
    ip.run_cell_magic("agent", "--local --auto --out r2", scenario(steps, "again") + "go")
    ip.run_line_magic("agent", "new")
    assert not HOST.running
    extra, now = settled(threads, sockets)
    assert extra == [] and now <= sockets, (extra, now, sockets)
