"""bench/bench_first_cell.py runs end to end at a tiny size, against an emulator in its own
process, and prints well-formed figures (bench_stream_overhead: tests/test_bench_scripts.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, tmp_path: Path) -> dict[str, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return {r["metric"]: r for r in (json.loads(line[7:]) for line in out.stdout.splitlines()
                                     if line.startswith("RESULT "))}


def test_bench_first_cell_tiny(tmp_path):
    results = _run("bench_first_cell.py", "--reps", "1", tmp_path=tmp_path)
    for part in ("first", "second", "first_cpu", "second_cpu"):
        nb, sdk = results[f"{part}_nb_agents_median"]["value"], results[f"{part}_bare_sdk_median"]["value"]
        assert nb > 0 and sdk > 0
        assert results[f"{part}_ratio"]["value"] == pytest.approx(nb / sdk, rel=0.02)  # (of rounded ms)
    assert results["first_ratio"]["target"] == "<= 1.1" and results["second_ratio"]["target"] == "<= 1.05"
    assert "anthropic" in results["first_ratio"]["detail"] and "fresh kernels" in results["first_ratio"]["detail"]
    assert results["first_floor_ratio"]["value"] > 0 and results["second_cpu_floor_ratio"]["value"] > 0

