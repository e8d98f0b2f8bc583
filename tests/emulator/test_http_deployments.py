"""Deployments and deployment runs through the real SDK: every method, validation, runs that
create sessions (or record the error), and cron schedules firing: step by step on a clock the
test sets, and on the scheduler's own loop with a real (sped-up) clock."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import anthropic
import pytest
from anthropic.types.beta import BetaManagedAgentsDeployment, BetaManagedAgentsDeploymentRun
from resource_kit import api_error, body, events, page, text_event, wait_for, wait_idle

pytestmark = pytest.mark.timeout(90)

HELLO = [text_event("hello from the deployment")]
EVERY_MINUTE = {"type": "cron", "expression": "* * * * *", "timezone": "UTC"}


@pytest.fixture
def parts(client: Any) -> dict[str, str]:
    agent = client.beta.agents.create(name="deployed", model="claude-sonnet-4-6", metadata={"emulator_brain": "echo"})
    env = client.beta.environments.create(name=f"deploy-env-{agent.id}")
    return {"agent": agent.id, "env": env.id}


def _create(client: Any, parts: dict[str, str], **kw: Any) -> Any:
    kw.setdefault("initial_events", HELLO)
    return client.beta.deployments.create(name=kw.pop("name", "nightly"), agent=kw.pop("agent", parts["agent"]),
                                          environment_id=kw.pop("environment_id", parts["env"]), **kw)


def test_deployment_lifecycle(client: Any, parts: dict[str, str]) -> None:
    deps = client.beta.deployments.with_raw_response
    upload = client.beta.files.upload(file=("data.csv", b"a,b\n1,2\n", "text/csv"))
    vault = client.beta.vaults.create(display_name="deploy-vault")
    notes = client.beta.memory_stores.create(name="deploy-lifecycle")
    created = body(deps.create(
        name="nightly", agent=parts["agent"], environment_id=parts["env"], initial_events=HELLO,
        description="every night", metadata={"team": "data"},
        budget={"type": "limit", "max_list_cost": {"amount": "500", "currency": "USD"}},
        resources=[{"type": "file", "file_id": upload.id, "mount_path": "/data.csv"},
                   {"type": "github_repository", "url": "https://github.com/octo/repo",
                    "authorization_token": "ghp-SECRET-token"},
                   {"type": "memory_store", "memory_store_id": notes.id, "access": "read_only"}],
        vault_ids=[vault.id], schedule={"type": "cron", "expression": "0 9 * * 1-5", "timezone": "America/New_York"}),
        BetaManagedAgentsDeployment)
    did = created["id"]
    assert did.startswith("depl_") and created["agent"] == {"type": "agent", "id": parts["agent"], "version": 1}
    assert (created["status"], created["paused_reason"], created["archived_at"]) == ("active", None, None)
    assert "ghp-SECRET-token" not in str(created)
    assert created["resources"][1] == {"type": "github_repository", "url": "https://github.com/octo/repo",
                                       "checkout": None, "mount_path": None}
    schedule = created["schedule"]
    assert schedule["last_run_at"] is None and len(schedule["upcoming_runs_at"]) == 5
    for stamp in schedule["upcoming_runs_at"]:  # 9:00 in New York is 13:00 or 14:00 UTC
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert (when.hour, when.minute) in ((13, 0), (14, 0)) and when.weekday() < 5
    assert body(deps.retrieve(did), BetaManagedAgentsDeployment)["id"] == did

    client.beta.agents.update(parts["agent"], system="v2")
    updated = body(deps.update(did, agent=parts["agent"], description=None, resources=None, vault_ids=[],
                               budget=None, schedule=None, metadata={"team": None, "k": "v"}, name="renamed"),
                   BetaManagedAgentsDeployment)
    assert updated["agent"]["version"] == 2  # an id string re-pins the latest version
    assert (updated["description"], updated["resources"], updated["vault_ids"], updated["budget"],
            updated["schedule"], updated["metadata"], updated["name"]) == (None, [], [], None, None, {"k": "v"},
                                                                          "renamed")
    pinned = client.beta.deployments.update(did, agent={"type": "agent", "id": parts["agent"], "version": 1})
    assert pinned.agent.version == 1
    for kwargs in ({"name": ""}, {"initial_events": []}, {"schedule": {"type": "cron", "expression": "@daily",
                                                                       "timezone": "UTC"}}):
        with pytest.raises(anthropic.BadRequestError):
            client.beta.deployments.update(did, **kwargs)

    paused = body(deps.pause(did), BetaManagedAgentsDeployment)
    assert (paused["status"], paused["paused_reason"]) == ("paused", {"type": "manual"})
    assert [d.id for d in client.beta.deployments.list(status="paused")] == [did]
    active = body(deps.unpause(did), BetaManagedAgentsDeployment)
    assert (active["status"], active["paused_reason"]) == ("active", None)

    other = _create(client, parts, name="other", schedule=EVERY_MINUTE)
    first = page(deps.list(limit=1, agent_id=parts["agent"]), BetaManagedAgentsDeployment)
    assert first["data"][0]["id"] == other.id and first["next_page"]
    assert [d.id for d in client.beta.deployments.list(agent_id=parts["agent"], limit=1)] == [other.id, did]
    with pytest.raises(anthropic.BadRequestError):
        client.beta.deployments.list(status="active", include_archived=True)

    client.beta.deployments.pause(other.id)
    archived = body(deps.archive(other.id), BetaManagedAgentsDeployment)
    assert archived["archived_at"] and (archived["status"], archived["paused_reason"]) == ("active", None)
    assert archived["schedule"]["upcoming_runs_at"] == []
    assert other.id not in {d.id for d in client.beta.deployments.list(agent_id=parts["agent"])}
    assert other.id in {d.id for d in client.beta.deployments.list(agent_id=parts["agent"], include_archived=True)}
    for call in (client.beta.deployments.pause, client.beta.deployments.unpause, client.beta.deployments.run):
        with pytest.raises(anthropic.BadRequestError) as exc:
            call(other.id)
        api_error(exc.value, 400, "invalid_request_error")
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.beta.deployments.retrieve("depl_missing")
    api_error(nf.value, 404, "not_found_error")


@pytest.mark.parametrize("schedule", [
    {"type": "cron", "expression": "0 9 * * *", "timezone": "Mars/Olympus_Mons"},
    {"type": "cron", "expression": "0 9 * * *", "timezone": "../etc/passwd"},
    {"type": "cron", "expression": "0 9 * *", "timezone": "UTC"},
    {"type": "cron", "expression": "0 0 9 * * *", "timezone": "UTC"},
    {"type": "cron", "expression": "0 9 L * *", "timezone": "UTC"},
    {"type": "cron", "expression": "0 9 * * 1#2", "timezone": "UTC"},
    {"type": "cron", "expression": "0 9 ? * *", "timezone": "UTC"},
    {"type": "cron", "expression": "@hourly", "timezone": "UTC"},
    {"type": "cron", "expression": "61 * * * *", "timezone": "UTC"},
    {"type": "cron", "expression": "0 0 30 2 *", "timezone": "UTC"},
])
def test_bad_schedules_are_400(client: Any, parts: dict[str, str], schedule: dict[str, str]) -> None:
    with pytest.raises(anthropic.BadRequestError) as exc:
        _create(client, parts, schedule=schedule)
    assert "schedule." in api_error(exc.value, 400, "invalid_request_error")["message"]


def test_good_schedules(client: Any, parts: dict[str, str]) -> None:
    for expression in ("*/15 8-18 * * MON-FRI", "0 0 1 JAN,JUL *", "5 4 * * 7", "0 12 * * 0"):
        dep = _create(client, parts, schedule={"type": "cron", "expression": expression, "timezone": "Asia/Tokyo"})
        assert dep.schedule.expression == expression and len(dep.schedule.upcoming_runs_at) == 5


def test_create_validation(client: Any, parts: dict[str, str]) -> None:
    system = {"type": "system.message", "content": [{"type": "text", "text": "be brief"}]}
    with pytest.raises(anthropic.BadRequestError):
        _create(client, parts, initial_events=[])
    with pytest.raises(anthropic.BadRequestError):
        _create(client, parts, initial_events=HELLO * 51)
    with pytest.raises(anthropic.BadRequestError):
        _create(client, parts, initial_events=[system, *HELLO])
    assert _create(client, parts, initial_events=[*HELLO, system]).initial_events[-1].type == "system.message"
    with pytest.raises(anthropic.NotFoundError):
        _create(client, parts, environment_id="env_missing")
    with pytest.raises(anthropic.NotFoundError):
        _create(client, parts, agent="agent_missing")
    with pytest.raises(anthropic.NotFoundError) as store:  # ids the service never made, as at session creation
        _create(client, parts, resources=[{"type": "memory_store", "memory_store_id": "memstore_01Never"}])
    assert api_error(store.value, 404, "not_found_error")["message"].startswith("resources.0.memory_store_id: ")
    with pytest.raises(anthropic.NotFoundError) as vault:
        _create(client, parts, vault_ids=["vlt_01Never"])
    assert api_error(vault.value, 404, "not_found_error")["message"] == "vault_ids.0: Vault vlt_01Never not found"
    with pytest.raises(anthropic.BadRequestError):
        _create(client, parts, extra_body={"bogus": True})
    outcome = {"type": "user.define_outcome", "description": "a report",
               "rubric": {"type": "text", "content": "has a title"}}
    created = body(client.beta.deployments.with_raw_response.create(
        name="o", agent=parts["agent"], environment_id=parts["env"], initial_events=[outcome]),
        BetaManagedAgentsDeployment)
    assert created["initial_events"][0]["max_iterations"] is None
    gone = client.beta.agents.create(name="gone", model="claude-sonnet-4-6")
    client.beta.agents.archive(gone.id)
    with pytest.raises(anthropic.BadRequestError):
        _create(client, parts, agent=gone.id)


def test_run_now_creates_a_session(client: Any, parts: dict[str, str]) -> None:
    store = client.beta.memory_stores.create(name="Deploy Notes")
    client.beta.memory_stores.memories.create(store.id, path="/n.md", content="n")
    vault = client.beta.vaults.create(display_name="run-vault")
    dep = _create(client, parts, vault_ids=[vault.id], schedule=EVERY_MINUTE,
                  resources=[{"type": "memory_store", "memory_store_id": store.id}],
                  budget={"type": "limit", "max_list_cost": {"amount": "900", "currency": "USD"}})
    client.beta.deployments.pause(dep.id)  # paused: manual runs still work
    run = body(client.beta.deployments.with_raw_response.run(dep.id), BetaManagedAgentsDeploymentRun)
    assert run["id"].startswith("drun_") and run["error"] is None and run["trigger_context"] == {"type": "manual"}
    assert run["deployment_id"] == dep.id and run["agent"] == {"type": "agent", "id": parts["agent"], "version": 1}
    session = wait_idle(client, run["session_id"])
    assert session.deployment_id == dep.id and session.vault_ids == [vault.id]
    assert session.budget.max_list_cost.amount == "900"
    assert session.resources[0].mount_path == "/mnt/memory/deploy-notes"
    asked = events(client, session.id, "user.message")
    assert asked[0].content[0].text == "hello from the deployment"
    assert [s.id for s in client.beta.sessions.list(deployment_id=dep.id)] == [session.id]
    assert client.beta.deployments.retrieve(dep.id).schedule.last_run_at is None  # manual runs do not count

    runs = client.beta.deployment_runs.with_raw_response
    assert body(runs.retrieve(run["id"]), BetaManagedAgentsDeploymentRun) == run
    second = client.beta.deployments.run(dep.id)
    listed = page(runs.list(deployment_id=dep.id, limit=1), BetaManagedAgentsDeploymentRun)
    assert [r["id"] for r in listed["data"]] == [second.id] and listed["next_page"]
    assert [r.id for r in client.beta.deployment_runs.list(deployment_id=dep.id, limit=1)] == [second.id, run["id"]]
    assert [r.id for r in client.beta.deployment_runs.list(deployment_id=dep.id, trigger_type="schedule")] == []
    assert len(list(client.beta.deployment_runs.list(deployment_id=dep.id, has_error=False))) == 2
    assert list(client.beta.deployment_runs.list(deployment_id="depl_none")) == []
    assert [r.id for r in client.beta.deployment_runs.list(deployment_id=dep.id, created_at_gt=run["created_at"])] == [
        second.id]
    with pytest.raises(anthropic.BadRequestError):
        client.beta.deployment_runs.list(trigger_type="cron")
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.beta.deployment_runs.retrieve("drun_missing")
    api_error(nf.value, 404, "not_found_error")


def test_failed_runs_carry_the_error(client: Any, parts: dict[str, str]) -> None:
    def failing(setup: Any, **kw: Any) -> dict[str, Any]:
        dep = _create(client, parts, **kw)
        setup()
        run = body(client.beta.deployments.with_raw_response.run(dep.id), BetaManagedAgentsDeploymentRun)
        assert run["session_id"] is None
        assert client.beta.deployments.retrieve(dep.id).status == "active"  # manual failures do not pause
        return run["error"]  # type: ignore[no-any-return]

    vault = client.beta.vaults.create(display_name="doomed")
    assert failing(lambda: client.beta.vaults.delete(vault.id), vault_ids=[vault.id])["type"] == "vault_not_found_error"
    vault2 = client.beta.vaults.create(display_name="archived")
    assert failing(lambda: client.beta.vaults.archive(vault2.id), vault_ids=[vault2.id])["type"] == "vault_archived_error"
    store = client.beta.memory_stores.create(name="old")
    error = failing(lambda: client.beta.memory_stores.archive(store.id),
                    resources=[{"type": "memory_store", "memory_store_id": store.id}])
    assert error["type"] == "memory_store_archived_error" and store.id in error["message"]
    env = client.beta.environments.create(name=f"doomed-env-{vault.id}")
    assert failing(lambda: client.beta.environments.archive(env.id),
                   environment_id=env.id)["type"] == "environment_archived_error"
    agent = client.beta.agents.create(name="doomed-agent", model="claude-sonnet-4-6")
    assert failing(lambda: client.beta.agents.archive(agent.id), agent=agent.id)["type"] == "agent_archived_error"
    upload = client.beta.files.upload(file=("x.txt", b"x", "text/plain"))
    assert failing(lambda: client.beta.files.delete(upload.id),
                   resources=[{"type": "file", "file_id": upload.id}])["type"] == "file_not_found_error"
    assert len(list(client.beta.deployment_runs.list(has_error=True, limit=100))) >= 6


# -- schedules ----------------------------------------------------------------------------------
class Clock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()

    def __call__(self) -> float:
        return self.t

    def set(self, when: datetime) -> None:
        self.t = when.timestamp()


def _at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 3, 6, hour, minute, second, tzinfo=timezone.utc)  # a Friday


def test_schedule_fires_on_the_clock(make_emulator: Any) -> None:
    clock = Clock(_at(13, 58, 30))
    emu = make_emulator(brain="echo", clock=clock, schedule_interval=3600)  # the test drives every tick
    client, tick = emu.client(max_retries=0), emu.app.state.scheduler.tick_threadsafe
    agent = client.beta.agents.create(name="cron", model="claude-sonnet-4-6")
    env = client.beta.environments.create(name="cron-env")
    vault = client.beta.vaults.create(display_name="cron-vault")
    dep = client.beta.deployments.create(
        name="five", agent=agent.id, environment_id=env.id, initial_events=HELLO, vault_ids=[vault.id],
        schedule={"type": "cron", "expression": "*/5 9 * * 1-5", "timezone": "America/New_York"})
    assert dep.schedule.upcoming_runs_at[0] == _at(14, 0)  # 9:00 EST
    assert tick() == []
    clock.set(_at(14, 0, 1))
    (fired,) = tick()
    assert fired["trigger_context"] == {"type": "schedule", "scheduled_at": "2026-03-06T14:00:00.000000Z"}
    assert fired["session_id"] and tick() == []  # at most once per scheduled_at
    wait_idle(client, fired["session_id"])
    got = client.beta.deployments.retrieve(dep.id)
    assert got.schedule.last_run_at is not None and got.schedule.upcoming_runs_at[0] == _at(14, 5)
    (listed,) = client.beta.deployment_runs.list(deployment_id=dep.id, trigger_type="schedule")
    assert listed.trigger_context.scheduled_at == _at(14, 0)

    client.beta.deployments.pause(dep.id)
    clock.set(_at(14, 6))
    assert tick() == []  # paused: no fire
    assert len(client.beta.deployments.retrieve(dep.id).schedule.upcoming_runs_at) == 5
    client.beta.deployments.unpause(dep.id)
    assert tick() == []  # what was missed while paused is not caught up
    clock.set(_at(14, 10, 1))
    assert len(tick()) == 1

    client.beta.vaults.delete(vault.id)  # the next scheduled fire fails and pauses the deployment
    clock.set(_at(14, 15, 1))
    (failed,) = tick()
    assert failed["error"]["type"] == "vault_not_found_error" and failed["session_id"] is None
    paused = client.beta.deployments.retrieve(dep.id)
    assert paused.status == "paused" and paused.paused_reason.type == "error"
    assert paused.paused_reason.error.type == "vault_not_found_error"
    client.beta.deployments.update(dep.id, vault_ids=[])
    client.beta.deployments.unpause(dep.id)
    client.beta.deployments.archive(dep.id)
    clock.set(_at(14, 20, 1))
    assert tick() == []  # archived: never fires
    assert len(list(client.beta.deployment_runs.list(deployment_id=dep.id))) == 3


def test_the_scheduler_loop_fires_and_pause_stops_it(make_emulator: Any) -> None:
    """The scheduler's own task on a real clock, shifted to just before a minute boundary and
    sped up 20 times (a cron minute every 3 real seconds)."""
    t0 = time.time()
    start = (t0 // 60 + 1) * 60 - 1.0
    emu = make_emulator(brain="echo", clock=lambda: start + (time.time() - t0) * 20, schedule_interval=0.1)
    client = emu.client(max_retries=0)
    agent = client.beta.agents.create(name="loop", model="claude-sonnet-4-6")
    env = client.beta.environments.create(name="loop-env")
    dep = client.beta.deployments.create(name="loop", agent=agent.id, environment_id=env.id, initial_events=HELLO,
                                         schedule=EVERY_MINUTE)

    def runs() -> list[Any]:
        return list(client.beta.deployment_runs.list(deployment_id=dep.id))

    first = wait_for(lambda: runs(), timeout=10)
    assert first[0].trigger_context.type == "schedule" and first[0].session_id
    session = wait_idle(client, first[0].session_id)
    assert session.deployment_id == dep.id
    wait_for(lambda: len(runs()) >= 2, timeout=10)
    client.beta.deployments.pause(dep.id)
    time.sleep(0.5)  # a fire already under way when the pause arrived still records its run
    paused_at = len(runs())
    time.sleep(4.5)  # 1.5 cron minutes
    assert len(runs()) == paused_at
    client.beta.deployments.unpause(dep.id)
    wait_for(lambda: len(runs()) > paused_at, timeout=10)
    scheduled = [r.trigger_context.scheduled_at for r in runs()]
    assert len(set(scheduled)) == len(scheduled) and all(s.second == 0 for s in scheduled)
