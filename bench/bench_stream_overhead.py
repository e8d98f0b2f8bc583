"""Benchmark: the cost of nb_agents' live pipeline over the bare SDK on a 20,000-event stream.

One emulator, in its own process (`python -m nb_agents.emulator`, started once), plays a scenario
of 20 streamed messages (1,000 text deltas each, about 20,100 events per turn) with its pause
between deltas set to zero, so the server emits as fast as it can. Consumers in this process read
the same kind of turn from that server over HTTP (`ANTHROPIC_BASE_URL`, as a user's kernel would):

- baseline: the bare SDK (`sessions.create`, `events.stream(event_deltas=...)`, `events.send`,
  iterate until `session.status_idle`), no rendering;
- a second baseline, the bare SDK following the reference's reconnect-safe recipe (open the stream,
  backfill with `events.list`, send, iterate) — the same requests nb_agents makes, so that ratio
  isolates our fold and view from the protocol's extra request;
- nb_agents: `nb_agents.session(...).ask(...)` with the widget view (`NB_AGENTS_VIEW=widget`):
  the event loop, the transcript fold and `LiveView` trait updates (ipywidgets without a
  frontend: the comm is a no-op, so what is measured is our rendering, not the browser's).

The order alternates, one warm-up round is discarded, the figures are medians (and minimums).
Target: ratio <= 1.05x and at most ~10 widget syncs per second. The server's work happens in its
own process, so it is in neither side's CPU time; this process's CPU time per turn
(`time.process_time()`, every thread: the reader, the view's flusher) is reported beside the wall
time, being far less sensitive to a busy machine. Run it with each SDK's interpreter
(`make bench` for the newest, `make bench-floor` for 2.10): the figures name the SDK version.

    python bench/bench_stream_overhead.py [--reps 5] [--messages 20] [--deltas 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ (also when loaded by a test)
from emulator_process import EmulatorProcess  # noqa: E402

TARGET_RATIO = 1.05
TARGET_SYNCS = 10.0


def flood_steps(messages: int, deltas: int) -> list[dict[str, Any]]:
    """`messages` say-steps whose text the emulator streams as `deltas` chunks (3 words each)."""
    return [{"say": " ".join(f"m{m}w{i}" for i in range(3 * deltas))} for m in range(messages)]


def result_line(metric: str, value: float, unit: str, **extra: Any) -> str:
    return "RESULT " + json.dumps(
        {"bench": "stream_overhead", "metric": metric, "value": value, "unit": unit, **extra}
    )


class Bench:
    def __init__(self, url: str) -> None:
        from IPython.core.interactiveshell import InteractiveShell

        os.environ.update(ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY="bench-key", NB_AGENTS_VIEW="widget")
        import anthropic

        InteractiveShell.instance()  # display() goes through a shell, as in a kernel
        self.client = anthropic.Anthropic()
        self.views: list[Any] = []
        self._instrument_views()
        self.agent_id = self.env_id = ""

    def _instrument_views(self) -> None:
        import nb_agents.view.widget as widget_mod
        from nb_agents.sessions import Turn

        views = self.views

        class CountedView(widget_mod.LiveView):
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                views.append(self)

        Turn.view_class = CountedView  # the view every turn opens

    def pipeline(self) -> dict[str, float]:
        import nb_agents

        sess = nb_agents.session("bench-overhead")
        count = [0]
        listener = lambda event: count.__setitem__(0, count[0] + 1)  # noqa: E731
        sess.listeners.append(listener)
        t0, c0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):  # the static copy a kernel would send
            run = sess.ask("go", new=True, live=True, interpolate=False)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        sess.listeners.remove(listener)
        assert run.stop_reason == "end_turn", run.stop_reason
        remote = self.client.beta.sessions.retrieve(run.session_id)
        self.agent_id, self.env_id = remote.agent.id, remote.environment_id
        view = self.views[-1]
        return {"seconds": elapsed, "cpu": cpu, "events": count[0], "syncs": view.sync_count}

    def baseline(self, backfill: bool = False) -> dict[str, float]:
        c = self.client
        t0, c0 = time.perf_counter(), time.process_time()
        session = c.beta.sessions.create(agent=self.agent_id, environment_id=self.env_id)
        n = 0
        with c.beta.sessions.events.stream(
            session.id, event_deltas=["agent.message", "agent.thinking"]
        ) as stream:
            if backfill:
                n += len(list(c.beta.sessions.events.list(session.id, limit=1000)))
            c.beta.sessions.events.send(
                session.id, events=[{"type": "user.message", "content": [{"type": "text", "text": "go"}]}]
            )
            for event in stream:
                n += 1
                if event.type == "session.status_idle":
                    break
        return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "events": n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--deltas", type=int, default=1000)
    args = parser.parse_args(argv)
    emu = EmulatorProcess("--brain", "scenario:flood", fast=True,
                          scenarios={"flood": flood_steps(args.messages, args.deltas)})
    try:
        lists = measure(Bench(emu.url), args.reps)
    finally:
        emu.close()
    report(lists, args.reps)
    return 0


def measure(bench: Bench, reps: int) -> dict[str, list[dict[str, float]]]:
    runs = {"pipeline": bench.pipeline, "baseline": bench.baseline, "recipe": lambda: bench.baseline(backfill=True)}
    lists: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for rep in range(reps + 1):  # round 0 warms up (agent, environment, imports, caches)
        order = ("pipeline", "baseline", "recipe") if rep % 2 == 0 else ("recipe", "baseline", "pipeline")
        for name in order:
            result = runs[name]()
            print(
                f"  round {rep} {name:<8} {result['seconds']:6.2f} s (cpu {result['cpu']:5.2f} s)"
                f"  {int(result['events'])} events" + (f"  {int(result['syncs'])} syncs" if "syncs" in result else ""),
                flush=True,
            )
            if rep:
                lists[name].append(result)
    return lists


def report(lists: dict[str, list[dict[str, float]]], reps: int) -> None:
    import anthropic

    sdk = f"anthropic {anthropic.__version__}"
    pipe, base = lists["pipeline"], lists["baseline"]
    med = {name: statistics.median(r["seconds"] for r in rs) for name, rs in lists.items()}
    low = {name: min(r["seconds"] for r in rs) for name, rs in lists.items()}
    cpu = {name: statistics.median(r["cpu"] for r in rs) for name, rs in lists.items()}
    ratio = med["pipeline"] / med["baseline"]
    syncs = statistics.median(r["syncs"] / r["seconds"] for r in pipe)
    # the bare SDK reads every event; nb_agents may skip the deltas of a turn whose idle is already
    # in its events.list backfill (only in tiny runs: a 20,000-event turn lasts seconds)
    events = int(statistics.median(r["events"] for r in base))
    print(f"stream_overhead: {events} events per turn, {reps} rounds (medians), {sdk}, emulator in its own process")
    for name, label in (("baseline", "bare SDK"), ("recipe", "bare SDK + backfill"), ("pipeline", "nb_agents")):
        print(f"  {label:<20} wall median {med[name]:.3f} s (min {low[name]:.3f}), cpu median {cpu[name]:.3f} s")
    print(f"  ratio nb_agents / bare SDK: wall {ratio:.3f} (min/min {low['pipeline'] / low['baseline']:.3f}),"
          f" cpu {cpu['pipeline'] / cpu['baseline']:.3f} (target <= {TARGET_RATIO})")
    print(f"  ratio nb_agents / bare SDK with the reference's backfill: wall {med['pipeline'] / med['recipe']:.3f}")
    print(f"  widget syncs {syncs:.1f}/s (target <= ~{TARGET_SYNCS:g}/s)")
    print(result_line("events_per_turn", events, "events"))
    print(result_line("bare_sdk_median", round(med["baseline"], 3), "s", detail=f"min {low['baseline']:.3f} s, {sdk}"))
    print(result_line("nb_agents_median", round(med["pipeline"], 3), "s", detail=f"min {low['pipeline']:.3f} s, {sdk}"))
    print(result_line("ratio", round(ratio, 3), "x", target=f"<= {TARGET_RATIO}", met=ratio <= TARGET_RATIO,
                      detail=f"min/min {low['pipeline'] / low['baseline']:.3f}, {sdk}"))
    print(result_line("cpu_ratio", round(cpu["pipeline"] / cpu["baseline"], 3), "x",
                      detail=f"process CPU per turn {cpu['pipeline']:.3f} s vs {cpu['baseline']:.3f} s, {sdk}"))
    print(result_line("bare_sdk_with_backfill_median", round(med["recipe"], 3), "s", detail=sdk))
    print(result_line("ratio_vs_bare_sdk_with_backfill", round(med["pipeline"] / med["recipe"], 3), "x", detail=sdk))
    print(
        result_line(
            "widget_syncs_per_s",
            round(syncs, 1),
            "syncs/s",
            target=f"<= {TARGET_SYNCS:g}",
            met=syncs <= TARGET_SYNCS * 1.05,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
