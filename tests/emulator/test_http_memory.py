"""Memory stores, memories and memory versions through the real SDK: every method, the error
shapes, pagination, the beta headers, and the store mounted in sessions (agent writes become
memory versions; API writes reach the agent)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.types.beta import BetaManagedAgentsDeletedMemoryStore, BetaManagedAgentsMemoryStore
from anthropic.types.beta.memory_stores import (
    BetaManagedAgentsDeletedMemory,
    BetaManagedAgentsMemory,
    BetaManagedAgentsMemoryListItem,
    BetaManagedAgentsMemoryVersion,
)
from resource_kit import api_error, body, events, page, text_event, wait_idle

pytestmark = pytest.mark.timeout(60)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def store_id(client: Any) -> str:
    return client.beta.memory_stores.create(name="Notes").id


def test_memory_store_lifecycle(client: Any) -> None:
    stores = client.beta.memory_stores.with_raw_response
    created = body(stores.create(name="User Preferences", description="what the user likes",
                                 metadata={"user": "u1"}), BetaManagedAgentsMemoryStore)
    sid = created["id"]
    assert sid.startswith("memstore_") and created["archived_at"] is None
    assert body(stores.retrieve(sid), BetaManagedAgentsMemoryStore) == created
    updated = body(stores.update(sid, name="Prefs", description="", metadata={"user": None, "team": "t"}),
                   BetaManagedAgentsMemoryStore)
    assert (updated["name"], updated["description"], updated["metadata"]) == ("Prefs", "", {"team": "t"})
    assert updated["updated_at"] > created["updated_at"]
    unchanged = body(stores.update(sid, name="Prefs"), BetaManagedAgentsMemoryStore)
    assert unchanged["updated_at"] == updated["updated_at"]
    others = [client.beta.memory_stores.create(name=f"s{i}").id for i in range(3)]
    first = page(stores.list(limit=2), BetaManagedAgentsMemoryStore)
    assert [s["id"] for s in first["data"]] == others[::-1][:2] and first["next_page"]
    assert {s.id for s in client.beta.memory_stores.list(limit=1)} >= {sid, *others}
    after = client.beta.memory_stores.list(created_at_gte=created["created_at"], created_at_lte=updated["updated_at"])
    assert [s.id for s in after] == [sid]
    archived = body(stores.archive(sid), BetaManagedAgentsMemoryStore)
    assert archived["archived_at"] is not None
    assert body(stores.archive(sid), BetaManagedAgentsMemoryStore) == archived  # unchanged
    assert sid not in {s.id for s in client.beta.memory_stores.list()}
    assert sid in {s.id for s in client.beta.memory_stores.list(include_archived=True)}
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.beta.memory_stores.update(sid, name="again")
    api_error(exc.value, 400, "invalid_request_error")
    assert body(stores.delete(sid), BetaManagedAgentsDeletedMemoryStore) == {"id": sid, "type": "memory_store_deleted"}
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.beta.memory_stores.retrieve(sid)
    api_error(missing.value, 404, "not_found_error")


def test_memory_store_validation(client: Any) -> None:
    for kwargs in ({"name": ""}, {"name": "x" * 256}, {"name": "a", "description": "d" * 1025},
                   {"name": "a", "metadata": {f"k{i}": "v" for i in range(17)}},
                   {"name": "a", "extra_body": {"bogus": 1}}):
        with pytest.raises(anthropic.BadRequestError) as exc:
            client.beta.memory_stores.create(**kwargs)
        api_error(exc.value, 400, "invalid_request_error")


def test_beta_headers(client: Any, emulator: Any) -> None:
    # the SDK sends agent-memory-2026-07-22; with betas= it appends it to the caller's list
    both = client.beta.memory_stores.with_raw_response.create(name="b", betas=["managed-agents-2026-04-01"])
    sent = both.http_request.headers["anthropic-beta"]
    assert sent == "managed-agents-2026-04-01,agent-memory-2026-07-22" and both.http_response.status_code == 200
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    with httpx2.Client(base_url=emulator.base_url, headers=headers, timeout=10) as raw:
        assert raw.get("/v1/memory_stores").status_code == 400
        wrong = raw.get("/v1/memory_stores", headers={"anthropic-beta": "files-api-2025-04-14"})
        assert wrong.status_code == 400 and "agent-memory-2026-07-22" in wrong.json()["error"]["message"]
        for beta in ("managed-agents-2026-04-01", "agent-memory-2026-07-22"):
            assert raw.get("/v1/memory_stores", headers={"anthropic-beta": beta}).status_code == 200


def test_memories(client: Any, store_id: str) -> None:
    mems = client.beta.memory_stores.memories.with_raw_response
    created = body(mems.create(store_id, path="/notes/todo.md", content="buy milk"), BetaManagedAgentsMemory)
    assert created["id"].startswith("mem_") and created["content"] is None  # view=basic by default
    assert created["content_sha256"] == _sha("buy milk") and created["content_size_bytes"] == 8
    assert created["memory_version_id"].startswith("memver_")
    full = body(mems.create(store_id, path="/notes/deep/a.md", content="", view="full"), BetaManagedAgentsMemory)
    assert full["content"] == ""
    client.beta.memory_stores.memories.create(store_id, path="/top.md", content="top")
    got = body(mems.retrieve(created["id"], memory_store_id=store_id), BetaManagedAgentsMemory)
    assert got["content"] == "buy milk"  # retrieve defaults to full
    assert body(mems.retrieve(created["id"], memory_store_id=store_id, view="basic"),
                BetaManagedAgentsMemory)["content"] is None

    for path in ("notes", "/a//b", "/a/../b", "/a/", "/x\u0007", "/" + "/".join("s" * 21), "/e\u0301"):
        with pytest.raises(anthropic.BadRequestError) as bad:
            client.beta.memory_stores.memories.create(store_id, path=path, content="x")
        api_error(bad.value, 400, "invalid_request_error")
    with pytest.raises(anthropic.BadRequestError):
        client.beta.memory_stores.memories.create(store_id, path="/big.md", content="x" * 102_401)
    for path in ("/notes/todo.md", "/notes/todo.md/child", "/notes"):
        with pytest.raises(anthropic.ConflictError) as conflict:
            client.beta.memory_stores.memories.create(store_id, path=path, content="x")
        api_error(conflict.value, 409, "memory_path_conflict_error")

    # update: content, rename, a precondition, and a no-op that writes no version
    with pytest.raises(anthropic.ConflictError) as stale:
        client.beta.memory_stores.memories.update(
            created["id"], memory_store_id=store_id, content="y",
            precondition={"type": "content_sha256", "content_sha256": _sha("other")})
    api_error(stale.value, 409, "memory_precondition_failed_error")
    moved = body(mems.update(created["id"], memory_store_id=store_id, path="/done/todo.md", content="bought milk",
                             precondition={"type": "content_sha256", "content_sha256": _sha("buy milk")},
                             view="full"), BetaManagedAgentsMemory)
    assert (moved["id"], moved["path"], moved["content"]) == (created["id"], "/done/todo.md", "bought milk")
    same = client.beta.memory_stores.memories.update(created["id"], memory_store_id=store_id, content="bought milk")
    assert same.memory_version_id == moved["memory_version_id"] and same.content is None
    with pytest.raises(anthropic.ConflictError):
        client.beta.memory_stores.memories.update(created["id"], memory_store_id=store_id, path="/top.md")

    # list: everything, a prefix, one level with rolled-up prefixes, pages
    everything = page(mems.list(store_id), BetaManagedAgentsMemoryListItem)
    assert [m["path"] for m in everything["data"]] == ["/done/todo.md", "/notes/deep/a.md", "/top.md"]
    assert all(m["content"] is None for m in everything["data"])
    level = page(mems.list(store_id, depth=1), BetaManagedAgentsMemoryListItem)["data"]
    assert level == [{"type": "memory_prefix", "path": "/done/"}, {"type": "memory_prefix", "path": "/notes/"},
                     {**level[2], "path": "/top.md"}]
    below = page(mems.list(store_id, path_prefix="/notes/", depth=1, view="full"), BetaManagedAgentsMemoryListItem)
    assert [m["path"] for m in below["data"]] == ["/notes/deep/"]
    assert [m.path for m in client.beta.memory_stores.memories.list(store_id, path_prefix="/notes/")] == [
        "/notes/deep/a.md"]
    first = page(mems.list(store_id, limit=2), BetaManagedAgentsMemoryListItem)
    assert len(first["data"]) == 2 and first["next_page"]
    assert [m.path for m in client.beta.memory_stores.memories.list(store_id, limit=1)] == [
        "/done/todo.md", "/notes/deep/a.md", "/top.md"]
    with pytest.raises(anthropic.BadRequestError):
        client.beta.memory_stores.memories.list(store_id, path_prefix="/notes")

    # delete, with a precondition
    with pytest.raises(anthropic.ConflictError) as wrong:
        client.beta.memory_stores.memories.delete(created["id"], memory_store_id=store_id,
                                                  expected_content_sha256=_sha("nope"))
    api_error(wrong.value, 409, "memory_precondition_failed_error")
    deleted = body(mems.delete(created["id"], memory_store_id=store_id, expected_content_sha256=_sha("bought milk")),
                   BetaManagedAgentsDeletedMemory)
    assert deleted == {"id": created["id"], "type": "memory_deleted"}
    with pytest.raises(anthropic.NotFoundError) as gone:
        client.beta.memory_stores.memories.retrieve(created["id"], memory_store_id=store_id)
    api_error(gone.value, 404, "not_found_error")


def test_archived_store_keeps_reads_and_deletes(client: Any, store_id: str) -> None:
    mem = client.beta.memory_stores.memories.create(store_id, path="/a.md", content="a")
    client.beta.memory_stores.archive(store_id)
    with pytest.raises(anthropic.BadRequestError):
        client.beta.memory_stores.memories.create(store_id, path="/b.md", content="b")
    with pytest.raises(anthropic.BadRequestError):
        client.beta.memory_stores.memories.update(mem.id, memory_store_id=store_id, content="c")
    assert client.beta.memory_stores.memories.retrieve(mem.id, memory_store_id=store_id).content == "a"
    client.beta.memory_stores.memories.delete(mem.id, memory_store_id=store_id)
    assert list(client.beta.memory_stores.memories.list(store_id)) == []


def test_memory_versions_and_redact(client: Any, store_id: str) -> None:
    memories, versions = client.beta.memory_stores.memories, client.beta.memory_stores.memory_versions
    raw = versions.with_raw_response
    mem = memories.create(store_id, path="/secret.md", content="password=hunter2")
    memories.update(mem.id, memory_store_id=store_id, content="password removed")
    other = memories.create(store_id, path="/other.md", content="o")
    listed = page(raw.list(store_id), BetaManagedAgentsMemoryVersion)["data"]
    assert [v["operation"] for v in listed] == ["created", "modified", "created"][::-1]  # newest first
    assert all(v["content"] is None and v["content_sha256"] for v in listed)  # basic view
    actor = listed[0]["created_by"]
    assert actor["type"] == "api_actor" and actor["api_key_id"].startswith("apikey_")
    assert "emulator-key" not in json.dumps(listed)
    mine = [v.id for v in versions.list(store_id, memory_id=mem.id)]
    assert len(mine) == 2
    assert [v.operation for v in versions.list(store_id, operation="modified")] == ["modified"]
    assert len(list(versions.list(store_id, api_key_id=actor["api_key_id"], limit=1))) == 3
    assert list(versions.list(store_id, session_id="sesn_none")) == []
    assert len(page(raw.list(store_id, view="full", limit=50), BetaManagedAgentsMemoryVersion)["data"]) == 3
    old = body(raw.retrieve(mine[1], memory_store_id=store_id), BetaManagedAgentsMemoryVersion)
    assert old["content"] == "password=hunter2" and old["path"] == "/secret.md"  # retrieve: full

    with pytest.raises(anthropic.BadRequestError):  # the live content cannot be redacted
        versions.redact(mine[0], memory_store_id=store_id)
    redacted = body(raw.redact(mine[1], memory_store_id=store_id), BetaManagedAgentsMemoryVersion)
    assert redacted["redacted_at"] and redacted["redacted_by"]["type"] == "api_actor"
    assert [redacted[k] for k in ("content", "path", "content_sha256", "content_size_bytes")] == [None] * 4
    assert versions.redact(mine[1], memory_store_id=store_id).redacted_at.isoformat()  # idempotent
    assert "hunter2" not in json.dumps(page(raw.list(store_id, view="full"), BetaManagedAgentsMemoryVersion))

    memories.delete(other.id, memory_store_id=store_id)
    gone = list(versions.list(store_id, memory_id=other.id))
    assert [v.operation for v in gone] == ["deleted", "created"]
    assert (gone[0].content_sha256, gone[0].path) == (None, "/other.md")
    with pytest.raises(anthropic.NotFoundError) as nf:
        versions.retrieve("memver_missing", memory_store_id=store_id)
    api_error(nf.value, 404, "not_found_error")


# -- stores in sessions ---------------------------------------------------------------------------------
def _scenario(tmp_path: Path, name: str, steps: list[dict[str, Any]]) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"name": name, "steps": steps}))
    return f"[[emulator: scenario {path}]]\n{name}"


@pytest.fixture
def world(client: Any) -> dict[str, str]:
    agent = client.beta.agents.create(name="memory-agent", model="claude-sonnet-4-6",
                                      tools=[{"type": "agent_toolset_20260401"}])
    env = client.beta.environments.create(name=f"memory-env-{agent.id}")
    return {"agent": agent.id, "env": env.id}


def _results(client: Any, sid: str) -> list[str]:
    return [json.dumps(e.model_dump(mode="json")) for e in events(client, sid, "agent.tool_result")]


def test_agent_writes_become_memories_and_api_memories_reach_agents(
    client: Any, world: dict[str, str], store_id: str, tmp_path: Path
) -> None:
    memories = client.beta.memory_stores.memories
    seeded = memories.create(store_id, path="/prefs.md", content="likes tea")
    session = client.beta.sessions.create(
        agent=world["agent"], environment_id=world["env"],
        resources=[{"type": "memory_store", "memory_store_id": store_id, "instructions": "Keep notes."}])
    (res,) = session.resources
    assert (res.mount_path, res.name, res.description, res.access) == ("/mnt/memory/notes", "Notes", "", "read_write")

    # the agent reads what the API wrote, writes a new note, changes and removes files
    client.beta.sessions.events.send(session.id, events=[text_event(_scenario(tmp_path, "work", [
        {"tool": "read", "input": {"file_path": "/mnt/memory/notes/prefs.md"}},
        {"tool": "write", "input": {"file_path": "/mnt/memory/notes/projects/q3.md", "content": "ship it"}},
        {"tool": "bash", "input": {"command": "echo 'likes coffee' > /mnt/memory/notes/prefs.md"}},
        {"say": "noted"}]))])
    wait_idle(client, session.id)
    assert "likes tea" in _results(client, session.id)[0]
    by_path = {m.path: m for m in memories.list(store_id, view="full")}
    assert by_path["/projects/q3.md"].content == "ship it" and by_path["/prefs.md"].content == "likes coffee\n"
    assert by_path["/prefs.md"].id == seeded.id
    written = list(client.beta.memory_stores.memory_versions.list(store_id, session_id=session.id))
    assert {(v.operation, v.path) for v in written} == {("created", "/projects/q3.md"), ("modified", "/prefs.md")}
    assert all(v.created_by.type == "session_actor" and v.created_by.session_id == session.id for v in written)

    # an API change reaches the live session; the agent's delete becomes a deleted version
    memories.update(seeded.id, memory_store_id=store_id, content="likes both")
    memories.create(store_id, path="/api.md", content="from the api")
    client.beta.sessions.events.send(session.id, events=[text_event(_scenario(tmp_path, "more", [
        {"tool": "bash", "input": {"command": "cat /mnt/memory/notes/prefs.md /mnt/memory/notes/api.md"}},
        {"tool": "bash", "input": {"command": "rm /mnt/memory/notes/projects/q3.md"}},
        {"say": "done"}]))])
    wait_idle(client, session.id, count=2)
    assert "likes both" in _results(client, session.id)[-2] and "from the api" in _results(client, session.id)[-2]
    assert sorted(m.path for m in memories.list(store_id)) == ["/api.md", "/prefs.md"]
    deleted = list(client.beta.memory_stores.memory_versions.list(store_id, operation="deleted"))
    assert [(v.path, v.created_by.session_id) for v in deleted] == [("/projects/q3.md", session.id)]

    # a new session starts from the store's current memories; read_only mounts refuse writes
    client.beta.sessions.events.send(session.id, events=[text_event(_scenario(tmp_path, "last", [
        {"tool": "write", "input": {"file_path": "/mnt/memory/notes/late.md", "content": "late"}}]))])
    wait_idle(client, session.id, count=3)
    client.beta.sessions.delete(session.id)  # syncs first
    assert "/late.md" in {m.path for m in memories.list(store_id)}
    second = client.beta.sessions.create(
        agent=world["agent"], environment_id=world["env"],
        resources=[{"type": "memory_store", "memory_store_id": store_id, "access": "read_only"}])
    client.beta.sessions.events.send(second.id, events=[text_event(_scenario(tmp_path, "ro", [
        {"tool": "bash", "input": {"command": "ls /mnt/memory/notes && cat /mnt/memory/notes/api.md"}},
        {"tool": "write", "input": {"file_path": "/mnt/memory/notes/x.md", "content": "x"}}]))])
    wait_idle(client, second.id)
    listing, refused = _results(client, second.id)
    assert "late.md" in listing and "from the api" in listing
    assert '"is_error": true' in refused
    assert "/x.md" not in {m.path for m in memories.list(store_id)}
    assert {s.id for s in client.beta.sessions.list(memory_store_id=store_id)} == {second.id}


def test_attaching_stores(client: Any, world: dict[str, str]) -> None:
    def attach(*ids: str) -> Any:
        return client.beta.sessions.create(agent=world["agent"], environment_id=world["env"], resources=[
            {"type": "memory_store", "memory_store_id": i} for i in ids])

    a = client.beta.memory_stores.create(name="Team Notes!")
    b = client.beta.memory_stores.create(name="team notes")
    session = attach(a.id, b.id)
    assert [r.mount_path for r in session.resources] == ["/mnt/memory/team-notes", "/mnt/memory/team-notes-2"]
    before = {s.id for s in client.beta.sessions.list(limit=100)}
    with pytest.raises(anthropic.NotFoundError) as unknown:  # an id never created: refused, nothing made
        attach(a.id, "memstore_01Offline")
    assert api_error(unknown.value, 404, "not_found_error")["message"] == (
        "resources.1.memory_store_id: Memory store memstore_01Offline not found")
    with pytest.raises(anthropic.NotFoundError):
        client.beta.memory_stores.retrieve("memstore_01Offline")
    assert {s.id for s in client.beta.sessions.list(limit=100)} == before
    client.beta.memory_stores.archive(a.id)
    with pytest.raises(anthropic.BadRequestError) as archived:
        attach(a.id)
    api_error(archived.value, 400, "invalid_request_error")
    client.beta.memory_stores.delete(b.id)
    with pytest.raises(anthropic.NotFoundError):
        attach(b.id)


def test_a_too_long_instruction_is_named_by_its_place_among_all_resources(
    client: Any, world: dict[str, str], store_id: str
) -> None:
    other = client.beta.memory_stores.create(name="second store").id
    with pytest.raises(anthropic.BadRequestError, match=r"resources\.1\.instructions: at most 4096 characters"):
        client.beta.sessions.create(agent=world["agent"], environment_id=world["env"], resources=[
            {"type": "memory_store", "memory_store_id": other},
            {"type": "memory_store", "memory_store_id": store_id, "instructions": "x" * 4097}])
    file_id = client.beta.files.upload(file=("notes.txt", b"hello", "text/plain")).id
    with pytest.raises(anthropic.BadRequestError, match=r"resources\.1\.instructions"):
        client.beta.sessions.create(agent=world["agent"], environment_id=world["env"], resources=[
            {"type": "file", "file_id": file_id},
            {"type": "memory_store", "memory_store_id": store_id, "instructions": "x" * 4097}])
