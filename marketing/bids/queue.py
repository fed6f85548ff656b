"""One queued job per seller and purpose, yet always runnable again once the previous one has ended.

RQ's `unique` refuses an id while the old job's hash survives (its result is kept for a day), which would
silently swallow tomorrow's run; so an ended job of that id is deleted before enqueuing anew.
"""

from __future__ import annotations

from rq.job import JobStatus

from marketing import jobs

_ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def enqueue_once(func, *args, job_id: str):
    existing = jobs.queue("default").fetch_job(job_id)
    if existing is not None and existing.get_status(refresh=True) in _ENDED:
        existing.delete()
    return jobs.enqueue("default", func, *args, job_id=job_id, unique=True)
