"""Authentication, request ids, and injected faults (errors with retry-after, latency, stream cuts)."""

from __future__ import annotations

import time
from typing import Any

import anthropic
import httpx2
import pytest

from nb_agents.emulator import FaultConfig


def test_auth(emulator: Any) -> None:
    url = f"{emulator.base_url}/v1/agents"
    assert httpx2.get(url).status_code == 401
    for headers in ({"x-api-key": "invalid"}, {"x-api-key": "sk-bad-1"}, {"authorization": "Bearer sk-bad"}):
        r = httpx2.get(url, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        assert r.json()["request_id"] == r.headers["request-id"]
    assert httpx2.get(url, headers={"authorization": "Bearer anything"}).status_code == 200
    r = httpx2.get(f"{emulator.base_url}/v1/nowhere", headers={"x-api-key": "k"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_fail_next_is_retried_by_the_sdk(emulator: Any) -> None:
    emulator.faults.fail_next(2, 529, route="GET /v1/agents")
    before = emulator.stats["faults:529"]
    with emulator.client(max_retries=2) as c:
        assert c.beta.agents.list().data is not None  # two 529s, then success
    assert emulator.stats["faults:529"] == before + 2


def test_error_rate_with_retry_after_per_route(client: Any, emulator: Any) -> None:
    emulator.faults.update(
        error_rate=1.0, error_statuses=(429,), retry_after=7, routes=("POST /v1/environments",)
    )
    with pytest.raises(anthropic.RateLimitError) as exc:
        client.beta.environments.create(name="never")
    assert exc.value.response.headers["retry-after"] == "7"
    assert exc.value.response.json()["error"]["type"] == "rate_limit_error"
    assert client.beta.agents.list().data is not None  # other routes unaffected
    emulator.faults.update(error_rate=0.0)
    assert client.beta.environments.create(name="after-storm").name == "after-storm"


def test_seeded_error_storm_is_reproducible(make_emulator: Any) -> None:
    def outcomes() -> list[int]:
        emu = make_emulator(brain="echo", faults={"error_rate": 0.5, "error_statuses": (500, 529), "seed": 7})
        url = f"{emu.base_url}/v1/agents"
        return [httpx2.get(url, headers={"x-api-key": "k"}).status_code for _ in range(12)]

    first = outcomes()
    assert first == outcomes() and {200} < set(first) <= {200, 500, 529}


def test_latency(client: Any, emulator: Any) -> None:
    emulator.faults.update(latency=0.3, routes=("GET /v1/environments",))
    start = time.monotonic()
    client.beta.environments.list()
    assert time.monotonic() - start >= 0.3


def test_unknown_fault_setting_is_refused(emulator: Any) -> None:
    with pytest.raises(TypeError):
        emulator.faults.update(explode=True)
    assert isinstance(emulator.faults.config, FaultConfig)


def _streamed(emu: Any, mode: str) -> tuple[list[str], BaseException | None]:
    c = emu.client(max_retries=0)
    agent = c.beta.agents.create(name="cut", model="claude-sonnet-4-6", metadata={"emulator_brain": "echo"})
    env = c.beta.environments.create(name=f"cut-{mode}")
    sid = c.beta.sessions.create(agent=agent.id, environment_id=env.id).id
    emu.faults.update(stream_cut_after=3, stream_cut_mode=mode)
    seen: list[str] = []
    error = None
    try:
        with c.beta.sessions.events.stream(sid) as stream:
            c.beta.sessions.events.send(
                sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "x"}]}]
            )
            for ev in stream:
                seen.append(ev.type)
    except (anthropic.APIConnectionError, httpx2.HTTPError) as exc:
        error = exc
    return seen, error


@pytest.mark.parametrize("mode", ["eof", "abort"])
def test_stream_cut_after_n_events(make_emulator: Any, mode: str) -> None:
    emu = make_emulator(brain="echo")
    seen, error = _streamed(emu, mode)
    assert len(seen) == 3
    assert (error is None) == (mode == "eof")


def test_stream_cut_at_random_offsets_loses_only_whole_frames(make_emulator: Any) -> None:
    emu = make_emulator(brain="echo", faults={"stream_cut_rate": 0.3, "stream_cut_mode": "abort", "seed": 3})
    seen, error = _streamed(emu, "abort")
    assert error is not None
    c = emu.client(max_retries=0)
    (session,) = c.beta.sessions.list().data
    listed = [e.type for e in c.beta.sessions.events.list(session.id)]
    assert seen == listed[: len(seen)]  # what arrived is a clean prefix
