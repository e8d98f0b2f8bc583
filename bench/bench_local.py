"""Benchmark: local mode (`%%agent --local`) on the in-process emulator.

1. A turn with 20 tool calls served in this process, against the SDK's bare `EnvironmentWorker`
   serving the same scenario. Baseline: a self-hosted session made with the plain SDK, a bare
   `EnvironmentWorker(...).run()` on its own thread and loop, and the turn timed as
   `events.send` + reading the SDK's event stream to the idle. nb_agents: `session(local=True)
   .ask(...)` (its own worker host, tool wrappers, ledger, fold, Run). Both serve a warm session
   (the first turn claims the work item and is not timed), so the SDK poller's 1-3 s sleeps
   between empty polls are not in the figure; turns alternate, medians of `--reps`.
   Target: nb_agents <= 1.10x the bare worker.
2. The analyst's profile of a `--rows`-row frame, local vs cloud: the same `ask("Profile {{df}}")`
   with `local=True` (the frame is written into the working folder; no upload) and without (the
   frame is uploaded, mounted, and profiled in the emulator's sandbox). Both times are reported,
   with the uploads counted (0 in local mode).

    python bench/bench_local.py [--reps 5] [--rows 1000000] [--calls 20]

Prints a human summary and one `RESULT {json}` line per figure (collected by bench/run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TARGET = 1.10


def result_line(metric: str, value: float, unit: str, **extra: object) -> str:
    return "RESULT " + json.dumps({"bench": "local", "metric": metric, "value": value, "unit": unit, **extra})


def steps(calls: int) -> list[list[dict[str, Any]]]:
    turn = [{"tool": "bash", "input": {"command": f"echo call-{i}"}} for i in range(calls)] + [{"say": "done"}]
    return [[{"say": "warm"}]] + [turn] * 64


class BareWorker:
    """The SDK's EnvironmentWorker, nothing of ours, on its own thread and loop."""

    def __init__(self, base_url: str, environment_id: str, workdir: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-bare-worker", daemon=True)
        self.thread.start()
        self.task = asyncio.run_coroutine_threadsafe(self._run(base_url, environment_id, workdir), self.loop)

    async def _run(self, base_url: str, environment_id: str, workdir: str) -> None:
        import anthropic
        from anthropic.lib.environments import EnvironmentWorker

        async with anthropic.AsyncAnthropic(base_url=base_url, api_key="bench") as client:
            await EnvironmentWorker(client, environment_id=environment_id, environment_key="bench",
                                    workdir=workdir, max_idle=600, memory_sync_interval=None).run()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(self.loop)])
        time.sleep(0.3)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def bare_turn(client: Any, sid: str, text: str) -> float:
    """`events.send`, then the SDK's stream until the turn's idle."""
    start = time.perf_counter()
    with client.beta.sessions.events.stream(sid) as stream:
        client.beta.sessions.events.send(sid, events=[{"type": "user.message",
                                                       "content": [{"type": "text", "text": text}]}])
        seen_message = False
        for event in stream:
            if event.type == "user.message":
                seen_message = True
            if seen_message and event.type == "session.status_idle" and \
                    getattr(event.stop_reason, "type", None) != "requires_action":
                break
    return time.perf_counter() - start


def twenty_calls(reps: int, calls: int) -> dict[str, Any]:
    import nb_agents
    from nb_agents.api import client as nb_client
    from nb_agents.local import HOST

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        emu = nb_client.go_offline(brain="echo", scenarios={"calls": {"name": "calls", "turns": steps(calls)}})
        try:
            sdk = emu.client()
            agent = sdk.beta.agents.create(name="bench-bare", model="claude-sonnet-4-6",
                                           metadata={"emulator_brain": "scenario:calls"},
                                           tools=[{"type": "agent_toolset_20260401"}])
            env = sdk.beta.environments.create(name="bench-bare", config={"type": "self_hosted"})
            sid = sdk.beta.sessions.create(agent=agent.id, environment_id=env.id).id
            Path(tmp, "bare").mkdir()
            bare = BareWorker(emu.base_url, env.id, str(Path(tmp, "bare")))
            bare_turn(sdk, sid, "warm")  # claims the item; not timed
            sess = nb_agents.session("bench-local", local=True, local_idle=600.0)
            prompt = "[[emulator: scenario calls]]\ngo"
            sess.ask(prompt, auto=True, live=False)  # claims the item; not timed
            times: dict[str, list[float]] = {"bare": [], "nb_agents": []}
            for _ in range(reps):
                times["bare"].append(bare_turn(sdk, sid, "go"))
                start = time.perf_counter()
                run = sess.ask(prompt, auto=True, live=False)
                times["nb_agents"].append(time.perf_counter() - start)
                assert run.stop_reason == "end_turn"
                assert sum(e.type == "user.tool_result" for e in run.events) == calls
            listed = HOST.ledger.listed
            bare.close()
            HOST.stop()
        finally:
            nb_client.go_online()
            os.chdir("/")
    return {k: statistics.median(v) for k, v in times.items()} | {"all": times, "listed": listed}


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"t": np.arange(rows), "temp": rng.normal(20, 5, rows), "humidity": rng.random(rows),
                         "site": pd.Categorical(rng.choice(["a", "b", "c"], rows))})


def profile(rows: int) -> dict[str, Any]:
    import nb_agents
    from nb_agents.api import client as nb_client
    from nb_agents.local import HOST

    df = make_frame(rows)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        emu = nb_client.go_offline()
        try:
            for mode in ("cloud", "local"):
                uploads = emu.stats["uploads"]
                sess = nb_agents.session(f"profile-{mode}", local=mode == "local")
                start = time.perf_counter()
                run = sess.ask("Profile {{readings}}", namespace={"readings": df}, auto=True, live=False)
                out[mode] = time.perf_counter() - start
                out[f"{mode}_uploads"] = emu.stats["uploads"] - uploads
                assert run.stop_reason == "end_turn" and "readings_profile.csv" in run.outputs, run.text
            HOST.stop()
        finally:
            nb_client.go_online()
            os.chdir("/")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    os.environ.pop("ANTHROPIC_API_KEY", None)
    turn = twenty_calls(args.reps, args.calls)
    ratio = turn["nb_agents"] / turn["bare"]
    print(f"a turn with {args.calls} tool calls served in this process, medians of {args.reps}:")
    print(f"  bare SDK EnvironmentWorker + stream: {turn['bare']:.3f} s   (all: {turn['all']['bare']})")
    print(f"  nb_agents local mode (ask):          {turn['nb_agents']:.3f} s  ({ratio:.2f}x)")
    print(result_line("bare_worker_turn_seconds", round(turn["bare"], 4), "s",
                      detail=f"{args.calls} tool calls, emulator, median of {args.reps}"))
    print(result_line("local_turn_ratio", round(ratio, 3), "x bare worker", target=f"<= {TARGET}",
                      met=ratio <= TARGET,
                      detail=f"{turn['nb_agents']:.3f} s; the same 20 commands every turn, "
                             f"{turn['listed']} history reads for repeated calls"))
    prof = profile(args.rows)
    print(f"profile of a {args.rows:,}-row frame: cloud {prof['cloud']:.2f} s ({prof['cloud_uploads']} upload), "
          f"local {prof['local']:.2f} s ({prof['local_uploads']} uploads)")
    print(result_line("profile_cloud_seconds", round(prof["cloud"], 3), "s",
                      detail=f"{args.rows:,} rows, {prof['cloud_uploads']} upload"))
    print(result_line("profile_local_seconds", round(prof["local"], 3), "s",
                      detail=f"{args.rows:,} rows, {prof['local_uploads']} uploads"))
    print(result_line("profile_local_uploads", prof["local_uploads"], "uploads", target="0",
                      met=prof["local_uploads"] == 0))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
