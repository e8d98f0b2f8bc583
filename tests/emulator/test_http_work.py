"""The self-hosted work queue: the protocol by hand, then the SDK's own EnvironmentWorker
serving a self-hosted session's tool call against the emulator."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic.lib.environments import EnvironmentWorker
from anthropic.types.beta.environments import (
    BetaSelfHostedWork,
    BetaSelfHostedWorkHeartbeatResponse,
    BetaSelfHostedWorkQueueStats,
)

from nb_agents.emulator.validation import conforms

STEPS = [
    {"tool": "bash", "input": {"command": "echo hello-from-the-worker"}},
    {"say": "The worker said hello."},
]


def _self_hosted_session(client: Any, name: str) -> tuple[str, str]:
    agent = client.beta.agents.create(
        name=name,
        model="claude-sonnet-4-6",
        metadata={"emulator_brain": "scenario:worker"},
        tools=[{"type": "agent_toolset_20260401"}],
    )
    env = client.beta.environments.create(name=name, config={"type": "self_hosted"})
    return env.id, client.beta.sessions.create(agent=agent.id, environment_id=env.id).id


def _raw(response: Any, model: Any) -> Any:
    body = response.http_response.json()
    assert conforms(model, body) == []
    return body


def test_work_protocol(client: Any) -> None:
    env_id, sid = _self_hosted_session(client, "work-protocol")
    work = client.beta.environments.work.with_raw_response
    assert _raw(work.stats(env_id), BetaSelfHostedWorkQueueStats)["depth"] == 1
    item = _raw(work.poll(env_id, block_ms=50), BetaSelfHostedWork)
    assert item["data"] == {"type": "session", "id": sid} and item["secret"] and item["state"] == "queued"
    assert client.beta.environments.work.poll(env_id) is None  # leased to the first poller for 5 s
    assert _raw(work.ack(item["id"], environment_id=env_id), BetaSelfHostedWork)["state"] == "starting"
    with pytest.raises(anthropic.ConflictError):
        client.beta.environments.work.ack(item["id"], environment_id=env_id)
    beat = _raw(
        work.heartbeat(
            item["id"], environment_id=env_id, expected_last_heartbeat="NO_HEARTBEAT", desired_ttl_seconds=30
        ),
        BetaSelfHostedWorkHeartbeatResponse,
    )
    assert beat["state"] == "active" and beat["lease_extended"] and beat["ttl_seconds"] == 30
    with pytest.raises(anthropic.APIStatusError) as stale:
        client.beta.environments.work.heartbeat(
            item["id"], environment_id=env_id, expected_last_heartbeat="NO_HEARTBEAT"
        )
    assert stale.value.status_code == 412
    details = stale.value.response.json()["error"]["details"]
    assert details["error_code"] == "heartbeat_precondition_failed"
    assert details["current_state"]["last_heartbeat"] == beat["last_heartbeat"]
    updated = _raw(
        work.update(item["id"], environment_id=env_id, metadata={"host": "laptop"}), BetaSelfHostedWork
    )
    assert updated["metadata"] == {"host": "laptop"}
    assert [w.id for w in client.beta.environments.work.list(env_id)] == [item["id"]]
    client.beta.sessions.archive(sid)  # the session went away: the worker is told to stop
    beat = client.beta.environments.work.heartbeat(
        item["id"], environment_id=env_id, expected_last_heartbeat=beat["last_heartbeat"]
    )
    assert beat.state == "stopping" and beat.lease_extended is False
    assert (
        _raw(work.stop(item["id"], environment_id=env_id, force=True), BetaSelfHostedWork)["state"]
        == "stopped"
    )
    with pytest.raises(anthropic.ConflictError):
        client.beta.environments.work.stop(item["id"], environment_id=env_id)


@pytest.mark.anyio
async def test_the_sdk_worker_serves_a_self_hosted_session(make_emulator: Any, tmp_path: Any) -> None:
    emu = make_emulator(brain="echo", scenarios={"worker": STEPS})
    env_id, sid = _self_hosted_session(emu.client(max_retries=0), "work-e2e")
    async with emu.async_client(max_retries=0) as aclient:
        await aclient.beta.sessions.events.send(
            sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "go"}]}]
        )
        item = await aclient.beta.environments.work.poll(env_id, block_ms=500)
        assert item is not None
        await aclient.beta.environments.work.ack(item.id, environment_id=env_id)
        worker = EnvironmentWorker(
            aclient, environment_id=env_id, environment_key="env-key", workdir=tmp_path, max_idle=0.5
        )
        await worker.handle_item(
            work_id=item.id, environment_id=env_id, session_id=sid, work_secret=item.secret
        )
        events = [e async for e in aclient.beta.sessions.events.list(sid)]
        final = await aclient.beta.environments.work.retrieve(item.id, environment_id=env_id)
    results = [e for e in events if e.type == "user.tool_result"]
    assert len(results) == 1 and "hello-from-the-worker" in results[0].content[0].text  # type: ignore[union-attr]
    assert [e.type for e in events][-1] == "session.status_idle"
    assert final.state == "stopped" and final.started_at is not None


def test_new_work_after_the_worker_let_go_is_queued_again(client: Any) -> None:
    env_id, sid = _self_hosted_session(client, "work-again")
    work = client.beta.environments.work
    first = work.poll(env_id, block_ms=50)
    work.ack(first.id, environment_id=env_id)
    work.stop(first.id, environment_id=env_id, force=True)  # an idle session: the worker lets go
    assert work.stats(env_id).depth == 0
    client.beta.sessions.events.send(sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}])
    again = work.poll(env_id, block_ms=500)
    assert again is not None and again.id != first.id and again.data.id == sid
    work.ack(again.id, environment_id=env_id)
    client.beta.sessions.events.send(sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "more"}]}])
    assert work.stats(env_id).depth == 0  # an item is live: nothing more is queued


def test_a_lease_not_renewed_within_its_ttl_is_queued_again(make_emulator: Any) -> None:
    emu = make_emulator(brain="echo", work_ttl=0.3)
    client = emu.client(max_retries=0)
    env_id, sid = _self_hosted_session(client, "work-ttl")
    work = client.beta.environments.work
    item = work.poll(env_id, block_ms=50)
    work.ack(item.id, environment_id=env_id)
    beat = work.heartbeat(item.id, environment_id=env_id, expected_last_heartbeat="NO_HEARTBEAT")
    assert beat.lease_extended and beat.ttl_seconds == 0  # a test TTL under a second
    import time

    time.sleep(0.5)  # the worker went quiet
    with pytest.raises(anthropic.APIStatusError) as lost:
        work.heartbeat(item.id, environment_id=env_id, expected_last_heartbeat=beat.last_heartbeat)
    assert lost.value.status_code == 412  # the lease is gone
    again = work.poll(env_id, block_ms=50, reclaim_older_than_ms=0)
    assert again is not None and again.id == item.id and again.state == "queued"
