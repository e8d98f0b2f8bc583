"""bench/bench_upload.py runs end to end (on a small frame) and prints its RESULT figures."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_upload.py"


def test_bench_upload_prints_figures(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("_bench_upload", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    assert module.main(["--rows", "2000", "--reps", "1"]) == 0
    lines = [json.loads(line[7:]) for line in capsys.readouterr().out.splitlines() if line.startswith("RESULT ")]
    assert [r["metric"] for r in lines] == [
        "baseline_seconds", "first_send_ratio", "first_send_ratio_vs_upload_and_mount", "unchanged_ratio"]
    assert all(r["value"] > 0 for r in lines)
