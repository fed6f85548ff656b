"""The by-ASIN sales history: Sales & Traffic by child ASIN, one report per day, then per week.

Amazon sums a report's by-ASIN figures over its whole range, so a daily history needs one report per day:
for the last `HISTORY_DAILY_DAYS` days (newest first) → `sales_traffic_asin_daily`, then one report per Sun–Sat
week back `HISTORY_BACK_DAYS` days → `sales_traffic_asin_weekly` (baselines). createReport and
getReportDocument allow a burst of 15 and then one a minute per selling partner and app, so this is its own
job, outside any sync run's lock: a chain of short RQ jobs per seller (`history-<seller>-<chain>-<n>`), one
chain at a time (a Redis key names its current job). Each job checks the reports in flight, stores those
Amazon finished, asks for the next missing ones (at most `HISTORY_IN_FLIGHT` at once), and enqueues its
successor — later when Amazon is busy (throttled, or reports still being made), never sleeping in a worker.

`history_pulls` rows make it resumable and idempotent: a day or week with a `done` (or `empty`: Amazon had no
data) pull is never asked for again, so the nightly chain (`queue_all`, and after every sync) pulls only the
days still missing. A chain that stored days queues `outcome.AFTER_HISTORY` (plans' outcomes, suggestions).
A pull that failed, or that Amazon refused (a 403: the role is missing, shown on the seller page), is asked
for again by the next chain, not by the one that saw it fail.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator

import redis
from flask import current_app
from rq.exceptions import DuplicateJobError
from sqlalchemy import select

from marketing import jobs
from marketing.amazon import errors, hosts
from marketing.clock import now, today
from marketing.connections import clients
from marketing.extensions import db
from marketing.models import Connection, HistoryPull, Seller
from marketing.sync import ingest, outcome, runs, sources, steps
from marketing.sync.plan import SALES_TRAFFIC

log = logging.getLogger("marketing.sync")

SETTING_DEFAULTS = {
    "HISTORY_DAILY_DAYS": 93,  # Amazon keeps 95 days of by-day Sales & Traffic at this detail; two days' margin
    "HISTORY_BACK_DAYS": 365,  # weekly reports back this far, for baselines
    "HISTORY_IN_FLIGHT": 5,  # reports requested and not yet stored, per marketplace
    "HISTORY_POLL_SECONDS": 30.0,  # the next look while reports are in flight
    "HISTORY_STEP_SECONDS": 60.0,  # one job's share of a worker; then its successor goes on
}
JOB_TIMEOUT = 300
CHAIN_KEY = "marketing:history:chain:{}"
DONE = ("done", "empty")
# Amazon's answers that end the step for every report: wait (the chain goes on later) or stop (the token).
_WAIT_OR_STOP = (errors.Throttled, errors.AmazonUnavailable, errors.InvalidGrant, errors.InvalidClient)
RETRIED = ("failed", "refused")  # asked for again by the next chain


def setting(name: str):
    return current_app.config.get(name, SETTING_DEFAULTS[name])


def _poll_seconds() -> float:
    """The next look at reports in flight, in real seconds: HISTORY_POLL_SECONDS are Amazon's, whose clock runs
    `AMAZON_TIME_SCALE` times ours (a sandbox with a faster clock, as in the demo)."""
    return float(setting("HISTORY_POLL_SECONDS")) / float(current_app.config.get("AMAZON_TIME_SCALE", 1.0))


# -- what to pull ----------------------------------------------------------------------------------------

def daily_range(day: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days of the daily history: the last `HISTORY_DAILY_DAYS` complete days."""
    end = (day or today()) - dt.timedelta(days=1)
    return end - dt.timedelta(days=int(setting("HISTORY_DAILY_DAYS")) - 1), end


def wanted(day: dt.date | None = None) -> Iterator[tuple[dt.date, int]]:
    """(start, days) of every report of the history, in the order they are asked for: each day of the daily
    range newest first, then each whole Sun–Sat week before it, newest first, back `HISTORY_BACK_DAYS`."""
    day = day or today()
    first, last = daily_range(day)
    current = last
    while current >= first:
        yield current, 1
        current -= dt.timedelta(days=1)
    before = first - dt.timedelta(days=1)
    saturday = before - dt.timedelta(days=(before.weekday() - 5) % 7)
    sunday = saturday - dt.timedelta(days=6)
    oldest = day - dt.timedelta(days=int(setting("HISTORY_BACK_DAYS")))
    while sunday >= oldest:
        yield sunday, 7
        sunday -= dt.timedelta(days=7)


# -- the job chain ---------------------------------------------------------------------------------------

def _key(seller_id: int) -> str:
    return CHAIN_KEY.format(seller_id)


def _job_id(seller_id: int, chain: str, n: int) -> str:
    return f"history-{seller_id}-{chain}-{n}"


def _enqueue(seller_id: int, chain: str, n: int, since: str, delay: float = 0.0) -> None:
    job_id = _job_id(seller_id, chain, n)
    jobs.connection().set(_key(seller_id), job_id)
    options = dict(job_id=job_id, unique=True, job_timeout=JOB_TIMEOUT, retry=steps.CRASH_RETRY,
                   result_ttl=3600, failure_ttl=7 * 24 * 3600)
    queue = jobs.queue("sync")
    try:
        if delay > 0:
            queue.enqueue_in(dt.timedelta(seconds=delay), pull, seller_id, chain, n, since, **options)
        else:
            queue.enqueue(pull, seller_id, chain, n, since, **options)
    except DuplicateJobError:
        pass


_END_CHAIN = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _end_chain(seller_id: int, job_id: str) -> None:
    """Forget the chain, unless a newer one already took its place."""
    jobs.connection().eval(_END_CHAIN, 1, _key(seller_id), job_id)


def queue(seller_id: int) -> str:
    """Start the seller's history chain unless one is under way; returns the id of its current job."""
    current = jobs.connection().get(_key(seller_id))
    if current is not None and steps.alive(current.decode()):
        return current.decode()
    chain = now().strftime("%Y%m%d%H%M%S%f")
    _enqueue(seller_id, chain, 0, now().isoformat())
    return _job_id(seller_id, chain, 0)


def queue_all() -> int:
    """Periodic (nightly): the history chain of every seller with a working Seller Central connection."""
    started = 0
    for seller in db.session.scalars(select(Seller).order_by(Seller.id)).all():
        if runs.sp_working(seller) and runs.sp_marketplaces(seller):
            try:
                queue(seller.id)
                started += 1
            except redis.RedisError:
                log.exception("could not queue the sales history of seller %s", seller.id)
    return started


def after_sync(seller_id: int, run_id: int) -> None:
    """After a sync that stored data: pull the days of the history still missing."""
    seller = db.session.get(Seller, seller_id)
    if seller is not None and runs.sp_working(seller):
        queue(seller_id)


@steps.leased
def pull(seller_id: int, chain: str, n: int, since: str) -> None:
    """One step of the seller's history chain (see the module's docstring)."""
    me = _job_id(seller_id, chain, n)
    current = jobs.connection().get(_key(seller_id))
    if current is None or current.decode() != me:
        return  # a newer chain took over
    seller = db.session.get(Seller, seller_id)
    if seller is None or not runs.sp_working(seller):
        _end_chain(seller_id, me)
        return
    connection = seller.connection("sp")
    started = dt.datetime.fromisoformat(since)
    deadline = time.monotonic() + float(setting("HISTORY_STEP_SECONDS"))
    delay: float | None = None
    try:
        for market in runs.sp_marketplaces(seller):
            wait = _market(seller_id, connection, market, started, deadline)
            if wait is not None:
                delay = wait if delay is None else min(delay, wait)
    except (errors.Throttled, errors.AmazonUnavailable) as exc:  # never wait in the worker: come back later
        db.session.rollback()
        delay = max(exc.retry_after or 0.0, _poll_seconds())
        log.info("sales history of seller %s: %s; again in %.0fs", seller_id, exc, delay)
    except (errors.InvalidGrant, errors.InvalidClient) as exc:
        db.session.rollback()
        clients.record_error(seller.connection("sp"), exc)
        db.session.commit()
        _end_chain(seller_id, me)
        return
    if delay is None:
        _end_chain(seller_id, me)
        if db.session.scalar(select(HistoryPull.seller_id).where(
                HistoryPull.seller_id == seller_id, HistoryPull.status == "done",
                HistoryPull.updated_at >= started).limit(1)) is not None:
            outcome.enqueue_after_history(seller_id, chain)
        return
    _enqueue(seller_id, chain, n + 1, since, delay)


def _record(seller_id: int, market: str, start: dt.date, days: int, status: str, *,
            report_id: str | None = None, error: str | None = None) -> None:
    row = db.session.get(HistoryPull, (seller_id, market, start, days))
    if row is None:
        row = HistoryPull(seller_id=seller_id, marketplace_id=market, start_date=start, days=days)
        db.session.add(row)
    row.status, row.error = status, error
    if report_id is not None:
        row.amazon_report_id = report_id
    row.updated_at = now()
    db.session.commit()


def _market(seller_id: int, connection: Connection, market: str, since: dt.datetime, deadline: float
            ) -> float | None:
    """Work one marketplace's history; returns when to look again (0: at once), or None when nothing is left."""
    client = sources.sp.client(steps.transport(), connection)
    pulls = {(p.start_date, p.days): p for p in db.session.scalars(select(HistoryPull).where(
        HistoryPull.seller_id == seller_id, HistoryPull.marketplace_id == market))}
    horizon = dt.timedelta(seconds=float(steps.setting("SYNC_REPORT_HORIZON_SECONDS")))
    in_flight = 0
    for (start, days), row in sorted(pulls.items(), reverse=True):
        if row.status != "requested":
            continue
        if time.monotonic() > deadline:
            return 0.0
        try:
            report = client.get_report(row.amazon_report_id)
            if report.status == "DONE":
                _store(seller_id, client, market, start, days, report.document_id)
                continue
        except _WAIT_OR_STOP:
            raise
        except errors.AmazonError as exc:  # the report is gone (kept 90 days), its document too, …: ask again
            db.session.rollback()
            _record(seller_id, market, start, days, "failed", error=str(exc)[:2000])
            continue
        if report.status in ("CANCELLED", "FATAL"):
            _record(seller_id, market, start, days, "empty" if report.status == "CANCELLED" else "failed",
                    error=None if report.status == "CANCELLED" else "Amazon ended the report as FATAL")
        elif now() - row.updated_at > horizon:
            _record(seller_id, market, start, days, "failed", error=f"Amazon had not made it (still {report.status})")
        else:
            in_flight += 1
    refused = [p for p in pulls.values() if p.status == "refused" and p.updated_at >= since]
    missing = [(start, days) for start, days in wanted()
               if (row := pulls.get((start, days))) is None
               or (row.status in RETRIED and row.updated_at < since)] if not refused else []
    for start, days in missing:
        if in_flight >= int(setting("HISTORY_IN_FLIGHT")):
            return _poll_seconds()
        if time.monotonic() > deadline:
            return 0.0
        end = start + dt.timedelta(days=days - 1)
        try:
            report_id = client.create_report(SALES_TRAFFIC, [market], start, end, options={
                "dateGranularity": "DAY" if days == 1 else "WEEK", "asinGranularity": "CHILD"})
        except (errors.Throttled, errors.AmazonUnavailable) as exc:
            if not in_flight:
                raise
            log.info("sales history of seller %s in %s: %s; the reports in flight go on", seller_id, market, exc)
            break  # the reports in flight still come in meanwhile
        except _WAIT_OR_STOP:
            raise
        except errors.AmazonError as exc:
            notice = sources.sp.refusal_notice(SALES_TRAFFIC, f"marketplace {market}", exc)
            _record(seller_id, market, start, days, "refused" if notice else "failed", error=notice or str(exc))
            if notice:
                break
            continue
        _record(seller_id, market, start, days, "requested", report_id=report_id)
        in_flight += 1
    return _poll_seconds() if in_flight else None


def _store(seller_id: int, client, market: str, start: dt.date, days: int, document_id: str | None) -> None:
    """Download a finished report into the daily or weekly table (one transaction with its pull's status)."""
    if not document_id:
        _record(seller_id, market, start, days, "failed", error="Amazon's finished report has no document")
        return
    document = client.get_report_document(document_id)
    items = client.iter_document_items(document.url, document.compression, ingest.SALES_TRAFFIC_PREFIXES)
    try:
        ingest.ingest_report(db.session, SALES_TRAFFIC, items, seller_id=seller_id, marketplace_id=market,
                             start=start, end=start + dt.timedelta(days=days - 1),
                             currency=hosts.marketplace(market).currency, asin_only=True, weekly=days == 7)
    except (ingest.IngestError, errors.MalformedResponse) as exc:
        db.session.rollback()
        _record(seller_id, market, start, days, "failed", error=f"Amazon's file cannot be stored: {exc}")
        return
    _record(seller_id, market, start, days, "done")


# -- progress ----------------------------------------------------------------------------------------------

def progress(seller: Seller) -> str | None:
    """The seller page's line, e.g. "Sales history: 61 of 93 days, weekly back to 2025-12-07"; None when the
    seller has no Seller Central history to pull."""
    markets = runs.sp_marketplaces(seller) if runs.sp_working(seller) else []
    pulls = db.session.scalars(select(HistoryPull).where(HistoryPull.seller_id == seller.id)).all()
    if not markets and not pulls:
        return None
    first, last = daily_range()
    parts, notices = [], []
    for market in markets or sorted({p.marketplace_id for p in pulls}):
        mine = [p for p in pulls if p.marketplace_id == market]
        days = sum(1 for p in mine if p.days == 1 and p.status in DONE and first <= p.start_date <= last)
        weeks = [p.start_date for p in mine if p.days == 7 and p.status in DONE]
        text = f"{days} of {int(setting('HISTORY_DAILY_DAYS'))} days"
        if weeks:
            text += f", weekly back to {min(weeks).isoformat()}"
        if len(markets) > 1:
            text = f"{_country(market)}: {text}"
        parts.append(text)
        notices += [p.error for p in mine if p.status == "refused" and p.error]
    line = "Sales history: " + "; ".join(parts)
    return f"{line}. {notices[0]}" if notices else line


def _country(market: str) -> str:
    try:
        return hosts.marketplace(market).country_code
    except KeyError:
        return market
