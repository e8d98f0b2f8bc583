"""Benchmark: the first `%%agent` cell of a fresh kernel vs the bare SDK doing the least it must.

One emulator runs in its own process (`python -m nb_agents.emulator --port 0 --brain echo`),
started once; both sides talk to it over HTTP, so its cost is the same for both and lands in
neither process. Each repetition starts a fresh **ipykernel** per side (jupyter_client, as a
notebook server does; `--where shell`: a fresh interpreter with a bare IPython `InteractiveShell`
instead), alternating which goes first (one warm-up round is discarded), and runs as its first
cell, timing from the same point:

- nb_agents: `%load_ext nb_agents` and one `%%agent` cell (a short echo turn) with the widget view
  (in a kernel: real widget comms and outputs on IOPub; in a bare shell ipywidgets has no comm);
  then, in the same process, a second `%%agent` cell continuing that session (warm);
- bare SDK: `import anthropic`, `Anthropic()`, `agents.create`, `environments.create`,
  `sessions.create`, `events.stream(event_deltas=[agent.message])`, `events.send`, iterate to
  `session.status_idle`; then its second turn: a new stream (a second cell would open one),
  send, iterate to idle. No rendering;
- floor: the bare SDK, plus what any widget view of the reply needs: ipywidgets and markdown-it
  imported, the reply rendered to HTML on one HTML widget. Not a target: what is left above it
  is nb_agents' own.

Why a kernel by default: in a bare interpreter the heap is small, and whether the third full
garbage collection (gen 2, ~60-125 ms with anthropic's models on the heap) falls inside the timed
span depends on a few thousand objects either way; it fell inside nb_agents' first cell and just
after the bare SDK's. A kernel's heap (ipykernel, zmq, tornado, jupyter_client) is what users
have, and there both sides made the same full collections (docs/benchmarks.md).

Both sides find `ANTHROPIC_BASE_URL` and `ANTHROPIC_API_KEY` in the environment, as a user's
kernel would. Targets: first cell <= 1.10x, second cell <= 1.05x (wall time). Figures are medians
and minimums of the per-process times; the ratio is the ratio of medians (and, for the record, the
median of the pairwise ratios and min/min). The process's CPU time (`time.process_time()`, all its
threads) over the same span is reported beside the wall time: on a shared machine it moves much
less than the wall clock, and the server's work (in its own process) is in neither.

    python bench/bench_first_cell.py [--reps 7] [--where kernel|shell] [--turn-delay 0] [--latency 0]

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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ (also when loaded by a test)
from emulator_process import EmulatorProcess, with_root  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET_FIRST = 1.10
TARGET_SECOND = 1.05
PROMPT = "Say hello in five words."

_PROBE_HEAD = """
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
"""

PROBES = {
    "nb_agents": _PROBE_HEAD + """
import contextlib, io
out = io.StringIO()
with contextlib.redirect_stdout(out):  # what a kernel would send to the frontend
    t0, c0 = time.perf_counter(), time.process_time()
    ip.run_line_magic("load_ext", "nb_agents")
    r1 = ip.run_cell("%%agent\\n" + PROMPT)
    t1, c1 = time.perf_counter(), time.process_time()
    r2 = ip.run_cell("%%agent\\n" + PROMPT)
    t2, c2 = time.perf_counter(), time.process_time()
assert r1.success and r2.success, (r1.error_in_exec, r2.error_in_exec, out.getvalue()[-2000:])
print(json.dumps({"first": t1 - t0, "second": t2 - t1, "first_cpu": c1 - c0, "second_cpu": c2 - c1}))
""",
    "bare_sdk": _PROBE_HEAD + """
t0, c0 = time.perf_counter(), time.process_time()
import anthropic
client = anthropic.Anthropic()
agent = client.beta.agents.create(
    name="bench-bare", model="claude-sonnet-4-6", tools=[{"type": "agent_toolset_20260401"}]
)
env = client.beta.environments.create(name=f"bench-bare-{time.time_ns()}", config={"type": "cloud"})
session = client.beta.sessions.create(agent=agent.id, environment_id=env.id)

def turn():
    with client.beta.sessions.events.stream(session.id, event_deltas=["agent.message"]) as stream:
        client.beta.sessions.events.send(
            session.id, events=[{"type": "user.message", "content": [{"type": "text", "text": PROMPT}]}]
        )
        for event in stream:
            if event.type == "session.status_idle":
                return

turn()
t1, c1 = time.perf_counter(), time.process_time()
turn()
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"first": t1 - t0, "second": t2 - t1, "first_cpu": c1 - c0, "second_cpu": c2 - c1}))
""",
}

# The least any widget view of the reply can add to the bare SDK: the libraries a view needs
# (ipywidgets, and markdown-it for the reply's markdown) imported, the reply rendered to HTML and
# set on one HTML widget at the end of each turn. Not a target: it shows how much of the first
# cell's ratio is left for nb_agents itself.
PROBES["floor"] = PROBES["bare_sdk"].replace(
    """            if event.type == "session.status_idle":
                return
""",
    """            if event.type == "agent.message":
                reply = "".join(block.text for block in event.content if block.type == "text")
            if event.type == "session.status_idle":
                import ipywidgets
                from markdown_it import MarkdownIt

                ipywidgets.HTML(value=MarkdownIt("commonmark").render(reply))
                return
""",
)
assert PROBES["floor"] != PROBES["bare_sdk"]


def _env(**extra: str) -> dict[str, str]:
    env = with_root(dict(os.environ, **extra))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def probe(name: str, url: str, where: str = "kernel") -> dict[str, float]:
    """Run one side in a fresh kernel (`where="kernel"`) or a fresh interpreter with an IPython
    shell (`"shell"`) and return its timings (seconds)."""
    code = f"PROMPT = {PROMPT!r}\n" + PROBES[name]
    if where == "kernel":
        return _in_kernel(name, code, _env(ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY="bench-key"))
    env = _env(ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY="bench-key", NB_AGENTS_VIEW="widget")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{name} failed in a fresh process:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _in_kernel(name: str, code: str, env: dict[str, str]) -> dict[str, float]:
    """`code` as the first cell of a fresh ipykernel (jupyter_client, as a notebook server starts
    one): the shell is the kernel's, and so are the widget comms and the outputs on IOPub."""
    from jupyter_client import KernelManager

    code = code.replace(_PROBE_HEAD, "\nimport json, sys, time\nip = get_ipython()\n")
    code = code.replace("with contextlib.redirect_stdout(out):", "with contextlib.nullcontext():")
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env, cwd=str(ROOT))
    kc = km.client()
    texts: list[str] = []
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda msg: texts.append(
            msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    lines = [line for line in "".join(texts).splitlines() if line.startswith("{")]
    if reply["content"]["status"] != "ok" or not lines:
        raise SystemExit(f"{name} failed in a fresh kernel: {reply['content'].get('evalue')}\n{''.join(texts)[-2000:]}")
    return dict(json.loads(lines[-1]))


def measure(reps: int, where: str = "kernel", turn_delay: float = 0.0,
            latency: float = 0.0) -> dict[str, list[dict[str, float]]]:
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in PROBES}
    emu = EmulatorProcess("--brain", "echo", "--turn-delay", str(turn_delay), "--latency", str(latency))
    try:
        for rep in range(reps + 1):  # round 0 is the warm-up (disk cache, bytecode, emulator)
            order = list(PROBES) if rep % 2 == 0 else list(reversed(PROBES))
            for name in order:
                result = probe(name, emu.url, where)
                print(
                    f"  round {rep} {name:<9} first {result['first'] * 1000:6.0f} ms"
                    f"  second {result['second'] * 1000:5.0f} ms",
                    flush=True,
                )
                if rep:
                    runs[name].append(result)
    finally:
        emu.close()
    return runs


def result_line(metric: str, value: float, unit: str, **extra: Any) -> str:
    return "RESULT " + json.dumps({"bench": "first_cell", "metric": metric, "value": value, "unit": unit, **extra})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--where", choices=("kernel", "shell"), default="kernel",
                        help="each side in a fresh ipykernel (default) or a fresh interpreter with an IPython shell")
    parser.add_argument("--turn-delay", type=float, default=0.0,
                        help="seconds the emulator's model takes per request (default 0: the echo answers at once, "
                             "so the ratio is all overhead; a real model's short turn takes a second or more)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the emulator waits before answering each request (a network's round trip)")
    args = parser.parse_args(argv)
    runs = measure(args.reps, args.where, args.turn_delay, args.latency)
    nb, sdk = runs["nb_agents"], runs["bare_sdk"]
    import anthropic

    print(f"first_cell: {args.reps} fresh {args.where}s each, anthropic {anthropic.__version__}, model time"
          f" {args.turn_delay} s per request, {args.latency} s per round trip (after 1 warm-up round)")
    for part, target in (("first", TARGET_FIRST), ("second", TARGET_SECOND)):
        for clock, key in (("wall", part), ("cpu", f"{part}_cpu")):
            t_nb = [r[key] for r in nb]
            t_sdk = [r[key] for r in sdk]
            med_nb, med_sdk = statistics.median(t_nb), statistics.median(t_sdk)
            ratio = med_nb / med_sdk
            paired = statistics.median(a / b for a, b in zip(t_nb, t_sdk, strict=True))
            print(
                f"  {part} cell, {clock:>4}: nb_agents median {med_nb * 1000:.0f} ms (min {min(t_nb) * 1000:.0f}),"
                f" bare SDK median {med_sdk * 1000:.0f} ms (min {min(t_sdk) * 1000:.0f}), ratio {ratio:.3f}"
                f" (pairwise median {paired:.3f}, min/min {min(t_nb) / min(t_sdk):.3f}; target <= {target})"
            )
            name = part if clock == "wall" else f"{part}_cpu"
            print(result_line(f"{name}_nb_agents_median", round(med_nb * 1000, 1), "ms",
                              detail=f"min {min(t_nb) * 1000:.1f} ms"))
            print(result_line(f"{name}_bare_sdk_median", round(med_sdk * 1000, 1), "ms",
                              detail=f"min {min(t_sdk) * 1000:.1f} ms"))
            extra = {"target": f"<= {target}", "met": ratio <= target} if clock == "wall" else {}
            print(result_line(f"{name}_ratio", round(ratio, 3), "x", **extra,
                              detail=f"pairwise median {paired:.3f}, min/min {min(t_nb) / min(t_sdk):.3f}, "
                                     f"anthropic {anthropic.__version__}, fresh {args.where}s, "
                                     f"model time {args.turn_delay} s, round trip {args.latency} s"))
            t_floor = [r[key] for r in runs["floor"]]
            floor = statistics.median(t_floor) / med_sdk
            print(f"  {part} cell, {clock:>4}: floor (bare SDK + ipywidgets + markdown-it, one HTML widget) median"
                  f" {statistics.median(t_floor) * 1000:.0f} ms, ratio {floor:.3f}")
            print(result_line(f"{name}_floor_ratio", round(floor, 3), "x",
                              detail="bare SDK + import ipywidgets and markdown-it + one HTML widget of the reply"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
