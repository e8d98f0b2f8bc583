"""Benchmark: the cost of nb_agents' live pipeline over the bare SDK on a 20,000-event stream.

One in-process emulator plays a scenario of 20 streamed messages (1,000 text deltas each,
about 20,100 events per turn) with its pause between deltas set to zero, so the server emits as
fast as it can. Two consumers read the same kind of turn from that same server:

- baseline: the bare SDK (`sessions.create`, `events.stream(event_deltas=...)`, `events.send`,
  iterate until `session.status_idle`), no rendering;
- a second baseline, the bare SDK following the reference's reconnect-safe recipe (open the stream,
  backfill with `events.list`, send, iterate) — the same requests nb_agents makes, so that ratio
  isolates our fold and view from the protocol's extra request;
- nb_agents: `nb_agents.session(...).ask(...)` with the widget view (`NB_AGENTS_VIEW=widget`):
  the event loop, the transcript fold and `LiveView` trait updates (ipywidgets without a
  frontend: the comm is a no-op, so what is measured is our rendering, not the browser's).

The order alternates, one warm-up round is discarded, the figures are medians. Target: ratio
<= 1.15x and at most ~10 widget syncs per second. The emulator shares the process (and the
GIL) with both consumers, so the server's own cost is in both sides of the ratio.

    python bench/bench_stream_overhead.py [--reps 3] [--messages 20] [--deltas 1000]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RATIO = 1.15
TARGET_SYNCS = 10.0


def flood_steps(messages: int, deltas: int) -> list[dict[str, Any]]:
    """`messages` say-steps whose text the emulator streams as `deltas` chunks (3 words each)."""
    return [{"say": " ".join(f"m{m}w{i}" for i in range(3 * deltas))} for m in range(messages)]


def result_line(metric: str, value: float, unit: str, **extra: Any) -> str:
    return "RESULT " + json.dumps(
        {"bench": "stream_overhead", "metric": metric, "value": value, "unit": unit, **extra}
    )


class Bench:
    def __init__(self, messages: int, deltas: int) -> None:
        from IPython.core.interactiveshell import InteractiveShell

        import nb_agents.emulator.turn as emu_turn
        from nb_agents.api import client as nb_client

        emu_turn.DELTA_DELAY = 0.0  # the server emits deltas as fast as it can
        os.environ["NB_AGENTS_VIEW"] = "widget"
        InteractiveShell.instance()  # display() goes through a shell, as in a kernel
        steps = flood_steps(messages, deltas)
        self.emu = nb_client.go_offline(brain="scenario:flood", scenarios={"flood": steps})
        self.client = self.emu.client()
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
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the static copy a kernel would send
            run = sess.ask("go", new=True, live=True, interpolate=False)
        elapsed = time.perf_counter() - t0
        sess.listeners.remove(listener)
        assert run.stop_reason == "end_turn", run.stop_reason
        remote = self.client.beta.sessions.retrieve(run.session_id)
        self.agent_id, self.env_id = remote.agent.id, remote.environment_id
        view = self.views[-1]
        return {"seconds": elapsed, "events": count[0], "syncs": view.sync_count}

    def baseline(self, backfill: bool = False) -> dict[str, float]:
        c = self.client
        t0 = time.perf_counter()
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
        return {"seconds": time.perf_counter() - t0, "events": n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--deltas", type=int, default=1000)
    args = parser.parse_args(argv)
    bench = Bench(args.messages, args.deltas)
    pipe: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    recipe: list[dict[str, float]] = []
    runs = {"pipeline": bench.pipeline, "baseline": bench.baseline, "recipe": lambda: bench.baseline(backfill=True)}
    lists = {"pipeline": pipe, "baseline": base, "recipe": recipe}
    for rep in range(args.reps + 1):  # round 0 warms up (agent, environment, imports, caches)
        order = ("pipeline", "baseline", "recipe") if rep % 2 == 0 else ("recipe", "baseline", "pipeline")
        for name in order:
            result = runs[name]()
            print(
                f"  round {rep} {name:<8} {result['seconds']:6.2f} s  {int(result['events'])} events"
                + (f"  {int(result['syncs'])} syncs" if "syncs" in result else ""),
                flush=True,
            )
            if rep:
                lists[name].append(result)
    t_pipe = statistics.median(r["seconds"] for r in pipe)
    t_base = statistics.median(r["seconds"] for r in base)
    ratio = t_pipe / t_base
    t_recipe = statistics.median(r["seconds"] for r in recipe)
    syncs = statistics.median(r["syncs"] / r["seconds"] for r in pipe)
    # the bare SDK reads every event; nb_agents may skip the deltas of a turn whose idle is already
    # in its events.list backfill (only in tiny runs: a 20,000-event turn lasts seconds)
    events = int(statistics.median(r["events"] for r in base))
    print(f"stream_overhead: {events} events per turn, {args.reps} rounds (medians)")
    print(
        f"  bare SDK {t_base:.2f} s, nb_agents {t_pipe:.2f} s, ratio {ratio:.3f} (target <= {TARGET_RATIO})"
    )
    print(f"  bare SDK with the reference's backfill {t_recipe:.2f} s, ratio {t_pipe / t_recipe:.3f}")
    print(f"  widget syncs {syncs:.1f}/s (target <= ~{TARGET_SYNCS:g}/s)")
    print(result_line("events_per_turn", events, "events"))
    print(result_line("bare_sdk_median", round(t_base, 2), "s"))
    print(result_line("nb_agents_median", round(t_pipe, 2), "s"))
    print(result_line("ratio", round(ratio, 3), "x", target=f"<= {TARGET_RATIO}", met=ratio <= TARGET_RATIO))
    print(result_line("bare_sdk_with_backfill_median", round(t_recipe, 2), "s"))
    print(result_line("ratio_vs_bare_sdk_with_backfill", round(t_pipe / t_recipe, 3), "x"))
    print(
        result_line(
            "widget_syncs_per_s",
            round(syncs, 1),
            "syncs/s",
            target=f"<= {TARGET_SYNCS:g}",
            met=syncs <= TARGET_SYNCS * 1.05,
        )
    )
    from nb_agents.api import client as nb_client

    nb_client.go_online()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
