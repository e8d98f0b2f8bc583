"""Benchmark: `%load_ext nb_agents` vs `import anthropic`, each in a fresh process.

Both are timed the way a user meets them: inside a process that already runs an IPython
shell (a kernel has IPython loaded before the first cell), so only the operation itself is
on the clock. Each repetition starts two fresh interpreters (order alternates, one warm-up
round is discarded so that the disk cache is equally warm for both); the figures are the
medians. Target: load_ext <= 0.15x import anthropic. It also checks that loading the
extension imports neither anthropic nor pandas nor ipywidgets (they load on first use).

    python bench/bench_load_time.py [--reps 7]

Prints a human summary and one `RESULT {json}` line per figure (collected by bench/run_all.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.15
HEAVY = ("anthropic", "pandas", "ipywidgets", "httpx2", "pyarrow", "matplotlib")

_PROBE = """
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
before = set(sys.modules)
t0 = time.perf_counter()
{op}
elapsed = time.perf_counter() - t0
new = set(sys.modules) - before
heavy = sorted({{m.split(".")[0] for m in new}} & set({heavy!r}))
print(json.dumps({{"seconds": elapsed, "modules": len(new), "heavy": heavy}}))
"""

OPS = {
    "load_ext": 'ip.run_line_magic("load_ext", "nb_agents")',
    "import_anthropic": "import anthropic",
}


def probe(name: str) -> dict[str, object]:
    """Run one operation in a fresh interpreter and return its measurement."""
    code = _PROBE.format(op=OPS[name], heavy=HEAVY)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{name} failed in a fresh process:\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure(reps: int) -> dict[str, list[dict[str, object]]]:
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in OPS}
    for rep in range(reps + 1):  # round 0 is the warm-up
        order = list(OPS) if rep % 2 == 0 else list(reversed(OPS))
        for name in order:
            result = probe(name)
            if rep:
                runs[name].append(result)
    return runs


def result_line(metric: str, value: float, unit: str, **extra: object) -> str:
    return "RESULT " + json.dumps(
        {"bench": "load_time", "metric": metric, "value": value, "unit": unit, **extra}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    runs = measure(args.reps)
    med = {name: statistics.median(float(r["seconds"]) for r in rs) for name, rs in runs.items()}  # type: ignore[arg-type]
    ratio = med["load_ext"] / med["import_anthropic"]
    heavy = sorted({m for r in runs["load_ext"] for m in r["heavy"]})  # type: ignore[attr-defined]
    print(f"load_time: {args.reps} fresh processes each (medians, after 1 warm-up round)")
    for name, rs in runs.items():
        times = ", ".join(f"{float(r['seconds']) * 1000:.0f}" for r in rs)  # type: ignore[arg-type]
        print(f"  {name:<17} median {med[name] * 1000:7.1f} ms   [{times}] ms")
    print(f"  ratio load_ext / import anthropic = {ratio:.3f} (target <= {TARGET_RATIO})")
    print(f"  heavy modules imported by %load_ext: {', '.join(heavy) or 'none'}")
    print(result_line("load_ext_median", round(med["load_ext"] * 1000, 1), "ms"))
    print(result_line("import_anthropic_median", round(med["import_anthropic"] * 1000, 1), "ms"))
    print(result_line("ratio", round(ratio, 3), "x", target=f"<= {TARGET_RATIO}", met=ratio <= TARGET_RATIO))
    print(
        result_line("heavy_imports_at_load", len(heavy), "modules", detail=heavy, target="0", met=not heavy)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
