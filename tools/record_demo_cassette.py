"""Record the cassette that notebooks/04_teaching_with_replay.ipynb replays.

    .venv/bin/python tools/record_demo_cassette.py [--out notebooks/cassettes/profile_sales.jsonl]

Runs one real turn on the built-in emulator (its analyst brain profiles a small sales table
with real pandas code in the sandbox and writes a profile CSV and a histogram), records every
event with its timing plus the files the turn produced, and writes the cassette and its
`.files/` folder. Run it again whenever the cassette format or the emulator changes; the
notebook needs no key and no emulator to replay it.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "notebooks" / "cassettes" / "profile_sales.jsonl"
PROMPT = "Profile {{sales}}: which columns have missing values, and how is revenue distributed?"


def sales_table():  # type: ignore[no-untyped-def]
    import pandas as pd

    months = pd.period_range("2026-01", periods=12, freq="M").astype(str)
    revenue = [12.5, 13.1, 9.8, 15.2, 16.0, None, 17.4, 18.1, 14.9, 19.6, 21.0, 24.3]
    region = ["north", "south", "north", "east", "south", "east", "north", "south", None, "east", "north", "south"]
    return pd.DataFrame({"month": months, "region": region, "revenue_k": revenue})


def record(out: Path) -> Path:
    import nb_agents
    from nb_agents.config import AgentMagic, set_current_config
    from nb_agents.record import Recorder, load_cassette

    nb_agents.offline()
    cfg = AgentMagic()
    cfg.outputs_dir = str(out.parent / "_recording_outputs")
    set_current_config(cfg)
    session = nb_agents.session("teaching")
    sales = sales_table()
    digest = hashlib.sha256(sales.to_csv(index=False).encode()).hexdigest()
    recorder = Recorder(out, meta={"prompt": PROMPT, "backend": "emulator", "session_name": "teaching",
                                   "model": cfg.model, "input_hashes": {"sales": digest},
                                   "recorded_with": "tools/record_demo_cassette.py"})
    session.listeners.append(recorder.on_event)
    try:
        run = session.ask(PROMPT, namespace={"sales": sales}, live=False)
    finally:
        session.listeners.remove(recorder.on_event)
    info = session.client.beta.sessions.retrieve(run.session_id)
    recorder.meta.update(session_id=run.session_id, agent_id=info.agent.id, agent_version=info.agent.version,
                         environment_id=info.environment_id)
    path = recorder.close(run)
    cas = load_cassette(path)
    print(f"recorded {len(cas.events)} events, {len(cas.files)} files, {cas.duration:.2f} s -> {path}")
    print(run.text)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cassette path (.jsonl)")
    args = parser.parse_args(argv)
    import shutil

    try:
        record(args.out)
    finally:
        shutil.rmtree(args.out.parent / "_recording_outputs", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
