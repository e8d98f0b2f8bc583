"""Stream cuts: a TCP proxy between nb_agents and the emulator cuts the SSE connection at
seeded random byte offsets (mid-frame too); every run's transcript equals the uncut one.

nb_agents is driven through its public Python API (`nb_agents.session(name).ask(...)`); only
the backend's address is pointed at the proxy. The reconnect backoff is shortened so that 50
trials take seconds, not minutes (the backoff itself is tested with the event loop).
"""

from __future__ import annotations

import random
import types
from typing import Any

import pytest
from tcp_proxy import TcpProxy

import nb_agents
import nb_agents.api.client as nb_client
from nb_agents.emulator import Emulator
from nb_agents.sessions import forget

STEPS = [
    {"say": "Let me count how often this tool runs, then report back."},
    {
        "tool": "bash",
        "input": {"command": "echo ran >> ran.txt && wc -l < ran.txt"},
        "say": "Running it once.",
    },
    {"delay": 0.2},  # so that a reconnected stream still has frames to carry (and to cut)
    {"say": "The tool ran **exactly once**, as the file shows."},
]
TRIALS = 50


def _content_text(event: Any) -> str:
    return "".join(getattr(block, "text", "") or "" for block in getattr(event, "content", None) or [])


def signature(events: list[Any]) -> list[tuple[Any, ...]]:
    """What a transcript says, without ids and times; deltas (stream-only, best effort) excluded."""
    sig: list[tuple[Any, ...]] = []
    for event in events:
        etype = getattr(event, "type", "")
        if etype.startswith("event_"):
            continue
        if etype in ("agent.message", "user.message", "agent.tool_result"):
            sig.append((etype, _content_text(event)))
        elif etype == "agent.tool_use":
            sig.append((etype, event.name, dict(event.input)))
        else:
            sig.append((etype,))
    return sig


@pytest.fixture(scope="module")
def cut_emulator():  # type: ignore[no-untyped-def]
    with Emulator(brain="scenario:cuts", scenarios={"cuts": STEPS}) as emu:
        yield emu


def _run_through(proxy: TcpProxy, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    # point nb_agents' offline backend at the proxy instead of the emulator itself
    try:
        with nb_client.using_emulator(types.SimpleNamespace(base_url=proxy.base_url)):
            return nb_agents.session(name).ask("count the runs", live=False, interpolate=False)
    finally:
        forget(name)  # leave the kernel-wide registry as other tests expect it


def _server_types(emu: Emulator, session_id: str) -> list[str]:
    return [e.type for e in emu.client().beta.sessions.events.list(session_id, limit=1000, order="asc")]


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter waits that are beside the point here: the reconnect backoff, and the output pull's
    settle time (the `pull_settle` option; this scenario never writes outputs)."""
    monkeypatch.setattr("nb_agents.api.retry.BACKOFF_START", 0.01)
    monkeypatch.setenv("NB_AGENTS_PULL_SETTLE", "0")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_fifty_seeded_cuts_give_the_uncut_transcript(
    cut_emulator: Emulator, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = cut_emulator
    with TcpProxy(emulator.base_url, offsets=[10**9]) as proxy:  # armed, never cut: measures the stream
        reference = _run_through(proxy, "cuts-reference", monkeypatch)
        [(_, stream_bytes)] = proxy.armed_bodies
    expected = signature(reference.events)
    assert reference.stop_reason == "end_turn" and [c.result_text for c in reference.tool_calls] == ["1"]
    assert stream_bytes > 1000

    cut_runs, mid_line, cuts = 0, 0, 0
    for seed in range(TRIALS):
        rng = random.Random(seed)
        # the first cut anywhere in the stream (early when more cuts follow on the reconnected streams)
        extra = seed % 3  # 0, 1 or 2 more cuts: then cut early, so the reconnected stream has bytes to cut
        offsets = [rng.randint(1, stream_bytes // (1 + 3 * extra) - 1)] + [
            rng.randint(1, 200) for _ in range(extra)
        ]
        with TcpProxy(emulator.base_url, offsets=offsets, max_cuts=None, reset=seed % 2 == 1) as proxy:
            run = _run_through(proxy, f"cuts-{seed}", monkeypatch)
        assert proxy.live_threads == 0
        where = f"seed {seed}, cuts at {[c.offset for c in proxy.cuts]}"
        assert signature(run.events) == expected, where
        assert run.text == reference.text and run.stop_reason == "end_turn", where
        assert [c.result_text for c in run.tool_calls] == ["1"], f"tool ran twice? {where}"
        ids = [e.id for e in run.events if getattr(e, "id", None)]
        assert len(ids) == len(set(ids)), f"duplicate event: {where}"
        server = _server_types(emulator, run.session_id)
        assert server.count("user.message") == 1 and server.count("agent.tool_use") == 1, where
        cut_runs += bool(proxy.cuts)
        cuts += len(proxy.cuts)
        # between two bytes of one line (a field name, the JSON, a chunk size): surely mid-frame
        mid_line += sum(c.tail[-1:] not in (b"\r", b"\n") for c in proxy.cuts)
    print(f"runs cut {cut_runs}/{TRIALS}, cuts {cuts}, mid-line {mid_line}")
    assert cut_runs >= TRIALS - 5 and cuts > cut_runs and mid_line >= TRIALS // 2, (cut_runs, cuts, mid_line)
