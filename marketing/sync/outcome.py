"""How a sync run ends, and the jobs that follow it.

A run is the sum of its reports: each one is stored or given up on by itself (`give_up`), and when none is
left `conclude` ends the run `succeeded`, `partial` (some stored; `SyncRun.error` says what failed and why) or
`failed` (nothing stored). Work that needs fresh data (`AFTER_SYNC`) follows any run that stored something.

`AFTER_SYNC` is the one list of that work; the worker learns it from here, not from whichever feature package
happens to be imported. Each entry is a dotted path called with (seller_id, run_id) on the `default` queue, so
reading the list imports nothing heavy.
"""

from __future__ import annotations

import logging

import redis

from marketing import jobs
from marketing.clock import now
from marketing.extensions import db
from marketing.models.sync import ACTIVE_RUN, ENDED_REPORT, ReportStatus, RunStatus, SyncReport, SyncRun
from marketing.sync import plan

log = logging.getLogger("marketing.sync")

AFTER_SYNC: dict[str, str] = {
    "dashboard-rollups": "marketing.dashboard.rollups.after_sync",
    "bid-suggestions": "marketing.bids.suggest.after_sync",
    "sales-history": "marketing.sync.history.after_sync",  # queues the by-ASIN history's own job chain
    "promotion-plans": "marketing.promotions.plans.after_sync",
    "promotion-suggestions": "marketing.promotions.service.after_sync",
}
# The work of AFTER_SYNC that reads the by-ASIN history, queued again when a history chain stored new days: the
# chain runs on its own after the sync, so what followed the sync read the history without them.
AFTER_HISTORY = ("promotion-plans", "promotion-suggestions")
REASONS_SHOWN = 3  # distinct failure reasons quoted in `SyncRun.error`; the rest are counted


def enqueue_after(run: SyncRun, names) -> None:
    """Queue the follow-up jobs `names` (keys of AFTER_SYNC) of a run, once each (the job id names the run)."""
    for name in names:
        jobs.enqueue("default", AFTER_SYNC[name], run.seller_id, run.id, job_id=f"after-sync-{name}-{run.id}",
                     unique=True, job_timeout=jobs.DEFAULTS["default"].job_timeout)


def enqueue_after_history(seller_id: int, chain: str) -> None:
    """Queue `AFTER_HISTORY` once for a seller's history chain (called with no sync run: `None`)."""
    for name in AFTER_HISTORY:
        jobs.enqueue("default", AFTER_SYNC[name], seller_id, None, job_id=f"after-history-{name}-{seller_id}-{chain}",
                     unique=True, job_timeout=jobs.DEFAULTS["default"].job_timeout)


def give_up(report: SyncReport, message: str, status: ReportStatus = ReportStatus.FAILED) -> None:
    """End one report without its data (the caller commits); the rest of the run goes on."""
    if report.status in ENDED_REPORT:
        return
    log.warning("sync run %s: report %s %s: %s", report.run_id, report.id, status, message)
    report.status, report.error, report.finished_at = status, message[:2000], now()


def stored(run: SyncRun) -> bool:
    """Whether the run stored any performance data (a structure sync alone is not data)."""
    return any(r.status == ReportStatus.INGESTED and r.report_type != plan.STRUCTURE for r in run.reports)


def _reasons(reports: list[SyncReport]) -> str:
    reasons = list(dict.fromkeys(r.error or "no reason recorded" for r in reports))
    more = len(reasons) - REASONS_SHOWN
    return " ".join(reasons[:REASONS_SHOWN]) + (f" (and {more} other reasons)" if more > 0 else "")


def conclude(run: SyncRun) -> None:
    """End a run none of whose reports is still under way (committed here), then queue the follow-up work."""
    if run.status not in ACTIVE_RUN:
        return
    failed = [r for r in run.reports if r.status == ReportStatus.FAILED]
    # Notices: what Amazon withheld (a refused report) and what a stored report skipped (its `error`).
    refused = [r for r in run.reports
               if r.status == ReportStatus.REFUSED or (r.status == ReportStatus.INGESTED and r.error)]
    if not failed:
        run.status = RunStatus.SUCCEEDED
    else:
        run.status = RunStatus.PARTIAL if stored(run) else RunStatus.FAILED
        run.error = _reasons(failed)[:2000]
        log.warning("sync run %s of seller %s %s: %s", run.id, run.seller_id, run.status, run.error)
    run.notice = _reasons(refused)[:2000] if refused else None
    run.stage, run.finished_at = "done", now()
    run.rows = sum(r.rows for r in run.reports if r.status == ReportStatus.INGESTED)
    db.session.commit()
    if stored(run):
        try:
            enqueue_after(run, AFTER_SYNC)
        except redis.RedisError:  # the run's end is recorded regardless; the next run refreshes what follows
            log.exception("could not queue the follow-up jobs of sync run %s", run.id)


def fail(run: SyncRun, message: str) -> None:
    """End the run now: every report still under way fails with `message`, those stored stay (committed here)."""
    if run.status not in ACTIVE_RUN:
        return
    for report in run.reports:
        give_up(report, message)
    conclude(run)
