"""A seller's sync runs: one at a time, planned and persisted up front, watched, and followed by dependent jobs.

The plan (every report of the run) is stored as SyncReport rows before any job runs, so what a run still
needs is always in the database: `steps.resume_run` re-enqueues whatever step a report is waiting for, and
the periodic `resume_all` does so for runs whose jobs were lost with a worker or with Redis.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select

from marketing.amazon import hosts
from marketing.clock import now
from marketing.extensions import db
from marketing.models import AdsProfile, Seller, SyncReport, SyncRun
from marketing.models.sync import ACTIVE_RUN, ENDED_REPORT, ReportStatus, RunStatus
from marketing.sync import plan, steps
from marketing.sync.outcome import fail

log = logging.getLogger("marketing.sync")

KINDS = ("backfill", "nightly", "manual")
# Past its reports' horizon, a run that has not ended is abandoned (its jobs were lost); a new run may start.
STALE_MARGIN = dt.timedelta(hours=1)

class SyncRefused(Exception):
    """Why a run cannot start (nothing connected to sync, bad input)."""


def managed_profiles(seller: Seller) -> list[AdsProfile]:
    """Profiles we sync: managed, seller or vendor (never agency/DSP), on a working Ads connection."""
    connection = seller.connection("ads")
    if connection is None or not connection.connected or connection.revoked_at is not None:
        return []
    return [p for p in connection.profiles if p.managed and p.manageable]


def active_run(seller_id: int) -> SyncRun | None:
    return db.session.scalar(select(SyncRun).where(SyncRun.seller_id == seller_id, SyncRun.status.in_(ACTIVE_RUN))
                             .order_by(SyncRun.id.desc()).limit(1))


def latest_run(seller_id: int) -> SyncRun | None:
    return db.session.scalar(select(SyncRun).where(SyncRun.seller_id == seller_id)
                             .order_by(SyncRun.id.desc()).limit(1))


def stale_after() -> dt.timedelta:
    """How long a run may go on: its reports' horizon plus a margin for the last download and ingest."""
    return dt.timedelta(seconds=steps.setting("SYNC_REPORT_HORIZON_SECONDS")) + STALE_MARGIN


def _expire_stale(seller_id: int) -> None:
    limit = stale_after()
    for run in db.session.scalars(select(SyncRun).where(SyncRun.seller_id == seller_id,
                                                        SyncRun.status.in_(ACTIVE_RUN))):
        if now() - run.created_at > limit:
            fail(run, f"Abandoned: the run did not finish within {limit.total_seconds() / 3600:g} hours.")


def _synced_profiles(profile_ids: list[int]) -> set[int]:
    """Profiles with a history from an earlier run (so they need no back-fill). A run that succeeded or ended
    partial counts: the slices a partial run failed are re-planned one by one (`_failed_slices`); a back-fill
    that failed outright is asked for again, or its older days stay holes."""
    return set(db.session.scalars(select(SyncReport.profile_id).distinct().join(SyncRun).where(
        SyncReport.profile_id.in_(profile_ids), SyncReport.status == ReportStatus.INGESTED,
        SyncRun.status.in_((RunStatus.SUCCEEDED, RunStatus.PARTIAL)),
        SyncReport.report_type.in_(plan.ADS_REPORT_TYPES))))


def _failed_slices(seller_id: int, profile_ids: set[int], markets: set[str]) -> list[plan.PlannedReport]:
    """The reports the seller's last ended run failed, to be asked for again (still ours to sync). Coupon, deal
    and inventory pulls are planned afresh every run anyway."""
    last = db.session.scalar(select(SyncRun).where(SyncRun.seller_id == seller_id, SyncRun.status.not_in(ACTIVE_RUN))
                             .order_by(SyncRun.id.desc()).limit(1))
    if last is None:
        return []
    return [plan.PlannedReport(r.source, r.report_type, r.profile_id, r.marketplace_id, r.start_date, r.end_date)
            for r in last.reports if r.status == ReportStatus.FAILED
            and r.report_type not in (*plan.DIRECT, *plan.PROMOTION_REPORTS)
            and (r.profile_id in profile_ids if r.source == "ads" else r.marketplace_id in markets)]


def _covered(slice_: plan.PlannedReport, planned: list[plan.PlannedReport]) -> bool:
    return any(p.source == slice_.source and p.report_type == slice_.report_type
               and p.profile_id == slice_.profile_id and p.marketplace_id == slice_.marketplace_id
               and p.start <= slice_.start and slice_.end <= p.end for p in planned)


def _stored_sp(seller_id: int) -> set[tuple[str, str]]:
    """(marketplace, report type) pairs of SP-API reports stored by an earlier run of the seller."""
    return set(db.session.execute(select(SyncReport.marketplace_id, SyncReport.report_type).distinct()
                                  .join(SyncRun).where(SyncRun.seller_id == seller_id, SyncReport.source == "sp",
                                                       SyncReport.status == ReportStatus.INGESTED)).all())


def sp_working(seller: Seller) -> bool:
    sp = seller.connection("sp")
    return bool(sp and sp.connected and sp.revoked_at is None)


def sp_marketplaces(seller: Seller) -> list[str]:
    """The Seller Central marketplaces to pull SP-API data for: those of the seller's managed seller profiles,
    else (a seller without Ads) the seller's marketplaces in its region."""
    profiles = managed_profiles(seller)
    if profiles:
        return sorted({p.marketplace_id for p in profiles if p.account_type == "seller" and p.marketplace_id})
    known = []
    for market in seller.marketplaces or []:
        try:
            if hosts.marketplace(market).region == seller.region:
                known.append(market)
        except KeyError:  # a marketplace Amazon added after this release: not ours to ask for
            continue
    return sorted(known)


def start_run(seller_id: int, kind: str = "manual", *, days: int | None = None,
              requested_by_id: int | None = None) -> tuple[SyncRun, bool]:
    """Plan and enqueue a run, or return the seller's running one: (run, started_now).

    `days` overrides the window; otherwise each profile gets the trailing `plan.NIGHTLY_DAYS`, or the back-fill
    window (`plan.BACKFILL_DAYS`) if it has never been synced, whatever the kind. A seller with only a Seller
    Central connection gets its SP-API data alone (over the same windows, per marketplace).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown run kind {kind!r}")
    if days is not None and not 1 <= days <= plan.BACKFILL_DAYS:
        raise SyncRefused(f"days must be between 1 and {plan.BACKFILL_DAYS} (Amazon keeps 95 days of reports)")
    # The seller row lock serialises two "Sync now" clicks (PostgreSQL; SQLite writers are serial anyway).
    seller = db.session.scalar(select(Seller).where(Seller.id == seller_id).with_for_update())
    if seller is None:
        raise SyncRefused(f"there is no seller {seller_id}")
    _expire_stale(seller_id)
    running = active_run(seller_id)
    if running is not None:
        db.session.commit()
        return running, False
    profiles = managed_profiles(seller)
    sales_traffic = sp_working(seller)
    sp_only = [] if profiles or not sales_traffic else sp_marketplaces(seller)
    if not profiles and not sp_only:
        db.session.commit()
        raise SyncRefused(f"{seller.name} has no managed Amazon Ads profile on a working connection, nor a working "
                          "Seller Central connection with a marketplace, to sync")
    seen = _stored_sp(seller.id)
    if days is None:
        history = _synced_profiles([p.profile_id for p in profiles])
        days_for = lambda p: plan.NIGHTLY_DAYS if p.profile_id in history else plan.BACKFILL_DAYS  # noqa: E731
        sp_days = plan.NIGHTLY_DAYS if all((m, plan.SALES_TRAFFIC) in seen for m in sp_only) else plan.BACKFILL_DAYS
    else:
        days_for = lambda p: days  # noqa: E731
        sp_days = days
    planned = plan.plan(profiles, days_for, sales_traffic=sales_traffic, sp_markets=sp_only, sp_days=sp_days,
                        promotions_seen=seen)
    markets = {p.marketplace_id for p in planned if p.source == "sp"}
    planned += [s for s in _failed_slices(seller.id, {p.profile_id for p in profiles}, markets)
                if not _covered(s, planned)]
    ranged = [p for p in planned if p.report_type not in (plan.INVENTORY, *plan.PROMOTION_REPORTS)] or planned
    run = SyncRun(seller_id=seller.id, kind=kind, status=RunStatus.QUEUED, stage="queued",
                  requested_by_id=requested_by_id,
                  start_date=min(p.start for p in ranged), end_date=max(p.end for p in ranged), rows=0)
    run.reports = [SyncReport(source=p.source, report_type=p.report_type, profile_id=p.profile_id,
                              marketplace_id=p.marketplace_id, start_date=p.start, end_date=p.end,
                              status=ReportStatus.NEW, checks=0, rows=0) for p in planned]
    db.session.add(run)
    db.session.commit()
    steps.resume_run(run.id)
    return run, True


def start_backfill(seller_id: int) -> SyncRun | None:
    """After a first connect: pull the history Amazon still has. None when there is nothing to sync yet."""
    try:
        run, _ = start_run(seller_id, "backfill")
    except SyncRefused as exc:
        log.info("no back-fill for seller %s: %s", seller_id, exc)
        return None
    return run


def nightly() -> list[int]:
    """Periodic: start the nightly run of every seller with a working Ads or Seller Central connection; returns
    the run ids."""
    started = []
    for seller_id in db.session.scalars(select(Seller.id).order_by(Seller.id)).all():
        seller = db.session.get(Seller, seller_id)
        if not managed_profiles(seller) and not sp_working(seller):
            continue
        try:
            run, new = start_run(seller_id, "nightly")
        except SyncRefused as exc:
            log.info("no nightly sync for %s: %s", seller.name, exc)
            continue
        except Exception:  # one seller's trouble never keeps the others from their nightly run
            db.session.rollback()
            log.exception("the nightly sync of seller %s could not start", seller_id)
            continue
        if new:
            started.append(run.id)
    return started


def resume_all() -> int:
    """Periodic: re-enqueue the next step of every unfinished run whose job is gone; returns jobs enqueued."""
    ids = db.session.scalars(select(SyncRun.id).where(SyncRun.status.in_(ACTIVE_RUN))).all()
    enqueued = 0
    for run_id in ids:
        try:
            enqueued += steps.resume_run(run_id)
        except Exception:  # one run's trouble never keeps the others from resuming
            db.session.rollback()
            log.exception("sync run %s could not be resumed", run_id)
    return enqueued


def progress(run: SyncRun) -> dict:
    """What the seller page and `marketing sync` show while a run goes on."""
    counts = dict(db.session.execute(select(SyncReport.status, func.count()).where(SyncReport.run_id == run.id)
                                     .group_by(SyncReport.status)).all())
    total = sum(counts.values())
    done = sum(counts.get(status, 0) for status in ENDED_REPORT)
    stored, failed = counts.get(ReportStatus.INGESTED, 0), counts.get(ReportStatus.FAILED, 0)
    rows = run.rows if run.status not in ACTIVE_RUN else db.session.scalar(
        select(func.coalesce(func.sum(SyncReport.rows), 0)).where(SyncReport.run_id == run.id))
    end = run.finished_at or now()
    waiting_since = db.session.scalar(select(func.min(SyncReport.waiting_since)).where(
        SyncReport.run_id == run.id, SyncReport.status.not_in(ENDED_REPORT))) if run.status in ACTIVE_RUN else None
    error = run.error
    if run.status == RunStatus.PARTIAL:
        error = f"{stored} stored, {failed} failed: {run.error}"
    return {
        "id": run.id,
        "seller_id": run.seller_id,
        "kind": run.kind,
        "status": run.status,
        "stage": run.stage,
        "active": run.status in ACTIVE_RUN,
        "start_date": run.start_date.isoformat(),
        "end_date": run.end_date.isoformat(),
        "reports_total": total,
        "reports_done": done,
        "reports_waiting": counts.get(ReportStatus.REQUESTED, 0),
        "reports_pending": total - done,
        "reports_stored": stored,
        "reports_failed": failed,
        "rows": int(rows or 0),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": round((end - run.started_at).total_seconds(), 1) if run.started_at else None,
        "error": error,
        "notice": run.notice,
        "waiting": f"waiting for Amazon (throttled) since {waiting_since:%Y-%m-%d %H:%M} UTC"
                   if waiting_since else None,
    }
