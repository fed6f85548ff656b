"""Periodic work that runs exactly once per slot, however many workers run.

One tick job per minute is parked in RQ's scheduler under a unique id derived from its slot
(`tick-YYYYmmddHHMM`); each tick first schedules the next one, then enqueues every periodic task that is
due in its slot, again under unique ids (`<task>-<slot>`). Two workers scheduling the same slot collide on
the id, so nothing runs twice; a worker starting after an outage schedules the next future slot.
Only a worker listening on `default` runs RQ's scheduler for that queue, so without one no tick runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

from rq.exceptions import DuplicateJobError
from rq.registry import ScheduledJobRegistry

from marketing import jobs
from marketing.clock import now

SLOT = dt.timedelta(minutes=1)
LAST_RUN_KEY = "marketing:tick:last-run"


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str  # dotted path, so listing a task imports nothing heavy
    queue: str
    every_minutes: int
    offset_minutes: int = 0

    def due(self, slot: dt.datetime) -> bool:
        minutes = int(slot.timestamp() // 60)
        return minutes % self.every_minutes == self.offset_minutes % self.every_minutes


# Every periodic task, in one place (a worker needs no other import to know them).
PERIODIC = [
    Periodic("purge-reset-links", "marketing.accounts.purge_expired_reset_links", "default", 24 * 60, 150),
    Periodic("token-check", "marketing.connections.check.run_job", "sync", 24 * 60, 5 * 60),
    Periodic("sync-nightly", "marketing.sync.runs.nightly", "sync", 24 * 60, 8 * 60),  # 08:00 UTC
    Periodic("sync-resume", "marketing.sync.runs.resume_all", "sync", 5, 2),
    Periodic("sales-history", "marketing.sync.history.queue_all", "sync", 24 * 60, 8 * 60 + 30),  # 08:30 UTC
    Periodic("email-weekly", "marketing.digest.weekly.schedule", "email", 15, 7),
    Periodic("email-alerts", "marketing.digest.alerts.send_all", "email", 60, 10),
]


# Run at once when the tick chain is found lost (`revive`): unfinished sync runs lost their jobs with it.
REVIVE = ("sync-resume",)
REVIVE_SECONDS = 30


def slot_key(slot: dt.datetime) -> str:
    return slot.strftime("%Y%m%d%H%M")


def _slot_of(job_id: str) -> dt.datetime:
    return dt.datetime.strptime(job_id.removeprefix("tick-"), "%Y%m%d%H%M").replace(tzinfo=dt.UTC)


def next_slot(after: dt.datetime) -> dt.datetime:
    floor = after.replace(second=0, microsecond=0)
    return floor + SLOT


def ensure_scheduled(after: dt.datetime | None = None) -> str:
    """Park the tick for the next slot (idempotent); returns its job id."""
    slot = next_slot(after or now())
    job_id = f"tick-{slot_key(slot)}"
    with contextlib.suppress(DuplicateJobError):
        jobs.queue("default").enqueue_at(
            slot, tick, slot.isoformat(), job_id=job_id, unique=True,
            result_ttl=3600, failure_ttl=24 * 3600, job_timeout=60,
        )
    return job_id


def revive() -> list[str]:
    """If no tick is parked or queued (Redis restarted empty, or lost the chain), park the next one and queue
    the `REVIVE` tasks now rather than at their next due slot; returns those queued. Workers call this every
    `REVIVE_SECONDS`, so periodic work comes back by itself without restarting them."""
    if status().next_slot is not None:
        return []
    ensure_scheduled()
    stamp = now().strftime("%Y%m%d%H%M%S")
    for task in PERIODIC:
        if task.name in REVIVE:
            jobs.enqueue(task.queue, task.func, job_id=f"{task.name}-revived-{stamp}", unique=True)
    return list(REVIVE)


def tick(slot_iso: str) -> list[str]:
    """Run one slot: schedule the next tick, then enqueue the periodic tasks due now."""
    slot = dt.datetime.fromisoformat(slot_iso)
    ensure_scheduled(after=max(slot, now()))
    jobs.connection().set(LAST_RUN_KEY, now().isoformat())
    enqueued = []
    for task in PERIODIC:
        if task.due(slot):
            jobs.enqueue(task.queue, task.func, job_id=f"{task.name}-{slot_key(slot)}", unique=True)
            enqueued.append(task.name)
    return enqueued


@dataclass(frozen=True)
class TickStatus:
    next_slot: dt.datetime | None  # the earliest tick parked in the scheduler or waiting on the queue
    last_run: dt.datetime | None
    late: bool  # its slot is over a minute past: no worker on `default` has run it


def status() -> TickStatus:
    """Where the tick chain stands, for the job-health page."""
    default = jobs.queue("default")
    pending = [job_id for job_id in (*ScheduledJobRegistry(queue=default).get_job_ids(), *default.get_job_ids())
               if job_id.startswith("tick-")]
    upcoming = min(map(_slot_of, pending), default=None)
    last_run = jobs.connection().get(LAST_RUN_KEY)
    return TickStatus(upcoming, dt.datetime.fromisoformat(last_run.decode()) if last_run else None,
                      upcoming is not None and now() - upcoming > SLOT)
