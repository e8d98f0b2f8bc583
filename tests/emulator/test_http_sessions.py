"""Sessions and resources endpoints: agent references, mounts, updates, lists, delete/archive rules."""

from __future__ import annotations

import time
from typing import Any

import anthropic
import pytest

ECHO = {"emulator_brain": "echo"}


@pytest.fixture(scope="module")
def ids(emulator: Any) -> dict[str, str]:
    c = emulator.client(max_retries=0)
    agent = c.beta.agents.create(name="sess", model="claude-sonnet-4-6", metadata=ECHO)
    env = c.beta.environments.create(name="sess-env")
    return {"agent": agent.id, "env": env.id}


def _upload(client: Any, name: str = "data.csv") -> Any:
    return client.beta.files.upload(file=(name, b"x,y\n1,2\n", "text/csv"))


def test_agent_reference_forms(client: Any, ids: dict[str, str]) -> None:
    client.beta.agents.update(ids["agent"], description="v2")
    latest = client.beta.sessions.create(agent=ids["agent"], environment_id=ids["env"])
    pinned = client.beta.sessions.create(
        agent={"type": "agent", "id": ids["agent"], "version": 1}, environment_id=ids["env"]
    )
    over = client.beta.sessions.create(
        agent={
            "type": "agent_with_overrides",
            "id": ids["agent"],
            "system": "override",
            "model": "claude-haiku-4-5",
        },
        environment_id=ids["env"],
    )
    assert latest.agent.version == 2 and pinned.agent.version == 1
    assert over.agent.system == "override" and over.agent.model.id == "claude-haiku-4-5"
    assert latest.status == "idle" and latest.usage.list_cost.amount == "0"
    with pytest.raises(anthropic.NotFoundError):
        client.beta.sessions.create(agent="agent_missing", environment_id=ids["env"])
    with pytest.raises(anthropic.NotFoundError):
        client.beta.sessions.create(agent=ids["agent"], environment_id="env_missing")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/df.csv", "/mnt/session/uploads/df.csv"),
        ("df.csv", "/mnt/session/uploads/df.csv"),
        ("/mnt/session/uploads/a/b.csv", "/mnt/session/uploads/a/b.csv"),
    ],
)
def test_file_resources_mount_a_new_session_copy(
    client: Any, ids: dict[str, str], given: str, expected: str
) -> None:
    f = _upload(client)
    s = client.beta.sessions.create(
        agent=ids["agent"],
        environment_id=ids["env"],
        resources=[{"type": "file", "file_id": f.id, "mount_path": given}],
    )
    (res,) = s.resources
    assert res.mount_path == expected and res.file_id != f.id
    copy = client.beta.files.retrieve_metadata(res.file_id)
    assert copy.downloadable is False and copy.scope.id == s.id and copy.filename == "data.csv"
    default = client.beta.sessions.resources.add(s.id, type="file", file_id=f.id)
    assert default.mount_path == f"/mnt/session/uploads/{f.id}"


def test_bad_resources_are_rejected(client: Any, ids: dict[str, str]) -> None:
    f = _upload(client)
    for path in ("../etc/passwd", "/", "dir/"):
        with pytest.raises(anthropic.BadRequestError):
            client.beta.sessions.create(
                agent=ids["agent"],
                environment_id=ids["env"],
                resources=[{"type": "file", "file_id": f.id, "mount_path": path}],
            )
    with pytest.raises(anthropic.BadRequestError) as dup:
        client.beta.sessions.create(
            agent=ids["agent"],
            environment_id=ids["env"],
            resources=[{"type": "file", "file_id": f.id, "mount_path": p} for p in ("/a.csv", "a.csv")],
        )
    assert "already used" in dup.value.response.json()["error"]["message"]
    before = len(client.beta.files.list(limit=1000).data)
    with pytest.raises(anthropic.BadRequestError):  # a memory store attached twice: nothing is left behind
        client.beta.sessions.create(
            agent=ids["agent"],
            environment_id=ids["env"],
            resources=[
                {"type": "file", "file_id": f.id},
                {"type": "memory_store", "memory_store_id": "memstore_x"},
                {"type": "memory_store", "memory_store_id": "memstore_x"},
            ],
        )
    assert len(client.beta.files.list(limit=1000).data) == before
    with pytest.raises(anthropic.NotFoundError):
        client.beta.sessions.create(
            agent=ids["agent"],
            environment_id=ids["env"],
            resources=[{"type": "file", "file_id": "file_nope"}],
        )


def test_resources_add_list_retrieve_delete(client: Any, emulator: Any, ids: dict[str, str]) -> None:
    s = client.beta.sessions.create(agent=ids["agent"], environment_id=ids["env"])
    f = _upload(client, "more.csv")
    res = client.beta.sessions.resources.add(s.id, type="file", file_id=f.id, mount_path="/more.csv")
    assert [r.id for r in client.beta.sessions.resources.list(s.id)] == [res.id]
    assert (
        client.beta.sessions.resources.retrieve(res.id, session_id=s.id).mount_path
        == "/mnt/session/uploads/more.csv"
    )
    assert client.beta.sessions.retrieve(s.id).resources[0].id == res.id
    deleted = client.beta.sessions.resources.delete(res.id, session_id=s.id)
    assert deleted.type == "session_resource_deleted"
    assert client.beta.sessions.retrieve(s.id).resources == []
    with pytest.raises(anthropic.NotFoundError):
        client.beta.files.retrieve_metadata(res.file_id)  # the session copy went with the mount
    with pytest.raises(anthropic.NotFoundError):
        client.beta.sessions.resources.retrieve(res.id, session_id=s.id)


def test_update_title_metadata_budget(client: Any, ids: dict[str, str]) -> None:
    s = client.beta.sessions.create(
        agent=ids["agent"], environment_id=ids["env"], metadata={"a": "1", "b": "2"}
    )
    u = client.beta.sessions.update(s.id, title="new", metadata={"a": None, "c": "3"})
    assert u.title == "new" and u.metadata == {"b": "2", "c": "3"}
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.beta.sessions.update(
            s.id, budget={"type": "limit", "max_list_cost": {"amount": "100", "currency": "USD"}}
        )
    assert "budget" in exc.value.message
    types = [e.type for e in client.beta.sessions.events.list(s.id)]
    assert "session.updated" in types
    b = client.beta.sessions.create(
        agent=ids["agent"],
        environment_id=ids["env"],
        budget={"type": "limit", "max_list_cost": {"amount": "500", "currency": "USD"}},
    )
    assert client.beta.sessions.update(b.id, budget=None).budget is None
    with pytest.raises(anthropic.BadRequestError):
        client.beta.sessions.create(agent=ids["agent"], environment_id=ids["env"], metadata={"k" * 65: "v"})


def test_list_filters_order_and_cursors(client: Any, ids: dict[str, str]) -> None:
    agent = client.beta.agents.create(name="lister", model="claude-sonnet-4-6", metadata=ECHO)
    made = [client.beta.sessions.create(agent=agent.id, environment_id=ids["env"]).id for _ in range(3)]
    desc = client.beta.sessions.list(agent_id=agent.id, limit=2)
    assert [s.id for s in desc.data] == made[::-1][:2] and desc.next_page
    second = client.beta.sessions.list(agent_id=agent.id, limit=2, page=desc.next_page)
    assert [s.id for s in second.data] == made[:1] and second.next_page is None and second.prev_page
    asc = client.beta.sessions.list(agent_id=agent.id, order="asc")
    assert [s.id for s in asc.data] == made
    assert [s.id for s in client.beta.sessions.list(agent_id=agent.id, limit=1)] == made[
        ::-1
    ]  # auto-paging ends
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.beta.sessions.list(agent_id=agent.id, limit=2, page=desc.next_page, order="asc")
    assert "order" in exc.value.message
    with pytest.raises(anthropic.BadRequestError):
        client.beta.sessions.list(page="garbage")
    assert client.beta.sessions.list(agent_id=agent.id, statuses=["running"]).data == []
    first = client.beta.sessions.retrieve(made[0]).created_at
    later = client.beta.sessions.list(agent_id=agent.id, created_at_gt=first, order="asc").data
    assert [s.id for s in later] == made[1:]
    client.beta.sessions.archive(made[0])
    assert made[0] not in [s.id for s in client.beta.sessions.list(agent_id=agent.id)]
    assert made[0] in [s.id for s in client.beta.sessions.list(agent_id=agent.id, include_archived=True)]


def test_delete_and_archive_refused_while_running(make_emulator: Any) -> None:
    emu = make_emulator(brain="echo", turn_delay=1.5)
    c = emu.client(max_retries=0)
    agent = c.beta.agents.create(name="slow", model="claude-sonnet-4-6")
    env = c.beta.environments.create(name="slow-env")
    s = c.beta.sessions.create(agent=agent.id, environment_id=env.id)
    c.beta.sessions.events.send(
        s.id, events=[{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]
    )
    deadline = time.monotonic() + 5
    while c.beta.sessions.retrieve(s.id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(anthropic.BadRequestError) as deleted:
        c.beta.sessions.delete(s.id)
    assert deleted.value.response.json()["error"]["message"] == (
        "Cannot delete session while it is running. Send an interrupt event or wait for the session to complete."
    )
    with pytest.raises(anthropic.BadRequestError) as archived:
        c.beta.sessions.archive(s.id)
    assert 'while its status is "running"' in archived.value.message
    while c.beta.sessions.retrieve(s.id).status == "running" and time.monotonic() < deadline + 5:
        time.sleep(0.05)
    assert c.beta.sessions.delete(s.id).type == "session_deleted"
    with pytest.raises(anthropic.NotFoundError):
        c.beta.sessions.retrieve(s.id)


def test_archive_terminates_and_delete_removes_scoped_files(client: Any, ids: dict[str, str]) -> None:
    f = _upload(client)
    s = client.beta.sessions.create(
        agent=ids["agent"], environment_id=ids["env"], resources=[{"type": "file", "file_id": f.id}]
    )
    copy_id = s.resources[0].file_id
    archived = client.beta.sessions.archive(s.id)
    assert archived.status == "terminated" and archived.archived_at
    with pytest.raises(anthropic.BadRequestError):
        client.beta.sessions.events.send(
            s.id, events=[{"type": "user.message", "content": [{"type": "text", "text": "x"}]}]
        )
    client.beta.sessions.delete(s.id)
    with pytest.raises(anthropic.NotFoundError):
        client.beta.files.retrieve_metadata(copy_id)
    assert client.beta.files.retrieve_metadata(f.id).id == f.id  # the user's own upload stays


def test_session_local_agent_update(client: Any, ids: dict[str, str]) -> None:
    s = client.beta.sessions.create(agent=ids["agent"], environment_id=ids["env"])
    tool = {"type": "custom", "name": "lookup", "description": "d", "input_schema": {"type": "object"}}
    u = client.beta.sessions.update(s.id, agent={"tools": [{"type": "agent_toolset_20260401"}, tool]})
    assert [t.type for t in u.agent.tools] == ["agent_toolset_20260401", "custom"]
    assert len(u.agent.tools[0].configs) == 8
    assert client.beta.agents.retrieve(ids["agent"]).tools == []  # the agent itself is untouched
    updated = client.beta.sessions.events.list(s.id, types=["session.updated"]).data
    assert updated and updated[-1].agent is not None


def test_create_limits_and_archived_environment(client: Any, ids: dict[str, str]) -> None:
    with pytest.raises(anthropic.BadRequestError):
        client.beta.sessions.create(
            agent=ids["agent"],
            environment_id=ids["env"],
            initial_events=[{"type": "user.message", "content": []}] * 51,
        )
    with pytest.raises(anthropic.BadRequestError):
        client.beta.sessions.create(
            agent=ids["agent"],
            environment_id=ids["env"],
            budget={"type": "limit", "max_list_cost": {"amount": "1.5", "currency": "USD"}},
        )
    env = client.beta.environments.create(name="to-archive")
    client.beta.environments.archive(env.id)
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.beta.sessions.create(agent=ids["agent"], environment_id=env.id)
    assert exc.value.response.json()["error"]["details"] == {"error_code": "environment_archived"}
