"""Session threads endpoints: a view of the primary thread and the threads scenarios create."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic.types.beta.sessions import BetaManagedAgentsSessionEvent, BetaManagedAgentsSessionThread

from nb_agents.emulator.validation import conforms


def _run(client: Any, brain: str) -> str:
    agent = client.beta.agents.create(
        name="lead", model="claude-sonnet-4-6", metadata={"emulator_brain": brain}
    )
    env = client.beta.environments.create(name=f"threads-{brain}")
    sid = client.beta.sessions.create(agent=agent.id, environment_id=env.id).id
    with client.beta.sessions.events.stream(sid) as stream:
        client.beta.sessions.events.send(
            sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "go"}]}]
        )
        for ev in stream:
            if ev.type == "session.status_idle":
                break
    return sid


def test_threads_list_retrieve_events_archive(client: Any) -> None:
    sid = _run(client, "scenario:threads")
    raw = client.beta.sessions.threads.with_raw_response.list(sid).http_response.json()
    assert set(raw) == {"data", "next_page"} and raw["next_page"] is None
    for thread in raw["data"]:
        assert conforms(BetaManagedAgentsSessionThread, thread) == []
    primary, child = client.beta.sessions.threads.list(sid).data
    assert primary.parent_thread_id is None and primary.status == "idle" and primary.agent.name == "lead"
    assert (
        child.parent_thread_id == primary.id
        and child.agent.name == "reviewer"
        and child.status == "terminated"
    )
    assert client.beta.sessions.threads.retrieve(child.id, session_id=sid).id == child.id
    child_events = client.beta.sessions.threads.events.list(child.id, session_id=sid).data
    assert child_events and all(e.session_thread_id == child.id for e in child_events)  # type: ignore[union-attr]
    everything = client.beta.sessions.threads.events.list(primary.id, session_id=sid).data
    assert [e.id for e in everything] == [e.id for e in client.beta.sessions.events.list(sid).data]
    raw_events = client.beta.sessions.threads.events.with_raw_response.list(primary.id, session_id=sid)
    assert all(
        conforms(BetaManagedAgentsSessionEvent, e) == [] for e in raw_events.http_response.json()["data"]
    )
    assert client.beta.sessions.threads.list(sid, statuses=["terminated"]).data[0].id == child.id
    assert client.beta.sessions.threads.archive(child.id, session_id=sid).archived_at is not None
    with pytest.raises(anthropic.BadRequestError):
        client.beta.sessions.threads.archive(primary.id, session_id=sid)
    with pytest.raises(anthropic.NotFoundError):
        client.beta.sessions.threads.retrieve("sthr_missing", session_id=sid)


def test_primary_thread_stream_carries_the_session_events(client: Any) -> None:
    agent = client.beta.agents.create(
        name="solo", model="claude-sonnet-4-6", metadata={"emulator_brain": "echo"}
    )
    env = client.beta.environments.create(name="threads-stream")
    sid = client.beta.sessions.create(agent=agent.id, environment_id=env.id).id
    (primary,) = client.beta.sessions.threads.list(sid).data
    with client.beta.sessions.threads.events.stream(
        primary.id, session_id=sid, event_deltas=["agent.message"]
    ) as s:
        client.beta.sessions.events.send(
            sid, events=[{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]
        )
        seen = []
        for ev in s:
            seen.append(ev.type)
            if ev.type == "session.status_idle":
                break
    assert "event_delta" in seen and "agent.message" in seen
