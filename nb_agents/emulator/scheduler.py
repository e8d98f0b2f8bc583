"""Deployment schedules: cron expressions, IANA time zones, and the task that fires them.

A schedule is `{type: "cron", expression, timezone}`: a 5-field POSIX expression (minute hour
day-of-month month day-of-week, day-of-week 0-7 with 0 and 7 Sunday; month and weekday names
allowed) evaluated in an IANA zone with `cronsim` and `zoneinfo`. Seconds or year fields, `L`, `W`,
`#`, `?` and `@daily`-style shortcuts are rejected, as by the service.

`Scheduler` runs on the server's event loop: every `schedule_interval` seconds it fires each
active (not paused, not archived) deployment whose expression matched since the last check,
at most once per `(deployment, scheduled_at)`. Occurrences missed while a deployment was
paused, or while the loop was busy, are not caught up (only the latest one fires). The clock
is `EmulatorConfig.clock` (epoch seconds) when set, so tests can run "a minute" in a second;
there is no per-schedule jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from .common import ApiError, iso

__all__ = ["Scheduler", "check_schedule", "upcoming", "latest_due"]

log = logging.getLogger("nb_agents.emulator")

_ATOM = r"(?:\*|\d+|[A-Za-z]{3})"
_FIELD = re.compile(rf"^{_ATOM}(?:-{_ATOM})?(?:/\d+)?(?:,{_ATOM}(?:-{_ATOM})?(?:/\d+)?)*$")


def _zone(name: str) -> ZoneInfo:
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, f"schedule.timezone: {name!r} is not an IANA time zone") from None


def check_schedule(schedule: dict[str, Any]) -> dict[str, Any]:
    """A validated schedule as stored (400 for a bad expression or an unknown zone)."""
    expression = " ".join(schedule["expression"].split())
    fields = expression.split(" ")
    if len(fields) != 5 or not all(_FIELD.match(f) for f in fields):
        raise ApiError(
            400,
            f"schedule.expression: {schedule['expression']!r} is not a 5-field POSIX cron expression "
            "(seconds/year fields, L, W, #, ? and @ shortcuts are not supported)",
        )
    zone = _zone(schedule["timezone"])
    try:
        CronSim(expression, datetime.now(zone))
    except CronSimError as exc:
        raise ApiError(400, f"schedule.expression: {exc}") from None
    return {"type": "cron", "expression": expression, "timezone": schedule["timezone"]}


def upcoming(schedule: dict[str, Any], after: datetime, n: int = 5) -> list[str]:
    """The next `n` occurrences after `after`, as RFC 3339 UTC strings."""
    it = CronSim(schedule["expression"], after.astimezone(_zone(schedule["timezone"])))
    return [iso(next(it)) for _ in range(n)]


def latest_due(schedule: dict[str, Any], since: datetime, upto: datetime) -> datetime | None:
    """The latest occurrence in `(since, upto]`, or None."""
    local = (upto + timedelta(microseconds=1)).astimezone(_zone(schedule["timezone"]))
    found = next(CronSim(schedule["expression"], local, reverse=True), None)
    if found is None or found <= since:
        return None
    return found.astimezone(timezone.utc)


class Scheduler:
    """Fires deployment schedules on the server's loop (`start()` in the app's lifespan)."""

    def __init__(
        self,
        store: Any,
        fire: Callable[[dict[str, Any], dict[str, Any]], Awaitable[Any]],
        *,
        interval: float = 1.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.store, self._fire = store, fire
        self.interval, self.clock = interval, clock
        self.cursors: dict[str, datetime] = {}  # deployment id -> last check
        self.fired: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock() if self.clock else time.time(), tz=timezone.utc)

    def reset(self, deployment_id: str) -> None:
        """Count occurrences only from now on (after create, unpause or a schedule change)."""
        self.cursors[deployment_id] = self.now()

    async def tick(self) -> list[Any]:
        """Fire every deployment that is due now; returns the runs recorded."""
        now, runs = self.now(), []
        for record in list(self.store.deployments.values()):
            dep = record["wire"]
            schedule = dep.get("schedule")
            if not schedule or dep.get("archived_at"):
                continue
            since = self.cursors.setdefault(dep["id"], now)
            self.cursors[dep["id"]] = max(since, now)
            due = latest_due(schedule, since, now)
            if due is None or dep["status"] == "paused" or (dep["id"], iso(due)) in self.fired:
                continue
            self.fired.add((dep["id"], iso(due)))
            runs.append(await self._fire(record, {"type": "schedule", "scheduled_at": iso(due)}))
        return runs

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - a bad tick must not stop later ones
                log.exception("deployment scheduler tick failed")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._task is None:
            self._task = self._loop.create_task(self._run(), name="nb-agents-emulator-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def tick_threadsafe(self, timeout: float = 10.0) -> list[Any]:
        """Run one tick on the server's loop from another thread (tests, notebooks)."""
        if self._loop is None:
            raise RuntimeError("the scheduler is not running")
        return asyncio.run_coroutine_threadsafe(self.tick(), self._loop).result(timeout)
