"""Error storms: 20% of all requests, on every endpoint, answered 429, 500 or 529.

The emulator injects the errors (seeded, so a failure is reproducible) on every route: agent
and environment look-ups, session creation, sends, the SSE stream, `events.list`, the files
listing and downloads of the output pull. nb_agents is driven through its public Python API;
every run must complete with the same answer as without faults, the tool must run once per
turn, and the transcript shown to the user must say that it reconnected/retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import nb_agents
import nb_agents.api.client as nb_client
import nb_agents.files.sync as nb_files
from nb_agents.emulator import Emulator
from nb_agents.sessions import forget
from nb_agents.view import render_text

STEPS = [
    {
        "tool": "bash",
        "input": {"command": "echo ran >> ran.txt && wc -l < ran.txt"},
        "say": "Counting the runs.",
    },
    {"write_output": "storm.txt", "content": "made in a storm"},
    {"say": "Done: the tool ran **once** this turn."},
]
TURNS = 8


@pytest.fixture
def storm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(brain="scenario:storm", scenarios={"storm": STEPS}) as emu:
        monkeypatch.setattr("nb_agents.api.retry.BACKOFF_START", 0.01)  # the backoff itself is tested elsewhere
        init = nb_files.FileSync.__init__
        monkeypatch.setattr(
            nb_files.FileSync, "__init__", lambda self, *a, **kw: init(self, *a, **{**kw, "settle": 0.0})
        )
        with nb_client.using_emulator(emu):  # nb_agents' offline backend is this server
            yield emu


def _ask(name: str, tmp: Any) -> Any:
    # a new server session per run: the scenario is one turn, the sandbox (and its counter) per session
    return nb_agents.session(name).ask("count", live=False, interpolate=False, outputs_dir=str(tmp), new=True)


def bash_results(run: Any) -> list[str]:
    return [c.result_text for c in run.tool_calls if c.name == "bash"]


def _mentions_retry(run: Any) -> bool:
    text = render_text(run.transcript).lower()
    return "reconnecting… (http" in text


@pytest.mark.timeout(180)
def test_every_run_completes_through_a_20_percent_error_storm(storm: Emulator, tmp_path: Any) -> None:
    reference = _ask("storm-ref", tmp_path / "ref")
    forget("storm-ref")
    assert reference.stop_reason == "end_turn" and bash_results(reference) == ["1"]

    storm.faults.update(
        error_rate=0.2, error_statuses=(429, 500, 529), routes=("*",), retry_after=0.01, seed=9
    )
    try:
        runs = [_ask("storm", tmp_path / "storm") for _ in range(TURNS)]
    finally:
        forget("storm")
        injected = sum(v for k, v in storm.stats.items() if k.startswith("faults:"))
        storm.faults.reset()
    assert injected >= 6, f"the storm injected only {injected} errors"
    for turn, run in enumerate(runs, 1):
        assert run.stop_reason == "end_turn", (turn, run.stop_reason, render_text(run.transcript))
        assert run.text == reference.text, turn
        # a file-backed counter in the session's sandbox: a re-run would print 2
        assert bash_results(run) == ["1"], f"run {turn}: tool ran twice?"
        assert "storm.txt" in run.outputs and run.outputs["storm.txt"].path.read_text() == "made in a storm"
        server = storm.client().beta.sessions.events.list(run.session_id, limit=1000, order="asc")
        assert [e.type for e in server].count("user.message") == 1, f"run {turn}: the message was sent twice"
    assert any(_mentions_retry(run) for run in runs), "no run's view mentions the retries"
