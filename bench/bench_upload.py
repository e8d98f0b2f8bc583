"""Benchmark: sending a 1,000,000-row x 10-column DataFrame to a session, on the emulator.

Four ways, in the same run against one emulator in its own process (bench/emulator_process.py:
its work, receiving the file and copying it into the session, is in neither side's process):
- baseline: `df.to_parquet()` + a plain SDK `client.beta.files.upload` (no mount);
- first:    `FileSync.prepare({"df": df}, session_id=...)` on a fresh session (hash, Parquet,
            upload and mount with `sessions.resources.add`);
- unchanged: the same call again for the same session (content hash only, zero uploads).
- mounted:  the baseline plus `sessions.resources.add` on a fresh session: the least the bare SDK
            does to give a frame to a running session (a second ratio, for the record).
Each is repeated `--reps` times, interleaved (fresh session for "first"); figures are medians
(and minimums). Targets:
first <= 1.10x baseline (it also hashes, and mounts: the emulator copies the file into the
session, work the baseline does not do; its Parquet writer skips dictionary attempts on floats),
unchanged <= 0.05x baseline (xxh3 over the frame's buffers runs at memory speed).

    python bench/bench_upload.py [--rows 1000000] [--reps 5]

Prints a human summary and one `RESULT {json}` line per figure (collected by bench/run_all.py).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ (also when loaded by a test)
from emulator_process import EmulatorProcess  # noqa: E402

TARGET_FIRST = 1.10
TARGET_UNCHANGED = 0.05


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "id": np.arange(rows),
        "qty": rng.integers(0, 1000, rows),
        "price": rng.random(rows) * 100,
        "discount": rng.random(rows),
        "score": rng.normal(size=rows),
        "region": pd.Categorical(rng.choice(["north", "south", "east", "west"], rows)),
        "sku": rng.choice([f"sku-{i}" for i in range(500)], rows),
        "when": pd.date_range("2024-01-01", periods=rows, freq="min", tz="UTC"),
        "flag": rng.random(rows) < 0.5,
        "ratio": rng.random(rows).astype("float32"),
    })


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def baseline(client: Any, df: pd.DataFrame) -> str:
    buf = io.BytesIO()
    df.to_parquet(buf)
    return str(client.beta.files.upload(file=("df.parquet", buf.getvalue(), "application/vnd.apache.parquet")).id)


def baseline_mounted(client: Any, df: pd.DataFrame, session_id: str) -> str:
    """The least the bare SDK does to hand a frame to a running session: serialize, upload, mount."""
    file_id = baseline(client, df)
    client.beta.sessions.resources.add(session_id, type="file", file_id=file_id, mount_path="/mnt/session/uploads/df.parquet")
    return file_id


def measure(rows: int, reps: int) -> dict[str, Any]:
    import anthropic

    from nb_agents.files import FileSync

    df = make_frame(rows)
    times: dict[str, list[float]] = {"baseline": [], "first": [], "unchanged": [], "mounted": []}
    with EmulatorProcess("--brain", "echo") as emu, tempfile.TemporaryDirectory() as out:
        client = anthropic.Anthropic(base_url=emu.url, api_key="bench-key")
        agent = client.beta.agents.create(model="claude-sonnet-4-6", name="bench", tools=[{"type": "agent_toolset_20260401"}])
        env = client.beta.environments.create(name="bench", config={"type": "cloud"})

        def session() -> str:
            return str(client.beta.sessions.create(agent=agent.id, environment_id=env.id).id)

        def bare() -> None:
            seconds, file_id = timed(baseline, client, df)
            times["baseline"].append(seconds)
            client.beta.files.delete(file_id)  # keep the emulator's memory flat across reps

        def bare_mounted() -> None:
            sid = session()
            seconds, file_id = timed(baseline_mounted, client, df, sid)
            times["mounted"].append(seconds)
            client.beta.sessions.delete(sid)
            client.beta.files.delete(file_id)

        def ours() -> int:
            sid = session()
            sync = FileSync(client, outputs_dir=out, session_name="bench")
            seconds, prep = timed(sync.prepare, {"df": df}, session_id=sid)
            times["first"].append(seconds)
            seconds, again = timed(sync.prepare, {"df": df}, session_id=sid)
            times["unchanged"].append(seconds)
            assert not again.uploaded and again.report[0].status == "unchanged"
            client.beta.sessions.delete(sid)
            client.beta.files.delete(prep.uploaded[0])
            return int(prep.report[0].size)

        size = 0
        for rep in range(reps):  # interleaved, the order alternating
            bare() if rep % 2 == 0 else bare_mounted()
            size = ours()
            bare_mounted() if rep % 2 == 0 else bare()
    return {"medians": {k: statistics.median(v) for k, v in times.items()},
            "mins": {k: min(v) for k, v in times.items()}, "size": size, "rows": rows}


def result_line(metric: str, value: float, unit: str, **extra: object) -> str:
    return "RESULT " + json.dumps({"bench": "upload", "metric": metric, "value": value, "unit": unit, **extra})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    res = measure(args.rows, args.reps)
    m, low = res["medians"], res["mins"]
    first_ratio, unchanged_ratio = m["first"] / m["baseline"], m["unchanged"] / m["baseline"]
    mounted_ratio = m["first"] / m["mounted"]
    print(f"{res['rows']:,} rows x 10 columns, Parquet {res['size'] / 1e6:.1f} MB, medians (min) of {args.reps}:")
    print(f"  baseline (to_parquet + files.upload): {m['baseline']:.3f} s ({low['baseline']:.3f})")
    print(f"  baseline + sessions.resources.add (the mount): {m['mounted']:.3f} s ({low['mounted']:.3f})")
    print(f"  FileSync first send (hash + upload + mount): {m['first']:.3f} s ({low['first']:.3f})"
          f"  {first_ratio:.2f}x baseline, {mounted_ratio:.2f}x baseline + mount,"
          f" min/min {low['first'] / low['baseline']:.2f}x")
    print(f"  FileSync unchanged (hash only, 0 uploads):   {m['unchanged']:.3f} s  ({unchanged_ratio:.2f}x)")
    detail = f"{res['rows']:,} x 10 frame, {res['size'] / 1e6:.1f} MB Parquet, emulator in its own process, median of {args.reps}"
    print(result_line("baseline_seconds", round(m["baseline"], 4), "s", detail=detail))
    print(result_line("first_send_ratio", round(first_ratio, 3), "x baseline", target=f"<= {TARGET_FIRST}",
                      met=first_ratio <= TARGET_FIRST,
                      detail=f"{m['first']:.3f} s; min/min {low['first'] / low['baseline']:.3f}"))
    print(result_line("first_send_ratio_vs_upload_and_mount", round(mounted_ratio, 3), "x",
                      detail=f"baseline + sessions.resources.add {m['mounted']:.3f} s"))
    print(result_line("unchanged_ratio", round(unchanged_ratio, 3), "x baseline", target=f"<= {TARGET_UNCHANGED}",
                      met=unchanged_ratio <= TARGET_UNCHANGED, detail=f"{m['unchanged']:.3f} s, 0 uploads"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
