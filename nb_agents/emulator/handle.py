"""The in-process emulator: uvicorn on 127.0.0.1 at a free port, in a daemon thread.

```python
with Emulator(brain="echo") as emu:
    client = emu.client()          # anthropic.Anthropic(base_url=emu.base_url, api_key="emulator-key")
    emu.faults.fail_next(1, 529)   # change faults while it runs
    emu.stats["sessions_created"]
```
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import socket
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import uvicorn

from .common import EmulatorConfig
from .faults import FaultConfig, Faults
from .server import create_app, shutdown
from .store import Store

__all__ = ["Emulator", "start_emulator", "bind_socket"]

API_KEY = "emulator-key"


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; port 0 lets the OS pick a free port (no race with other servers).

    TCP, said explicitly (`IPPROTO_TCP`, so asyncio sets TCP_NODELAY on each accepted connection)
    and with TCP_NODELAY on the listener too: without it, every request on a kept-alive connection
    waited ~40 ms (the response's second segment held until the client's delayed ACK), which made
    every extra request of a turn cost 40 ms against the emulator (docs/benchmarks.md)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_config(brain: str = "analyst", faults: Any = None, **config: Any) -> EmulatorConfig:
    known = {f.name for f in dataclasses.fields(EmulatorConfig)}
    unknown = set(config) - known
    if unknown:
        raise TypeError(
            f"unknown emulator setting(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    for key in ("scenario_dirs",):
        if key in config:
            config[key] = [Path(p) for p in config[key]]
    return EmulatorConfig(brain=brain, faults=faults, **config)


class Emulator:
    """A running emulator server. Use as a context manager or call `.start()` / `.close()`."""

    def __init__(
        self,
        brain: str = "analyst",
        faults: FaultConfig | dict[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **config: Any,
    ) -> None:
        self.config = make_config(brain, faults, **config)
        self._tmp: str | None = None
        self.store = Store()
        self.faults = Faults.from_any(faults)
        self.app = create_app(self.config, store=self.store, faults=self.faults)
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.base_url = ""

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> Emulator:
        if self._thread is not None:
            return self
        if self.config.sandbox_root is None:
            # our own root, removed by close(): no sandbox outlives the server
            self._tmp = tempfile.mkdtemp(prefix="nb_agents_emulator_")
            self.config.sandbox_root = Path(self._tmp)
        self._sock = bind_socket(self._host, self._port)
        host, port = self._sock.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        # log_config=None: inside a user's kernel, leave their logging configuration alone
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="nb-agents-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        """Stop the server (ending open streams) and remove every sandbox."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None and thread.is_alive():
            loop = self.app.state.loop
            if loop is not None and loop.is_running():
                future = asyncio.run_coroutine_threadsafe(shutdown(self.app), loop)
                try:
                    future.result(timeout=10)
                except Exception:  # noqa: BLE001 - still stop the server
                    pass
            server.should_exit = True
            thread.join(timeout=10)
        self._server = self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- clients ----------------------------------------------------------------------------
    def client(self, **kw: Any) -> Any:
        """An `anthropic.Anthropic` pointed at this emulator."""
        import anthropic

        kw.setdefault("api_key", API_KEY)
        return anthropic.Anthropic(base_url=self.base_url, **kw)

    def async_client(self, **kw: Any) -> Any:
        """An `anthropic.AsyncAnthropic` pointed at this emulator."""
        import anthropic

        kw.setdefault("api_key", API_KEY)
        return anthropic.AsyncAnthropic(base_url=self.base_url, **kw)

    @property
    def stats(self) -> Counter[str]:
        """Live counters (`uploads`, `sessions_created`, `requests:<METHOD> <route>`, ...)."""
        return self.store.stats

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Emulator {self.base_url or '(not started)'} brain={self.config.brain!r} {state}>"


def start_emulator(brain: str = "analyst", faults: Any = None, **config: Any) -> Emulator:
    """A started `Emulator` (call `.close()` when done)."""
    return Emulator(brain, faults, **config).start()
