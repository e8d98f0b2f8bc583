"""The emulator in its own process, for the benchmarks (not a benchmark: run_all.py runs bench_*.py).

Started once per benchmark, talked to over HTTP by both sides of a ratio, so the server's work is
in neither side's process (nor its CPU time, nor its GIL). `EmulatorProcess(...)` takes the
arguments of `python -m nb_agents.emulator` (the port is always 0: a free one); `fast=True` sets
the emulator's pause between streamed text chunks to zero (it emits as fast as it can);
`scenarios` are written as `NAME.json` files into a temporary `--scenario-dir`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

_FAST = """
import sys
import nb_agents.emulator.turn as turn
turn.DELTA_DELAY = 0.0
from nb_agents.emulator.__main__ import main
raise SystemExit(main(sys.argv[1:]))
"""


def with_root(env: dict[str, str]) -> dict[str, str]:
    """`env` with this checkout first on PYTHONPATH (so a child imports this nb_agents)."""
    return dict(env, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))


class EmulatorProcess:
    """`python -m nb_agents.emulator --port 0 ARGS...` in its own process group; `.url` is its
    base URL. A context manager (or call `.close()`)."""

    def __init__(self, *args: str, fast: bool = False, scenarios: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="bench_emulator_")
        extra: list[str] = []
        for name, steps in (scenarios or {}).items():
            Path(self.tmp.name, f"{name}.json").write_text(json.dumps({"name": name, "steps": steps}))
            extra = ["--scenario-dir", self.tmp.name]
        command = [sys.executable, "-c", _FAST] if fast else [sys.executable, "-m", "nb_agents.emulator"]
        self.proc = subprocess.Popen(
            [*command, "--port", "0", *args, *extra],
            cwd=ROOT,
            env=with_root(dict(os.environ)),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.close()
            raise SystemExit(f"the emulator did not start: {self.url!r}")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.tmp.cleanup()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
