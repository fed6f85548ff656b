"""What the admin job-health page shows: queues, failed jobs, workers and the tick.

A worker is alive for as long as RQ keeps its registration: every heartbeat sets the key's expiry to the
worker's own promise (worker_ttl + 60 s while idle, so an idle worker beats only every ~7 minutes; the job's
timeout + 60 s before a job it runs in-process, since it cannot beat during one). RQ drops the worker when the
key expires, so a fixed age threshold on the last heartbeat would flag healthy workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from marketing import jobs
from marketing.clock import now
from marketing.jobs import tick
from marketing.jobs.tick import TickStatus

FAILED_SHOWN = 50


@dataclass
class FailedJob:
    queue: str
    id: str
    func: str
    error: str
    ended_at: dt.datetime | None


@dataclass
class QueueInfo:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int


@dataclass
class WorkerInfo:
    name: str
    queues: list[str]
    state: str
    last_heartbeat: dt.datetime | None
    next_heartbeat_by: dt.datetime | None  # when RQ drops the worker unless it beats again
    stale: bool  # its key has no deadline (a leftover) or just expired: RQ no longer counts it


@dataclass
class HealthReport:
    queues: list[QueueInfo] = field(default_factory=list)
    failed: list[FailedJob] = field(default_factory=list)
    workers: list[WorkerInfo] = field(default_factory=list)
    tick: TickStatus | None = None
    error: str | None = None


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "(no error recorded)"


def report() -> HealthReport:
    result = HealthReport()
    try:
        conn = jobs.connection()
        for name in jobs.QUEUES:
            q = jobs.queue(name)
            failed = FailedJobRegistry(queue=q)
            result.queues.append(QueueInfo(name, q.count, StartedJobRegistry(queue=q).count,
                                           ScheduledJobRegistry(queue=q).count, failed.count))
            for job in Job.fetch_many(failed.get_job_ids(0, FAILED_SHOWN - 1), connection=conn):
                if job is None:
                    continue
                latest = job.latest_result()
                result.failed.append(FailedJob(name, job.id, job.func_name, _last_line(
                    latest.exc_string if latest else None), job.ended_at))
        for worker in Worker.all(connection=conn):
            beat = worker.last_heartbeat
            if beat is not None and beat.tzinfo is None:
                beat = beat.replace(tzinfo=dt.UTC)
            left_ms = conn.pttl(worker.key)  # -1: no expiry (a leftover), -2: expired since it was listed
            due = now() + dt.timedelta(milliseconds=left_ms) if left_ms >= 0 else None
            result.workers.append(WorkerInfo(worker.name, worker.queue_names(), worker.get_state(), beat, due,
                                             stale=due is None))
        result.tick = tick.status()
    except Exception as exc:  # the page must still render when Redis is down
        result.error = f"Redis is not reachable: {type(exc).__name__}"
    return result


def requeue(queue_name: str, job_id: str) -> bool:
    try:
        FailedJobRegistry(queue=jobs.queue(queue_name)).requeue(job_id)
    except (NoSuchJobError, InvalidJobOperation):
        return False
    return True
