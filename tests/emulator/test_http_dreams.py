"""Dreams through the real SDK: create, retrieve, list, archive, cancel; the status lifecycle
and the memory store a dream writes."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.types.beta import BetaDream
from resource_kit import api_error, body, page, text_event, wait_for, wait_idle

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def emu(make_emulator: Any) -> Any:
    return make_emulator(brain="echo", dream_step_delay=0.05)


@pytest.fixture
def inputs(emu: Any) -> dict[str, Any]:
    client = emu.client(max_retries=0)
    agent = client.beta.agents.create(name="dreamer", model="claude-sonnet-4-6")
    env = client.beta.environments.create(name="dream-env")
    store = client.beta.memory_stores.create(name="Team Memory", description="what we learned")
    client.beta.memory_stores.memories.create(store.id, path="/prefs.md", content="likes tables")
    sessions = []
    for text in ("plot revenue by month", "summarize churn"):
        s = client.beta.sessions.create(agent=agent.id, environment_id=env.id, initial_events=[text_event(text)])
        wait_idle(client, s.id)
        sessions.append(s.id)
    return {"client": client, "store": store.id, "sessions": sessions}


def _inputs(store: str, sessions: list[str]) -> list[dict[str, Any]]:
    return [{"type": "memory_store", "memory_store_id": store}, {"type": "sessions", "session_ids": sessions}]


def _wait_final(client: Any, dream_id: str) -> dict[str, Any]:
    raw = client.beta.dreams.with_raw_response
    return wait_for(lambda: (d := body(raw.retrieve(dream_id), BetaDream))["status"] in ("completed", "failed") and d)


def test_a_dream_writes_a_new_store(inputs: dict[str, Any]) -> None:
    client = inputs["client"]
    raw = client.beta.dreams.with_raw_response
    created = body(raw.create(inputs=_inputs(inputs["store"], inputs["sessions"]), model="claude-sonnet-4-6",
                              instructions="Group by topic."), BetaDream)
    assert created["id"].startswith("drm_") and created["status"] == "pending"
    assert created["outputs"] == [] and created["usage"] == {
        "input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    assert created["model"] == {"id": "claude-sonnet-4-6", "speed": "standard"}
    assert created["output_behavior"] == {"type": "create_new"} and created["ended_at"] is None
    seen = {created["status"]}
    done = wait_for(lambda: (seen.add((d := client.beta.dreams.retrieve(created["id"])).status) or
                             d.status == "completed") and d)
    assert {"pending", "completed"} <= seen and seen <= {"pending", "running", "completed"}
    final = _wait_final(client, created["id"])
    assert final["ended_at"] and final["error"] is None and final["usage"]["output_tokens"] > 0
    (output,) = final["outputs"]
    assert output["type"] == "memory_store" and output["memory_store_id"] != inputs["store"]
    out_store = client.beta.memory_stores.retrieve(output["memory_store_id"])
    assert out_store.description == "what we learned"
    written = {m.path: m.content for m in client.beta.memory_stores.memories.list(out_store.id, view="full")}
    assert written["/prefs.md"] == "likes tables"
    note = written[f"/dreams/{inputs['sessions'][0]}.md"]
    assert "plot revenue by month" in note and "Group by topic." in note
    assert {m.path for m in client.beta.memory_stores.memories.list(inputs["store"])} == {"/prefs.md"}  # untouched
    assert done.status == "completed"


def test_update_existing_and_conflicts(inputs: dict[str, Any]) -> None:
    client = inputs["client"]
    behavior = {"type": "update_existing", "memory_store_id": inputs["store"]}
    dream = client.beta.dreams.create(inputs=_inputs(inputs["store"], inputs["sessions"][:1]),
                                      model={"id": "claude-opus-4-8", "speed": "standard"}, output_behavior=behavior)
    with pytest.raises(anthropic.ConflictError) as busy:
        client.beta.dreams.create(inputs=_inputs(inputs["store"], inputs["sessions"][:1]), model="claude-opus-4-8",
                                  output_behavior=behavior)
    api_error(busy.value, 409)
    final = _wait_final(client, dream.id)
    assert final["outputs"] == [{"type": "memory_store", "memory_store_id": inputs["store"]}]
    paths = {m.path for m in client.beta.memory_stores.memories.list(inputs["store"])}
    assert paths == {"/prefs.md", f"/dreams/{inputs['sessions'][0]}.md"}
    other = client.beta.memory_stores.create(name="other")
    with pytest.raises(anthropic.BadRequestError):
        client.beta.dreams.create(inputs=_inputs(inputs["store"], inputs["sessions"]), model="m",
                                  output_behavior={"type": "update_existing", "memory_store_id": other.id})


def test_create_validation(inputs: dict[str, Any]) -> None:
    client, store, sessions = inputs["client"], inputs["store"], inputs["sessions"]
    bad = [
        {"inputs": _inputs(store, sessions)[:1], "model": "m"},
        {"inputs": [*_inputs(store, sessions), {"type": "sessions", "session_ids": sessions}], "model": "m"},
        {"inputs": _inputs(store, []), "model": "m"},
        {"inputs": _inputs(store, [sessions[0], sessions[0]]), "model": "m"},
        {"inputs": _inputs(store, sessions), "model": {"id": "m", "speed": "fast"}},
        {"inputs": _inputs(store, sessions), "model": "m", "instructions": ""},
        {"inputs": _inputs(store, sessions), "model": "m", "instructions": "x" * 4097},
        {"inputs": _inputs(store, sessions), "model": "m", "extra_body": {"bogus": 1}},
    ]
    for kwargs in bad:
        with pytest.raises(anthropic.BadRequestError) as exc:
            client.beta.dreams.create(**kwargs)
        api_error(exc.value, 400, "invalid_request_error")
    with pytest.raises(anthropic.NotFoundError):
        client.beta.dreams.create(inputs=_inputs("memstore_missing", sessions), model="m")
    with pytest.raises(anthropic.NotFoundError):
        client.beta.dreams.create(inputs=_inputs(store, ["sesn_missing"]), model="m")
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.beta.dreams.retrieve("drm_missing")
    api_error(nf.value, 404, "not_found_error")


def test_a_dream_fails_when_its_input_goes(inputs: dict[str, Any], emu: Any) -> None:
    client = inputs["client"]
    emu.config.dream_step_delay = 0.3
    dream = client.beta.dreams.create(inputs=_inputs(inputs["store"], inputs["sessions"][1:]), model="m")
    client.beta.sessions.delete(inputs["sessions"][1])
    final = _wait_final(client, dream.id)
    assert final["status"] == "failed" and final["ended_at"]
    assert final["error"]["type"] == "input_not_found" and inputs["sessions"][1] in final["error"]["message"]


def test_cancel_archive_and_list(make_emulator: Any) -> None:
    emu = make_emulator(brain="echo", dream_step_delay=30)  # stays pending
    client = emu.client(max_retries=0)
    agent = client.beta.agents.create(name="d", model="claude-sonnet-4-6")
    env = client.beta.environments.create(name="d-env")
    store = client.beta.memory_stores.create(name="s")
    sid = client.beta.sessions.create(agent=agent.id, environment_id=env.id).id
    first = client.beta.dreams.create(inputs=_inputs(store.id, [sid]), model="m")
    second = client.beta.dreams.create(inputs=_inputs(store.id, [sid]), model="m")
    with pytest.raises(anthropic.BadRequestError):
        client.beta.dreams.archive(first.id)  # pending: cancel first
    raw = client.beta.dreams.with_raw_response
    canceled = body(raw.cancel(first.id), BetaDream)
    assert canceled["status"] == "canceled" and canceled["ended_at"] and canceled["outputs"] == []
    assert body(raw.cancel(first.id), BetaDream) == canceled  # unchanged
    listed = page(raw.list(limit=1), BetaDream)
    assert [d["id"] for d in listed["data"]] == [second.id] and listed["next_page"]
    assert [d.id for d in client.beta.dreams.list(limit=1)] == [second.id, first.id]
    assert [d.id for d in client.beta.dreams.list(statuses=["canceled"])] == [first.id]
    assert [d.id for d in client.beta.dreams.list(statuses=["pending", "running"])] == [second.id]
    assert [d.id for d in client.beta.dreams.list(created_at_lt=second.created_at)] == [first.id]
    assert [d.id for d in client.beta.dreams.list(created_at_gt=first.created_at)] == [second.id]
    archived = body(raw.archive(first.id), BetaDream)
    assert archived["archived_at"] and body(raw.archive(first.id), BetaDream) == archived
    assert [d.id for d in client.beta.dreams.list()] == [second.id]
    assert {d.id for d in client.beta.dreams.list(include_archived=True)} == {first.id, second.id}
    assert client.beta.dreams.retrieve(first.id).archived_at is not None
    with pytest.raises(anthropic.BadRequestError):
        client.beta.dreams.list(statuses=["sleeping"])

    fast = make_emulator(brain="echo", dream_step_delay=0.01)
    fc = fast.client(max_retries=0)
    fstore = fc.beta.memory_stores.create(name="f")
    fagent = fc.beta.agents.create(name="f", model="claude-sonnet-4-6")
    fsid = fc.beta.sessions.create(agent=fagent.id, environment_id=fc.beta.environments.create(name="f").id).id
    done = fc.beta.dreams.create(inputs=_inputs(fstore.id, [fsid]), model="m")
    assert _wait_final(fc, done.id)["status"] == "completed"
    with pytest.raises(anthropic.BadRequestError):
        fc.beta.dreams.cancel(done.id)


def test_dreams_need_their_beta(emu: Any) -> None:
    sent = emu.client(max_retries=0).beta.dreams.with_raw_response.list()
    assert sent.http_request.headers["anthropic-beta"] == "dreaming-2026-04-21"
    with httpx2.Client(base_url=emu.base_url, headers={"x-api-key": "k"}, timeout=10) as raw:
        refused = raw.get("/v1/dreams", headers={"anthropic-beta": "managed-agents-2026-04-01"})
        assert refused.status_code == 400 and "dreaming-2026-04-21" in refused.json()["error"]["message"]
        ok = raw.get("/v1/dreams", headers={"anthropic-beta": "managed-agents-2026-04-01,dreaming-2026-04-21"})
        assert ok.status_code == 200
