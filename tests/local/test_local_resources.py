"""The kernel's worker leaves nothing behind: after `%agent local stop`, after the last local
session goes, and after a worker that died was restarted, the threads and open sockets of the
process are back where they were before local mode was used (the emulator runs in this process,
so both ends of every connection are counted)."""

from __future__ import annotations

import threading
from typing import Any

from leak_kit import open_sockets, settled

from nb_agents.local import HOST


def test_stopping_the_worker_leaks_no_thread_or_socket(ip: Any, emu: Any, scenario: Any) -> None:
    ip.run_cell_magic("agent", "--out warm", scenario([{"say": "cloud warm-up"}], "warm") + "go")  # HTTP pool warm
    threads, sockets = set(threading.enumerate()), open_sockets()
    steps = [{"tool": "bash", "input": {"command": "echo hi"}}, {"say": "ok"}]
    ip.run_cell_magic("agent", "--local --auto --new --out r", scenario(steps) + "go")
    assert ip.user_ns["r"].stop_reason == "end_turn" and HOST.running
    ip.run_line_magic("agent", "local stop")
    extra, now = settled(threads, sockets, within=5.0)
    assert extra == [] and now <= sockets, (extra, now, sockets)
    # the worker comes back with the next cell, and goes with the last local session
    ip.run_cell_magic("agent", "--local --auto --out r2", scenario(steps, "again") + "go")
    ip.run_line_magic("agent", "new")
    assert not HOST.running
    extra, now = settled(threads, sockets, within=5.0)
    assert extra == [] and now <= sockets, (extra, now, sockets)
