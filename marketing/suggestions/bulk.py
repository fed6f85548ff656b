"""Deciding many suggestions in one action: "all N matching the filter" and "approve all in this campaign".

The ids are the ones that matched when the person clicked. Each chunk is one conditional UPDATE in the
lifecycle, so a row that is no longer approvable by then (another reviewer, a newer run) is skipped and counted,
never overwritten. Up to `INLINE` ids are decided within the request; more run as a job on the `default` queue
that keeps its progress in the job's meta, which the review page shows. Re-running a job decides nothing twice.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from rq import get_current_job
from rq.job import Job, JobStatus

from marketing import jobs
from marketing.extensions import db
from marketing.models import Seller, User
from marketing.security import permissions as P
from marketing.suggestions import lifecycle

INLINE = 1000  # more than this many ids run as a job
CHUNK = 1000  # ids per UPDATE (and per commit, so progress is real)
ACTIONS = ("approve", "reject")


@dataclass
class Progress:
    action: str
    total: int
    done: int = 0  # decided by this action
    skipped: int = 0  # no longer approvable (or rejectable) when their turn came

    @property
    def summary(self) -> str:
        verb = "approved" if self.action == "approve" else "rejected"
        text = f"{self.done:,} suggestion{'s' if self.done != 1 else ''} {verb}"
        if self.skipped:
            text += f"; {self.skipped:,} skipped (no longer {'pending' if self.action == 'reject' else 'approvable'})"
        return text + "."


def decide(seller_id: int, ids: list[int], action: str, actor: User | None, report=None) -> Progress:
    """Approve or reject the seller's suggestions among `ids`, committing chunk by chunk; `report(progress)` is
    called after each chunk."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    many = lifecycle.approve_many if action == "approve" else lifecycle.reject_many
    progress = Progress(action, len(ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        changed = many(seller_id, chunk, actor=actor)
        db.session.commit()
        progress.done += len(changed)
        progress.skipped += len(chunk) - len(changed)
        if report is not None:
            report(progress)
    return progress


def job_prefix(seller_id: int) -> str:
    return f"suggestions-bulk-{seller_id}-"


def enqueue(seller_id: int, ids: list[int], action: str, actor: User) -> Job:
    """Queue deciding `ids`; the job's id starts with `job_prefix(seller_id)` so a page can only show its own
    seller's jobs."""
    job_id = job_prefix(seller_id) + uuid.uuid4().hex[:12]
    meta = asdict(Progress(action, len(ids)))
    return jobs.enqueue("default", bulk_job, seller_id, ids, action, actor.id, job_id=job_id, meta=meta)


def bulk_job(seller_id: int, ids: list[int], action: str, actor_id: int) -> dict:
    """RQ entry point: decide as `actor_id`, if that person may still act on the seller's suggestions."""
    actor = db.session.get(User, actor_id)
    seller = db.session.get(Seller, seller_id)
    if actor is None or seller is None or not P.can(actor, P.ACT_ON_SUGGESTIONS, seller):
        raise PermissionError(f"user {actor_id} may no longer act on seller {seller_id}'s suggestions")
    job = get_current_job()

    def report(progress: Progress) -> None:
        if job is not None:
            job.meta.update(asdict(progress))
            job.save_meta()

    progress = decide(seller_id, ids, action, actor, report)
    return {**asdict(progress), "summary": progress.summary}


@dataclass(frozen=True)
class JobView:
    """What the page shows of a bulk job (or of sending approved bids)."""

    id: str
    state: str  # queued | started | finished | failed …
    done: int
    total: int
    summary: str

    @property
    def running(self) -> bool:
        return self.state not in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


def bulk_status(seller_id: int, job_id: str | None) -> JobView | None:
    """The seller's bulk job `job_id` as the page shows it; None for an unknown id or another seller's."""
    if not job_id or not job_id.startswith(job_prefix(seller_id)) or len(job_id) > 80:
        return None
    job = jobs.queue("default").fetch_job(job_id)
    if job is None:
        return None
    meta = job.get_meta(refresh=True)
    progress = Progress(meta.get("action", "approve"), meta.get("total", 0), meta.get("done", 0),
                        meta.get("skipped", 0))
    state = job_state(job)
    summary = progress.summary if state != JobStatus.FAILED else "The job failed; see the jobs page."
    return JobView(job.id, state, progress.done + progress.skipped, progress.total, summary)


def job_state(job: Job) -> str:
    """The job's status as its plain value ("finished"), for pages and comparisons."""
    status = job.get_status(refresh=False)
    return getattr(status, "value", status) or "unknown"
