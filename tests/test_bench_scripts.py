"""The stream-overhead, latency and saved-size benchmarks run end to end (tiny sizes) and print
well-formed figures that mean what they say."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def bench(name: str, *args: str, timeout: float = 120) -> dict[str, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NB_AGENTS_VIEW", None)
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"bench_{name}.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    results = [json.loads(line[7:]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert results and all({"bench", "metric", "value", "unit"} <= r.keys() for r in results)
    return {r["metric"]: r for r in results}


def test_stream_overhead_bench() -> None:
    r = bench("stream_overhead", "--reps", "1", "--messages", "2", "--deltas", "400")
    assert r["events_per_turn"]["value"] == 2 * (400 + 4) + 6  # deltas + lifecycle, all consumed
    assert r["bare_sdk_median"]["value"] > 0 and r["nb_agents_median"]["value"] > 0
    assert r["ratio"]["target"] == "<= 1.05" and isinstance(r["ratio"]["met"], bool)
    assert r["cpu_ratio"]["value"] > 0 and "anthropic" in r["ratio"]["detail"]
    # a short run: the first and the final sync weigh more than in the 20,000-event run
    assert 0 < r["widget_syncs_per_s"]["value"] < 50


def test_latency_bench() -> None:
    r = bench("latency", "--messages", "1", "--deltas", "800", "--rounds", "1")
    assert 700 < r["emit_rate"]["value"] < 1300  # paced at ~1,000/s
    assert 0 < r["p50"]["value"] <= r["p99"]["value"] <= r["max"]["value"] < 5000
    assert r["sync_median"]["value"] > 0 and r["p99_after_first_0.5s"]["value"] <= r["max"]["value"]


@pytest.mark.notebook
@pytest.mark.timeout(240)
def test_saved_size_bench() -> None:
    r = bench("saved_size", "--steps", "5", timeout=220)
    # per step: span start, message, tool use, span end, result; the summary: 3; the turn: 6
    assert r["events"]["value"] == 5 * 5 + 3 + 6
    assert 2 < r["added"]["value"] < 150
    assert set(r["added"]["detail"]) >= {"widget_state", "agent_outputs"}


def test_local_bench() -> None:
    r = bench("local", "--reps", "1", "--calls", "3", "--rows", "2000", timeout=240)
    assert r["bare_worker_turn_seconds"]["value"] > 0
    assert r["local_turn_ratio"]["target"] == "<= 1.1" and isinstance(r["local_turn_ratio"]["met"], bool)
    assert r["profile_cloud_seconds"]["value"] > 0 and r["profile_local_seconds"]["value"] > 0
    assert r["profile_local_uploads"]["value"] == 0 and "1 upload" in r["profile_cloud_seconds"]["detail"]
