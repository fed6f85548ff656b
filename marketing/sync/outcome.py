"""How a sync run ends, and the jobs that follow it.

`AFTER_SYNC` is the one list of work that needs fresh data; the worker learns it from here, not from whichever
feature package happens to be imported. Each entry is a dotted path called with (seller_id, run_id) on the
`default` queue, so reading the list imports nothing heavy.
"""

from __future__ import annotations

import logging

import redis

from marketing import jobs
from marketing.clock import now
from marketing.extensions import db
from marketing.models.sync import ACTIVE_RUN, ReportStatus, RunStatus, SyncRun
from marketing.sync import plan

log = logging.getLogger("marketing.sync")

AFTER_SYNC: dict[str, str] = {
    "dashboard-rollups": "marketing.dashboard.rollups.after_sync",
    "bid-suggestions": "marketing.bids.suggest.after_sync",
}
# Of those, the ones that also follow a failed run that stored some reports: the dashboard's rollup must agree
# with the fact tables those reports already replaced; bid suggestions wait for complete data.
AFTER_FAILED_SYNC = ("dashboard-rollups",)


def enqueue_after(run: SyncRun, names) -> None:
    """Queue the follow-up jobs `names` (keys of AFTER_SYNC) of a run, once each (the job id names the run)."""
    for name in names:
        jobs.enqueue("default", AFTER_SYNC[name], run.seller_id, run.id, job_id=f"after-sync-{name}-{run.id}",
                     unique=True, job_timeout=jobs.DEFAULTS["default"].job_timeout)


def succeed(run: SyncRun) -> None:
    """End a run whose reports are all in (committed here), then queue what depends on fresh data."""
    run.status, run.stage, run.finished_at = RunStatus.SUCCEEDED, "done", now()
    run.rows = sum(r.rows for r in run.reports)
    db.session.commit()
    enqueue_after(run, AFTER_SYNC)


def fail(run: SyncRun, message: str) -> None:
    """End the run with one clear sentence (the caller commits). A run ends once: later failures are dropped."""
    if run.status not in ACTIVE_RUN:
        return
    log.warning("sync run %s of seller %s failed: %s", run.id, run.seller_id, message)
    run.status, run.stage = RunStatus.FAILED, "failed"
    run.error = message[:2000]
    run.finished_at = now()
    if any(r.status == ReportStatus.INGESTED and r.report_type != plan.STRUCTURE for r in run.reports):
        try:
            enqueue_after(run, AFTER_FAILED_SYNC)
        except redis.RedisError:  # the run's end is recorded regardless; the next run refreshes the rollup
            log.exception("could not queue the follow-up jobs of failed sync run %s", run.id)
