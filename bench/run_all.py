"""Run every bench/bench_*.py script and collect the figures they print.

Convention for a benchmark script: it runs with no arguments, prints whatever helps a human,
and prints each figure on its own line as `RESULT {json}` with at least `bench`, `metric`,
`value` and `unit` (optionally `target`, `met`, `baseline`, `detail`). This runner shows each
script's output as it comes, then writes build/bench/results.json and build/bench/results.md
(a table with the machine, the date and the command to rerun, ready for docs/benchmarks.md).

    python bench/run_all.py [-k SUBSTRING ...] [--timeout SECONDS] [--out DIR]

Exit status 1 when a script fails or prints no RESULT line (a missed target is reported,
not an error: the table says so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "build" / "bench"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kb / 1024**2:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        memory = "RAM unknown"
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores, {memory}",
        "os": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def run_script(path: Path, timeout: float) -> tuple[list[dict[str, object]], str | None]:
    """Run one script, echo its output live, return its RESULT records and an error (or None)."""
    print(f"\n=== {path.name}", flush=True)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    proc = subprocess.Popen(
        [sys.executable, str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    results: list[dict[str, object]] = []
    watchdog = threading.Timer(timeout, proc.kill)  # a silent, hung script is killed too
    watchdog.start()
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            print("  " + line.rstrip(), flush=True)
            if line.startswith("RESULT "):
                try:
                    results.append({"script": path.name, **json.loads(line[7:])})
                except json.JSONDecodeError:
                    print("  (ignored: unparsable RESULT line)", flush=True)
    finally:
        watchdog.cancel()
    code = proc.wait()
    if code == -9:
        return results, f"killed after {timeout:.0f} s"
    if code:
        return results, f"exit status {code}"
    return results, None if results else "printed no RESULT line"


def table(results: list[dict[str, object]], info: dict[str, str], command: str) -> str:
    lines = [
        f"Measured on {info['machine']} ({info['os']}, Python {info['python']}), {info['date']}.",
        f"Rerun: `{command}`",
        "",
        "| bench | metric | value | unit | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        met = {True: "yes", False: "**no**"}.get(r.get("met"), "")  # type: ignore[arg-type]
        lines.append(
            f"| {r.get('bench', r['script'])} | {r.get('metric', '')} | {r.get('value', '')} "
            f"| {r.get('unit', '')} | {r.get('target', '')} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every bench/bench_*.py and collect its figures.")
    parser.add_argument("-k", dest="only", action="append", default=[],
                        help="only scripts whose name contains this (repeatable: any of them)")
    parser.add_argument("--timeout", type=float, default=1200, help="per script, seconds")
    parser.add_argument("--dir", type=Path, default=ROOT / "bench", help="where the bench_*.py scripts are")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where results.json/.md go")
    args = parser.parse_args(argv)
    scripts = sorted(p for p in args.dir.glob("bench_*.py") if not args.only or any(k in p.name for k in args.only))
    if not scripts:
        print(f"no bench/bench_*.py matches {' or '.join(map(repr, args.only))}", file=sys.stderr)
        return 1
    info = machine()
    results: list[dict[str, object]] = []
    errors: dict[str, str] = {}
    for script in scripts:
        found, error = run_script(script, args.timeout)
        results += found
        if error:
            errors[script.name] = error
    command = "make bench" if not args.only else "python bench/run_all.py " + " ".join(f"-k {k}" for k in args.only)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps({**info, "results": results, "errors": errors}, indent=2)
    )
    (args.out / "results.md").write_text(table(results, info, command))
    print("\n" + table(results, info, command))
    for name, error in errors.items():
        print(f"FAILED {name}: {error}", file=sys.stderr)
    print(f"written: {args.out / 'results.md'} and results.json")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
