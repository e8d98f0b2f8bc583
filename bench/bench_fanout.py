"""Benchmark: fan-out wall time for 200 items at concurrency 32, against ceil(200/32) x one item.

The emulator runs in its own process (`python -m nb_agents.emulator --brain echo --turn-delay D`),
so this process is only what a kernel would be: nb_agents and the SDK. Every item is one turn with
one model request, which the emulator holds for a fixed `turn_delay` (default 1 s), so a perfect
scheduler takes ceil(N / concurrency) x (one item's time). One item's time is measured in the
same run, the same way (`nb_agents.map` over one item: create, stream, send, read, archive),
median of 3, after a warm-up that creates the shared agent and environment.

Figures: the fan-out's wall time, the ratio to that ideal (target <= 1.5: threads, HTTP and
the emulator's own work on a 2-core machine), items/s, and the kernel's memory: peak RSS
(`ru_maxrss`) and its growth during the fan-out.

    python bench/bench_fanout.py [--items 200] [--concurrency 32] [--delay 1.0]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ (also when loaded by a test)
from emulator_process import EmulatorProcess  # noqa: E402

TARGET_RATIO = 1.5


def result_line(metric: str, value: float, unit: str, **extra: Any) -> str:
    return "RESULT " + json.dumps({"bench": "fanout", "metric": metric, "value": value, "unit": unit, **extra})


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_map(n: int, concurrency: int) -> tuple[float, Any]:
    import nb_agents

    t0 = time.perf_counter()
    result = nb_agents.map("{{item}}", [f"item {i}" for i in range(n)], concurrency=concurrency, live=False)
    return time.perf_counter() - t0, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=1.0, help="emulator turn_delay (s per model request)")
    args = parser.parse_args(argv)

    emu = EmulatorProcess("--brain", "echo", "--turn-delay", str(args.delay))
    url = emu.url
    os.environ.update(ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY="bench-key", NB_AGENTS_VIEW="text")
    os.chdir(Path(os.environ.get("TMPDIR", "/tmp")))  # outputs folders land outside the repo
    try:
        run_map(1, 1)  # warm-up: imports, agent and environment get-or-create
        singles = [run_map(1, 1)[0] for _ in range(3)]
        single = statistics.median(singles)
        rss_before = current_rss_mb()
        wall, result = run_map(args.items, args.concurrency)
        rss_after, peak = current_rss_mb(), rss_mb()
    finally:
        emu.close()

    statuses = result.table.status.value_counts().to_dict()
    waves = math.ceil(args.items / args.concurrency)
    ideal = waves * single
    ratio = wall / ideal
    print(f"emulator {url}, turn_delay {args.delay:g} s; one item: {', '.join(f'{s:.3f}' for s in singles)} s")
    print(f"{args.items} items at concurrency {args.concurrency}: {wall:.2f} s; statuses {statuses}")
    print(f"ideal = ceil({args.items}/{args.concurrency}) x {single:.3f} s = {ideal:.2f} s -> ratio {ratio:.3f}")
    print(f"kernel RSS: {rss_before:.0f} MB before, {rss_after:.0f} MB after, peak {peak:.0f} MB")
    detail = f"turn_delay {args.delay:g} s; emulator in its own process"
    print(result_line("one item (median of 3)", round(single, 3), "s", detail=detail))
    print(result_line(f"{args.items} items at concurrency {args.concurrency}, wall time", round(wall, 2), "s",
                      detail=f"{statuses}"))
    print(result_line(f"ratio wall / (ceil({args.items}/{args.concurrency}) x one item)", round(ratio, 3), "x",
                      target=f"<= {TARGET_RATIO}", met=ratio <= TARGET_RATIO))
    print(result_line("throughput", round(args.items / wall, 1), "items/s"))
    print(result_line("kernel peak RSS (ru_maxrss)", round(peak, 1), "MB"))
    print(result_line("kernel RSS growth during the fan-out", round(rss_after - rss_before, 1), "MB"))
    return 0 if statuses.get("done") == args.items else 1


if __name__ == "__main__":
    raise SystemExit(main())
