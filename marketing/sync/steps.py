"""The steps of a sync run: short RQ jobs on the `sync` queue that take ids only and never wait on Amazon.

Per report: `request` → `check` (re-scheduled with capped backoff while Amazon works) → `download` (stream
the file into `ingest`, or the coupon and deal reports into `promotions`, in one transaction). Per profile:
`structure`; per Seller Central marketplace: `inventory` (FBA inventory summaries, one paged call). When the
last report is in, `finish` ends the run and enqueues `outcome.AFTER_SYNC`. What differs between Amazon's report
APIs lives in `sources`.

Idempotence: a step acts only if its report is still in the state that step expects and the run is still
active. Before enqueuing the next step a job bumps the report's persisted step counter (`SyncReport.checks`)
and commits; the next job's id carries it (`sync-check-<report id>-<n>`), so a job run twice finds nothing
to do, a duplicate enqueue collides on the id, and `resume_run` can tell whether a report's next job still
exists. A running step holds a lease (a Redis key with a short TTL, renewed by a thread), so a step whose
worker was killed counts as gone within `LEASE_SECONDS`, not when RQ's heartbeat for it (its whole job timeout)
runs out. Throttled/AmazonUnavailable re-schedule the same step after Retry-After (or capped exponential backoff with
jitter) instead of sleeping, until the report's horizon (`SYNC_REPORT_HORIZON_SECONDS` after the run was
created). Whatever stops one report (Amazon's FAILED, the horizon, a 4xx on its type, a file we cannot store)
fails that report only (`outcome.give_up`); a refused token fails the reports still to come through it. When
no report is under way, `finish` concludes the run: succeeded, partial or failed.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import redis
from flask import current_app
from rq import Retry, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import now as rq_now
from sqlalchemy import func, select

from marketing import jobs
from marketing.amazon import errors, hosts
from marketing.amazon.transport import Limit, RedisRateLimiter, RetryPolicy, Transport
from marketing.clock import now
from marketing.connections import alerts, clients
from marketing.extensions import db
from marketing.models import API_LABELS, AdsProfile, Connection, Seller, SyncReport, SyncRun
from marketing.models.sync import ACTIVE_RUN, ENDED_REPORT, ReportStatus, RunStatus
from marketing.sync import ingest, outcome, promotions, sources
from marketing.sync import inventory as stock
from marketing.sync.plan import DIRECT, INVENTORY, PROMOTION_REPORTS, STRUCTURE
from marketing.sync.structure import sync_profile

log = logging.getLogger("marketing.sync")

STEP_OF_STATUS = {ReportStatus.NEW: "request", ReportStatus.REQUESTED: "check", ReportStatus.READY: "download"}
JOB_TIMEOUT = {"structure": 900, "inventory": 300, "request": 120, "check": 120, "download": 1800, "finish": 120}
# RQ retries only crashes (a killed worker's abandoned job, a database hiccup); Amazon's answers are handled here.
CRASH_RETRY = Retry(max=2, interval=[10, 60])
LEASE_SECONDS = 15  # a running step renews its lease every third of this
# The sync's tunables (Flask config keys) and their values when the config does not set them.
SETTING_DEFAULTS = {
    "SYNC_POLL_SECONDS": 15.0,  # first status check after a request; then x1.5 per check
    "SYNC_POLL_CAP_SECONDS": 300.0,
    # How long after its run was created a report may keep waiting on Amazon (throttled, unavailable or still
    # PENDING) before it fails alone; Amazon: reports "can take up to three hours", 429 streaks last hours.
    "SYNC_REPORT_HORIZON_SECONDS": 12 * 3600.0,
    "SYNC_RETRY_SECONDS": 10.0,  # backoff base when Amazon throttles or fails without Retry-After
    "SYNC_RETRY_CAP_SECONDS": 900.0,
    "SYNC_CALL_WAIT_SECONDS": 5.0,  # how long one call may wait in-process before the job re-schedules
    "SYNC_RATE_PER_SECOND": 5.0,  # Ads, per client id + profile, shared by every worker (Redis)
    "SYNC_RATE_BURST": 10,
}
_limiter: RedisRateLimiter | None = None
_http: httpx.Client | None = None
# Built once per process at import (~0.2 s): the worker preloads this module.
_TLS = httpx.create_ssl_context()


def setting(name: str):
    return current_app.config.get(name, SETTING_DEFAULTS[name])


# -- scheduling -----------------------------------------------------------------------------------------

def step_of(report: SyncReport) -> str | None:
    if report.report_type in DIRECT:  # its step is named after it
        return ("structure" if report.report_type == STRUCTURE else "inventory") \
            if report.status == ReportStatus.NEW else None
    return STEP_OF_STATUS.get(report.status)


def job_id(step: str, report: SyncReport) -> str:
    return f"sync-{step}-{report.id}-{report.checks}"


def _enqueue(job_id: str, step: str, *args, delay: float = 0.0) -> None:
    options = dict(job_id=job_id, unique=True, job_timeout=JOB_TIMEOUT[step], retry=CRASH_RETRY,
                   result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600)
    queue = jobs.queue("sync")
    try:
        if delay > 0:
            queue.enqueue_in(dt.timedelta(seconds=delay), f"{__name__}.{step}", *args, **options)
        else:
            queue.enqueue(f"{__name__}.{step}", *args, **options)
    except DuplicateJobError:
        pass  # already enqueued under this id: enqueuing twice changes nothing


def schedule(report: SyncReport, step: str, *, delay: float = 0.0, attempt: int = 0) -> None:
    """Bump the report's step counter, commit, then enqueue `step` under an id carrying the counter."""
    report.checks += 1
    db.session.commit()
    _enqueue(job_id(step, report), step, report.id, attempt, delay=delay)


def _lease_key(job_id: str) -> str:
    return f"marketing:sync:lease:{job_id}"


def leased(step: Callable[..., None]) -> Callable[..., None]:
    """Run the step under a lease on its job id while it runs as an RQ job.

    RQ cannot tell a step that runs long from one whose worker was SIGKILLed: both stay STARTED until the job's
    heartbeat TTL (its timeout + 60 s) runs out. The lease is that signal in seconds; a thread renews it, so a
    step busy in one long call (a slow download, a COPY) keeps it."""

    @functools.wraps(step)
    def run(*args, **kwargs) -> None:
        job = get_current_job()
        if job is None:
            return step(*args, **kwargs)
        conn, key, stop = jobs.connection(), _lease_key(job.id), threading.Event()
        conn.set(key, job.worker_name or "", px=int(LEASE_SECONDS * 1000))

        def renew() -> None:
            while not stop.wait(LEASE_SECONDS / 3):
                try:
                    conn.set(key, job.worker_name or "", px=int(LEASE_SECONDS * 1000))
                except redis.RedisError:
                    log.warning("could not renew the lease of %s", job.id)

        renewer = threading.Thread(target=renew, name=f"lease-{job.id}", daemon=True)
        renewer.start()
        try:
            return step(*args, **kwargs)
        finally:
            stop.set()
            renewer.join()
            conn.delete(key)

    return run


def alive(job_id: str) -> bool:
    """Whether the job will still run. A finished one that left its report where it was counts as gone, and so
    does a started one that has held no lease for `LEASE_SECONDS` (its worker died)."""
    conn = jobs.connection()
    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        return False
    status = job.get_status()
    if status == JobStatus.STARTED:
        just_started = job.started_at is not None and (rq_now() - job.started_at).total_seconds() < LEASE_SECONDS
        return just_started or bool(conn.exists(_lease_key(job_id)))
    return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def resume_run(run_id: int) -> int:
    """Enqueue the next step of every report of the run whose job does not exist; returns how many."""
    run = db.session.get(SyncRun, run_id)
    if run is None or run.status not in ACTIVE_RUN:
        return 0
    due = [(report, step) for report in run.reports
           if (step := step_of(report)) is not None and not alive(job_id(step, report))]
    for report, _ in due:  # one commit for the lot, then the jobs (as `schedule` does for one)
        report.checks += 1
    db.session.commit()
    for report, step in due:
        _enqueue(job_id(step, report), step, report.id, 0)
    enqueued = len(due)
    if all(r.status in ENDED_REPORT for r in run.reports) and not alive(f"sync-finish-{run.id}"):
        _enqueue(f"sync-finish-{run.id}", "finish", run.id)
        enqueued += 1
    return enqueued


def _poll_delay(report: SyncReport) -> float:
    return min(setting("SYNC_POLL_CAP_SECONDS"), setting("SYNC_POLL_SECONDS") * 1.5 ** max(0, report.checks - 2))


def _retry_delay(exc: errors.AmazonError, attempt: int) -> float:
    """At least Amazon's Retry-After; else exponential backoff with jitter, capped."""
    backoff = min(setting("SYNC_RETRY_CAP_SECONDS"), setting("SYNC_RETRY_SECONDS") * 2 ** min(attempt, 30))
    return max(exc.retry_after or 0.0, backoff * (0.5 + random.random() / 2))


def horizon(report: SyncReport) -> dt.datetime:
    """Until when the report may wait on Amazon; past it, the report fails alone."""
    return report.run.created_at + dt.timedelta(seconds=setting("SYNC_REPORT_HORIZON_SECONDS"))


def _hours(seconds: float) -> str:
    """A duration in words: "12 hours", "5 minutes", "2 seconds"."""
    for unit, size in (("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} seconds"


# -- Amazon clients ---------------------------------------------------------------------------------------

def transport() -> Transport:
    """One HTTP connection pool and one per-profile rate limiter per worker process (sync steps run in the
    worker process: `jobs.worker.IN_PROCESS_QUEUES`); a call waits at most SYNC_CALL_WAIT_SECONDS in-process,
    then the job re-schedules."""
    global _limiter, _http
    if _limiter is None:
        limit = Limit(setting("SYNC_RATE_PER_SECOND"), int(setting("SYNC_RATE_BURST")))
        _limiter = RedisRateLimiter(jobs.connection(), limit)
    if _http is None:
        _http = httpx.Client(timeout=clients.TIMEOUT, follow_redirects=False, verify=_TLS)
    return Transport(_http, policy=RetryPolicy(max_total_wait=setting("SYNC_CALL_WAIT_SECONDS")), limiter=_limiter)


def forget_connections() -> None:
    """In a forked child: drop the parent's HTTP pool (its sockets are the parent's) and rate limiter."""
    global _limiter, _http
    _limiter = _http = None


class _Stop(Exception):
    """The reports still to come through this connection cannot go on; the message says why."""


def _connection(report: SyncReport) -> Connection:
    seller = db.session.get(Seller, report.run.seller_id)
    connection = seller.connection(report.source)
    label = API_LABELS[report.source]
    if connection is None or not connection.connected:
        raise _Stop(f"{label} was disconnected during the sync.")
    if connection.revoked_at is not None:
        raise _Stop(f"The {label} authorization was revoked; reconnect {seller.name} to sync again.")
    return connection


def _profile(report: SyncReport) -> AdsProfile:
    return db.session.scalar(select(AdsProfile).join(Connection).where(
        Connection.seller_id == report.run.seller_id, Connection.api == "ads",
        AdsProfile.profile_id == report.profile_id))


# -- the steps --------------------------------------------------------------------------------------------

def _label(report: SyncReport) -> str:
    where = sources.for_report(report).where(report)
    if report.report_type == STRUCTURE:
        return f"the campaign structure of {where}"
    if report.report_type == INVENTORY:
        return f"the FBA inventory of {where}"
    return f"the {report.report_type} report for {where}, {report.start_date} to {report.end_date}"


def _explain(report: SyncReport, exc: errors.AmazonError) -> str:
    what = _label(report)
    if isinstance(exc, errors.InvalidGrant):
        return (f"Amazon refused the {API_LABELS[report.source]} authorization (invalid_grant): it was revoked "
                "or has expired. Reconnect the seller to sync again.")
    if isinstance(exc, errors.InvalidClient):
        return alerts.invalid_client(report.source)
    if isinstance(exc, errors.ReportFailed):
        return f"Amazon could not generate {what}: {exc.message}"
    if isinstance(exc, errors.MalformedResponse):
        return f"Amazon sent an unreadable answer for {what} ({exc.message}); nothing from it was stored."
    if isinstance(exc, errors.Throttled | errors.AmazonUnavailable):
        waited = _hours(setting("SYNC_REPORT_HORIZON_SECONDS"))
        return f"Amazon kept refusing {what} ({exc.message}) for {waited}; the next run asks again."
    return f"Amazon refused {what}: {exc}"


def _begin(report_id: int, step: str) -> SyncReport | None:
    """The report, if this step is still due for it and its run is still active.

    The row stays locked until the step commits, so two deliveries of a step (or a step and a resume) run one
    after the other and the second finds the report moved on."""
    report = db.session.get(SyncReport, report_id, with_for_update=True)
    if report is None or report.run.status not in ACTIVE_RUN or step_of(report) != step:
        return None
    run = report.run
    if run.status == RunStatus.QUEUED:
        run.status, run.stage, run.started_at = RunStatus.RUNNING, "syncing", now()
    return report


# Amazon's answers that say nothing through this connection will work until someone acts.
_CONNECTION_REFUSED = (errors.InvalidGrant, errors.InvalidClient)


@contextmanager
def _handled(report: SyncReport, step: str, attempt: int) -> Iterator[None]:
    """Turn what Amazon answered into the report's state; half-done writes are rolled back first."""
    report_id = report.id
    try:
        yield
    except _Stop as exc:
        db.session.rollback()
        _give_up_source(db.session.get(SyncReport, report_id), str(exc))
    except ingest.IngestError as exc:
        db.session.rollback()
        report = db.session.get(SyncReport, report_id)
        _give_up(report, f"Amazon's file for {_label(report)} has a row we cannot store ({exc}); nothing from "
                         "it was stored, the data stored before stays, and the next run asks again.")
    except errors.AmazonError as exc:
        db.session.rollback()
        report = db.session.get(SyncReport, report_id)
        waiting = isinstance(exc, errors.Throttled | errors.AmazonUnavailable)
        if waiting or isinstance(exc, _CONNECTION_REFUSED):
            _record(report, exc)  # the observer's note was rolled back with the rest
        if waiting:
            delay = _retry_delay(exc, attempt)
            if now() + dt.timedelta(seconds=delay) < horizon(report):
                log.info("%s: %s; again in %.0fs", job_id(step, report), exc, delay)
                report.waiting_since = report.waiting_since or now()
                schedule(report, step, delay=delay, attempt=attempt + 1)
                return
        if isinstance(exc, _CONNECTION_REFUSED):
            _give_up_source(report, _explain(report, exc))
        elif (notice := sources.for_report(report).refusal(report, exc)) is not None:
            _give_up(report, notice, ReportStatus.REFUSED)
        else:
            _give_up(report, _explain(report, exc))
    except Exception as exc:
        db.session.rollback()
        job = get_current_job()
        if job is None or not job.retries_left:
            _give_up(db.session.get(SyncReport, report_id),
                     f"Internal error during {step}: {type(exc).__name__}: {exc}")
        raise


def _give_up(report: SyncReport, message: str, status: ReportStatus = ReportStatus.FAILED) -> None:
    """Fail this report only (committed); the run ends once none is under way."""
    outcome.give_up(report, message, status)
    db.session.commit()
    _finish_if_ended(report.run_id)


def _give_up_source(report: SyncReport, message: str) -> None:
    """Fail every report of the run still to come through this report's connection (committed)."""
    for other in report.run.reports:
        if other.source == report.source:
            outcome.give_up(other, message)
    db.session.commit()
    _finish_if_ended(report.run_id)


def _finish_if_ended(run_id: int) -> None:
    left = db.session.scalar(select(func.count()).where(SyncReport.run_id == run_id,
                                                        SyncReport.status.not_in(ENDED_REPORT)))
    if left == 0:  # every report is committed before this count, so the last one to end sees 0
        _enqueue(f"sync-finish-{run_id}", "finish", run_id)


def _record(report: SyncReport, exc: errors.AmazonError) -> None:
    seller = db.session.get(Seller, report.run.seller_id)
    connection = seller.connection(report.source)
    if connection is not None:
        clients.record_error(connection, exc)


def report_step(body: Callable[[SyncReport, Connection], None]) -> Callable[..., None]:
    """One step of a report as an RQ job (`leased`), named by the function: nothing when the step is no longer
    due (`_begin`); otherwise ``body(report, connection)`` with Amazon's and our errors handled (`_handled`)."""
    name = body.__name__

    @leased
    @functools.wraps(body)
    def run(report_id: int, attempt: int = 0) -> None:
        report = _begin(report_id, name)
        if report is None:
            return
        with _handled(report, name, attempt):
            body(report, _connection(report))

    return run


def _done(report: SyncReport, rows: int) -> None:
    report.status, report.rows, report.finished_at = ReportStatus.INGESTED, rows, now()
    report.waiting_since = None
    db.session.commit()
    _finish_if_ended(report.run_id)


@report_step
def structure(report: SyncReport, connection: Connection) -> None:
    """List and upsert one profile's campaigns, ad groups, keywords, targets and product ads."""
    seen = sync_profile(db.session, sources.ads.client(transport(), connection),
                        profile_id=report.profile_id, seller_id=report.run.seller_id)
    _done(report, seen)


def _report_name(report: SyncReport) -> str:
    """Stable for one report, so a request re-sent after a crash is Amazon's duplicate (425 names the first);
    the run's start time keeps it unique where ids restart (a restored database)."""
    return f"sync-{report.run_id}-{report.id}-{report.run.created_at:%Y%m%dT%H%M%S}"


@report_step
def request(report: SyncReport, connection: Connection) -> None:
    """Ask Amazon for the report; a 425 duplicate answer hands back the id of the one already in progress."""
    report.amazon_report_id = sources.for_report(report).create(transport(), connection, report,
                                                                _report_name(report))
    report.status, report.requested_at, report.waiting_since = ReportStatus.REQUESTED, now(), None
    schedule(report, "check", delay=setting("SYNC_POLL_SECONDS"))


@report_step
def check(report: SyncReport, connection: Connection) -> None:
    """One look at the report's status: ready → download; still working → look again later, until the horizon."""
    status = sources.for_report(report).status(transport(), connection, report)
    report.waiting_since = None
    if status.empty:
        _done(report, 0)
    elif status.ready:
        report.status = ReportStatus.READY
        schedule(report, "download")
    elif now() >= horizon(report):
        waited = _hours((now() - report.requested_at).total_seconds())
        _give_up(report, f"Amazon had not finished {_label(report)} after {waited} (still {status.state}); "
                         "the next run asks again.")
    else:
        remaining = (horizon(report) - now()).total_seconds()
        schedule(report, "check", delay=min(_poll_delay(report), max(remaining, 0.0)))


@report_step
def download(report: SyncReport, connection: Connection) -> None:
    """Stream the finished file into `ingest`, which replaces the report's window in one transaction."""
    rows = sources.for_report(report).rows(transport(), connection, report)
    if report.report_type in PROMOTION_REPORTS:
        stored = promotions.ingest_promotions(
            db.session, report.report_type, rows, seller_id=report.run.seller_id,
            marketplace_id=report.marketplace_id, start=report.start_date, end=report.end_date,
            currency=_currency(report))
        report.error = stored.notice  # stored, with a notice of what was skipped (`outcome.conclude`)
        _done(report, stored.rows)
        return
    if report.source == "sp":
        count = ingest.ingest_report(
            db.session, report.report_type, rows, seller_id=report.run.seller_id,
            marketplace_id=report.marketplace_id, start=report.start_date, end=report.end_date,
            currency=_currency(report))
    else:
        profile = _profile(report)
        count = ingest.ingest_report(
            db.session, report.report_type, rows, profile_id=report.profile_id, start=report.start_date,
            end=report.end_date, currency=profile.currency_code,
            attribution_days=ingest.ATTRIBUTION_DAYS[profile.account_type])
    _done(report, count)


def _currency(report: SyncReport) -> str:
    """An SP-API report's currency: its Ads profile's, else (a seller without Ads) its marketplace's."""
    profile = _profile(report) if report.profile_id is not None else None
    return profile.currency_code if profile is not None else hosts.marketplace(report.marketplace_id).currency


@report_step
def inventory(report: SyncReport, connection: Connection) -> None:
    """Store today's FBA inventory summaries of the report's marketplace (`sync.inventory`)."""
    summaries = sources.sp.client(transport(), connection).iter_inventory_summaries(report.marketplace_id)
    count = stock.ingest_inventory(db.session, summaries, seller_id=report.run.seller_id,
                                   marketplace_id=report.marketplace_id, day=report.end_date)
    _done(report, count)


@leased
def finish(run_id: int) -> None:
    """End a run none of whose reports is under way, then enqueue what depends on fresh data."""
    run = db.session.get(SyncRun, run_id)
    if run is None or run.status not in ACTIVE_RUN or any(r.status not in ENDED_REPORT for r in run.reports):
        return
    outcome.conclude(run)
