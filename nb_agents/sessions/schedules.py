"""Scheduled runs: a `%%agent --schedule` cell as a deployment of the Managed Agents API, its
runs, and the `Run` of a run's session.

`schedule(...)` turns a cell into one deployment per name (created, or updated when a live
deployment has that name): the session's agent and environment (as a new conversation of the
session would get them), the prompt as the initial `user.message` (or, with `--outcome`, a
`user.define_outcome`), `{{df}}` inputs uploaded as file resources at explicit
`/mnt/session/uploads/...` paths (so the prompt can name them before any session exists),
`--max-usd` as the budget. A new definition of the same name uploads only the inputs whose
content changed: the deployment's metadata keeps each input file's content hash
(`nb_agents_inputs`), and `FileSync.prepare(reuse=...)` (the dedupe sessions use) keeps the file
of an unchanged input; a changed one gets a new file and the old file is deleted once the
deployment no longer uses it. It never runs now. The cron expression and the
zone are checked here first (zoneinfo, cronsim) so a mistake creates nothing; the next fire
times come from the API (`schedule.upcoming_runs_at`).

`find`, `runs`, `trigger`, `pause`, `resume`, `unschedule` are the rest of the life cycle;
`ScheduledRun.wait()` waits for a run's session to go idle, rebuilds its transcript from the
event history and pulls its outputs into `<outputs_dir>/<session id>/` (the same `Run` a cell
gives, made by `Turn.complete`).
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..api import (
    api_call,
    api_read,
    create_once,
    ensure_agent_and_environment,
    make_client,
    retrying,
    session_kwargs,
    turn_events,
)
from ..config import resolve_options
from ..errors import ConfigError, SessionError, did_you_mean
from ..events import get_field, usd
from ..files import FileSync
from ..run import Run
from ..tools import budget_param
from .background import StillRunning
from .files import SessionFiles, collect_inputs
from .interpolate import interpolate
from .session import AgentSession, registry
from .turn import Turn

__all__ = [
    "Defined", "ScheduledRun", "check_cron", "check_zone", "connect", "find", "fmt_when", "last_run", "local_zone",
    "next_fires", "pause", "resume", "run_cost", "runs", "schedule", "schedules", "trigger", "unschedule", "zone_of",
]

UPLOADS = "/mnt/session/uploads"
INPUTS_KEY = "nb_agents_inputs"  # deployment metadata: the content hash of each input file
MAX_METADATA_VALUE = 512
MAX_NAME = 256
_DONE = ("idle", "terminated")
# A field of the API's cron grammar: numbers, `*`, three-letter names, ranges, steps and lists
# (no L, W, #, ?); cronsim then checks the ranges.
_CRON_ITEM = r"(?:\*|\d+|[A-Za-z]{3})(?:-(?:\d+|[A-Za-z]{3}))?(?:/\d+)?"
_CRON_FIELD = re.compile(rf"^{_CRON_ITEM}(?:,{_CRON_ITEM})*$")


# -- zones and cron ---------------------------------------------------------------------------
def local_zone() -> tuple[str, str | None]:
    """The machine's time zone as an IANA name (tzlocal: `TZ`, /etc/localtime, the registry on
    Windows), and a note when there is none and UTC is used instead."""
    try:
        import tzlocal

        with warnings.catch_warnings():  # tzlocal warns when TZ and /etc/localtime disagree
            warnings.simplefilter("ignore")
            name = tzlocal.get_localzone_name()
    except Exception:  # noqa: BLE001 - no zone found is a normal state: UTC, with a note
        name = None
    if name and _is_zone(name):
        return name, None
    return "UTC", "the machine's time zone has no IANA name: using UTC (pass --tz ZONE)"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return not name.startswith(("/", ".")) and ".." not in name


def check_zone(name: str) -> str:
    if not _is_zone(name):
        close = did_you_mean(name, _zone_names())
        raise ConfigError(f"--tz: {name!r} is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC){close}")
    return name


def _zone_names() -> set[str]:
    from zoneinfo import available_timezones

    return available_timezones()


def check_cron(expression: str) -> str:
    """A 5-field cron expression as the API takes it (checked by cronsim); else one line."""
    from cronsim import CronSim, CronSimError

    fields = expression.split()
    usage = ("a 5-field cron expression: minute hour day-of-month month day-of-week, e.g. \"0 8 * * 1-5\" "
             "(no seconds or year field, no L, W, #, ? or @daily)")
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ConfigError(f"--schedule: {expression!r} is not {usage}")
    try:
        CronSim(" ".join(fields), datetime.now(timezone.utc))
    except CronSimError as exc:
        raise ConfigError(f"--schedule: {expression!r} is not {usage}: {exc}") from None
    return " ".join(fields)


def next_fires(dep: Any, n: int = 3) -> list[datetime]:
    """The deployment's next `n` fire times (the API's `upcoming_runs_at`) in its own zone."""
    sched = get_field(dep, "schedule")
    if sched is None:
        return []
    zone = ZoneInfo(sched.timezone)
    return [_aware(t).astimezone(zone) for t in (sched.upcoming_runs_at or [])[:n]]


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def fmt_when(t: datetime | None) -> str:
    return "-" if t is None else t.strftime("%a %d %b %H:%M %Z").strip()


# -- defining a schedule ------------------------------------------------------------------------
@dataclass
class Defined:
    """What `schedule()` did: the deployment, whether it was created (else updated), the zone note."""

    deployment: Any
    created: bool
    inputs: tuple[str, ...] = ()
    note: str | None = None

    @property
    def line(self) -> str:
        dep = self.deployment
        fires = ", ".join(fmt_when(t) for t in next_fires(dep)) or "none listed"
        verb = "scheduled" if self.created else "updated"
        inputs = f"; inputs {', '.join(self.inputs)}" if self.inputs else ""
        note = f" ({self.note})" if self.note else ""
        return (f"{verb} {dep.name!r} ({dep.id}): {dep.schedule.expression!r} in {dep.schedule.timezone}{note}; "
                f"next: {fires}{inputs}; not run now (%agent trigger {dep.name} runs it)")

    def __repr__(self) -> str:
        return self.line


def connect(client: Any = None) -> Any:
    """`client`, else a client of the current backend (`%agent offline`, or the API key)."""
    return client if client is not None else make_client(resolve_options())


def zone_of(dep: Any) -> ZoneInfo | None:
    sched = get_field(dep, "schedule")
    return ZoneInfo(sched.timezone) if sched is not None else None


def schedule(
    prompt: str, *, name: str, cron: str, tz: str | None = None, session: str = "default",
    namespace: Mapping[str, Any] | None = None, interpolate_vars: bool = True, files: Any = None,
    **overrides: Any,
) -> Defined:
    """Create (or update, same name: one deployment) the deployment of a cell; does not run it."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ConfigError(f"--name: a schedule needs a name of 1 to {MAX_NAME} characters, not {name!r}")
    expression = check_cron(cron)
    note = None
    if tz is None:
        tz, note = local_zone()
    check_zone(tz)
    if not prompt.strip():
        raise ConfigError("%%agent --schedule: the cell is empty: write the prompt below the %%agent line")
    # Only the session's options: the named session of this kernel is not touched.
    sess = AgentSession(session, **(registry()[session].defaults if session in registry() else {}))
    opts = sess.options(**overrides)
    if opts.local:
        # A self-hosted deployment's runs need a worker up when they fire, and a cloud one would
        # upload the data local mode keeps here: neither is what the user asked for. Say so.
        raise ConfigError("--schedule does not go with local mode: a scheduled run fires on the server, maybe with "
                          "this kernel gone, and a self-hosted one needs a worker running then; schedule it in the "
                          "cloud (without --local, or %config AgentMagic.local = False)")
    turn_events(prompt, opts)  # an outcome without a rubric fails before anything is made
    prepared = interpolate(prompt, namespace or {}) if interpolate_vars else None
    client = sess.connect(opts)
    base = _base_params(client, opts, session, name, {"type": "cron", "expression": expression, "timezone": tz})
    existing = find(name, client=client, missing_ok=True)
    inputs = collect_inputs(prepared, [files] if isinstance(files, str) else files) if prepared else {}
    sync = FileSync(client, outputs_dir=opts.outputs_dir, session_name=session)
    prep = sync.prepare(inputs, fmt=opts.file_format, sample=opts.sample_rows,
                        reuse=_kept_inputs(existing)) if inputs else None
    try:
        files_res = _file_resources(prep)  # also gives each input the mount path its card names
        text = SessionFiles.prompt(prompt, namespace or {}, prep, interpolate_vars) if prep else (
            prepared.text if prepared else prompt)
        params = {**base, "initial_events": turn_events(text, opts), "resources": files_res + base["resources"]}
        digests = _input_digests(prep)
        if digests or (existing is not None and INPUTS_KEY in (existing.metadata or {})):
            params["metadata"] = {**params["metadata"], INPUTS_KEY: digests}  # None (no inputs) deletes it
        dep = _save(client, existing, params)
    except BaseException:
        if prep is not None:
            sync.discard(prep)  # nothing of this definition stays uploaded
        raise
    if existing is not None:  # the files of the previous definition are no longer used
        kept = {r["file_id"] for r in files_res}
        sync.delete_files(r.file_id for r in existing.resources if r.type == "file" and r.file_id not in kept)
    shown = tuple(f"{spec.name} -> {mount.mount_path}" + (" (unchanged)" if row.status == "unchanged" else "")
                  for (spec, mount), row in zip(prep.entries, prep.report, strict=True)) if prep else ()
    return Defined(dep, existing is None, shown, note)


def _base_params(client: Any, opts: Any, session: str, name: str, cron: dict[str, str]) -> dict[str, Any]:
    """Everything of the deployment but its events and files: the agent and environment the
    session's options give, memory stores, repositories, vaults, budget, schedule, metadata (not
    the cell number: it changes with every run of the notebook)."""
    extra = session_kwargs(opts, session)
    agent_id, environment_id = ensure_agent_and_environment(client, opts)
    return {
        "name": name, "agent": agent_id, "environment_id": environment_id,
        "resources": list(extra.get("resources", [])), "vault_ids": list(extra.get("vault_ids", [])),
        "budget": budget_param(opts.max_usd) if opts.max_usd else None, "schedule": cron,
        "metadata": {k: v for k, v in extra["metadata"].items() if k != "cell"},
    }


def _save(client: Any, existing: Any, params: dict[str, Any]) -> Any:
    """Create or update the deployment through the one retry policy, never twice: the SDK's own
    retries are off, and after a failed create the name is looked up before creating again (a
    create whose answer was lost made it: `create_once`)."""
    once = client.with_options(max_retries=0).beta.deployments
    if existing is not None:  # the same full update again changes nothing more
        return retrying(lambda: api_call(once.update, existing.id, **params))
    return create_once(lambda: once.create(**params), lambda: find(params["name"], client=client, missing_ok=True))


def _input_digests(prep: Any) -> str | None:
    """`file_id=digest` of each input, space-separated, as many as fit in a metadata value (an
    input left out is uploaded again next time, as if it had changed); None without inputs."""
    if prep is None:
        return None
    text = ""
    for spec, mount in prep.entries:
        pair = f"{mount.file_id}={spec.digest}"
        if len(text) + len(pair) + 1 > MAX_METADATA_VALUE:
            break
        text = f"{text} {pair}" if text else pair
    return text or None


def _kept_inputs(dep: Any) -> dict[str, tuple[str, str]]:
    """The earlier definition's input files: mount request -> (content hash, file id), for the
    files of `dep` whose hash its metadata kept."""
    if dep is None:
        return {}
    pairs = str((dep.metadata or {}).get(INPUTS_KEY) or "").split()
    digests = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    kept = {}
    for res in dep.resources or []:
        path = str(get_field(res, "mount_path") or "")
        if get_field(res, "type") == "file" and res.file_id in digests and path.startswith(UPLOADS + "/"):
            kept["/" + path[len(UPLOADS) + 1:]] = (digests[res.file_id], res.file_id)
    return kept


def _file_resources(prep: Any) -> list[dict[str, Any]]:
    """The inputs as deployment resources, at paths given in full: no session exists yet to say
    where the service mounted them, so the prompt names the path the resource asks for."""
    if prep is None:
        return []
    out = []
    for spec, mount in prep.entries:
        mount.mount_path = f"{UPLOADS}/{spec.mount_request.lstrip('/')}"
        out.append({"type": "file", "file_id": mount.file_id, "mount_path": mount.mount_path})
    return out


# -- the life cycle ---------------------------------------------------------------------------
def schedules(client: Any = None) -> list[Any]:
    """Every live (not archived) deployment, newest first."""
    client = connect(client)
    return list(api_read(lambda: list(client.beta.deployments.list(limit=100))))


def find(name: str, *, client: Any = None, missing_ok: bool = False) -> Any:
    """The live deployment named `name` (a `depl_` id is accepted too); else a one-line error."""
    client = connect(client)
    deps = schedules(client)
    for dep in deps:
        if dep.name == name or dep.id == name:
            return dep
    if missing_ok:
        return None
    names = [d.name for d in deps]
    known = ", ".join(sorted(names)) or "none yet"
    raise SessionError(f"no schedule named {name!r}{did_you_mean(name, names)} (schedules: {known})")


def trigger(name: str, client: Any = None) -> ScheduledRun:
    """Fire the deployment now (a manual run); its run (it has a session, or the error)."""
    client = connect(client)
    dep = find(name, client=client)
    return ScheduledRun(api_call(client.beta.deployments.run, dep.id), dep.name, client)


def pause(name: str, client: Any = None) -> Any:
    client = connect(client)
    return api_call(client.beta.deployments.pause, find(name, client=client).id)


def resume(name: str, client: Any = None) -> Any:
    client = connect(client)
    return api_call(client.beta.deployments.unpause, find(name, client=client).id)


def unschedule(name: str, client: Any = None) -> Any:
    """Archive the deployment: it never fires again (its runs and sessions stay)."""
    client = connect(client)
    return api_call(client.beta.deployments.archive, find(name, client=client).id)


def runs(name: Any, client: Any = None) -> list[ScheduledRun]:
    """The runs of the schedule `name` (or of a deployment object), oldest first."""
    client = connect(client)
    dep = find(name, client=client) if isinstance(name, str) else name
    found = api_read(lambda: list(client.beta.deployment_runs.list(deployment_id=dep.id, limit=100)))
    return [ScheduledRun(r, dep.name, client) for r in sorted(found, key=lambda r: r.created_at)]


def last_run(dep: Any, client: Any = None) -> ScheduledRun | None:
    """The deployment's newest run, or None (the API promises no order: all are read)."""
    found = runs(dep, client)
    return found[-1] if found else None


def run_cost(client: Any, session_id: str | None) -> tuple[str, float | None]:
    """(status, cost in USD) of a run's session; ("gone", None) when the server has no such session."""
    if session_id is None:
        return "error", None
    try:
        remote = api_read(client.beta.sessions.retrieve, session_id)
    except Exception:  # noqa: BLE001 - one run's session the server cannot show marks its row only
        return "gone", None
    return str(remote.status), usd(get_field(get_field(remote, "usage"), "list_cost"))


class ScheduledRun:
    """One run of a schedule (a deployment run): `.session_id` or `.error`; `.wait()` -> `Run`."""

    def __init__(self, wire: Any, schedule_name: str, client: Any) -> None:
        self.wire, self.schedule, self.client = wire, schedule_name, client
        self.id: str = wire.id
        self.session_id: str | None = wire.session_id
        self.created_at: datetime = _aware(wire.created_at)
        self.trigger: str = wire.trigger_context.type  # "schedule" or "manual"
        at = getattr(wire.trigger_context, "scheduled_at", None)
        self.scheduled_at: datetime | None = _aware(at) if at is not None else None  # the cron occurrence
        err = wire.error
        self.error: str | None = None if err is None else f"{err.type}: {getattr(err, 'message', '') or ''}".rstrip(": ")
        self._run: Run | None = None

    def __repr__(self) -> str:
        what = self.session_id or f"error {self.error}"
        return f"<ScheduledRun {self.schedule!r} {self.id} {self.trigger} {self.created_at:%Y-%m-%d %H:%M:%S} {what}>"

    def status(self) -> str:
        """The session's status now (idle, running, ...), or "error" for a run that made none."""
        return run_cost(self.client, self.session_id)[0]

    def wait(self, timeout: float | None = None, *, poll: float = 0.2) -> Run:
        """The run's `Run` once its session is idle: transcript, text, outputs pulled, usage, cost.
        A run that failed to start raises its error in one line; `StillRunning` after `timeout`."""
        if self._run is not None:
            return self._run
        if self.session_id is None:
            raise SessionError(f"run {self.id} of schedule {self.schedule!r} made no session: {self.error}")
        deadline = None if timeout is None else time.monotonic() + timeout
        sess = AgentSession(self.session_id)  # not in the kernel's registry: `%agent attach` adds one
        while True:
            status = api_read(self.client.beta.sessions.retrieve, self.session_id).status
            if status in _DONE:
                sess.attach(self.session_id)
                if _finished(sess.history):
                    break
            if deadline is not None and time.monotonic() >= deadline:
                raise StillRunning(f"run {self.id} of schedule {self.schedule!r} is still running after {timeout:g} s")
            time.sleep(poll)
            poll = min(poll * 1.5, 2.0)
        self._run = _settled_run(sess)
        return self._run


def _finished(history: Any) -> bool:
    """The history's last turn ended (idle, terminated) or waits for an answer nobody here gives."""
    return history is not None and bool(history.is_terminal or history.requires_action)


def _settled_run(sess: AgentSession) -> Run:
    """The Run of a session's whole history as it stands (outputs pulled), as a turn builds it."""
    turn = Turn(sess, sess.options(), None, live=False)
    turn.t, turn.events = sess.history, list(sess.events)
    run = turn.complete(False)
    run.stop_reason = sess.history.stop_reason
    run.prompt = _first_prompt(sess.events)
    return run


def _first_prompt(events: list[Any]) -> str:
    for event in events:
        if get_field(event, "type") == "user.message":
            return "".join(get_field(b, "text", "") or "" for b in get_field(event, "content", []) or [])
        if get_field(event, "type") == "user.define_outcome":
            return str(get_field(event, "description", ""))
    return ""
