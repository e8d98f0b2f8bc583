"""bench/bench_fanout.py runs end to end at a tiny size and prints well-formed figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_fanout_tiny(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_fanout.py"), "--items", "8", "--concurrency", "4",
         "--delay", "0.3"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    results = {r["metric"]: r for r in (json.loads(line[7:]) for line in out.stdout.splitlines()
                                       if line.startswith("RESULT "))}
    single = results["one item (median of 3)"]["value"]
    wall = results["8 items at concurrency 4, wall time"]["value"]
    ratio = results["ratio wall / (ceil(8/4) x one item)"]
    assert single >= 0.3 and wall >= 2 * 0.3  # two waves of at least the turn delay each
    assert abs(ratio["value"] - wall / (2 * single)) < 0.01 and ratio["target"] == "<= 1.5"
    assert results["kernel peak RSS (ru_maxrss)"]["unit"] == "MB"
    assert "{'done': 8}" in results["8 items at concurrency 4, wall time"]["detail"]
