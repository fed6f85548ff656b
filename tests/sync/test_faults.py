"""Faults injected by the sandbox: every run ends with a clear status and message, never with duplicated or
half-written rows, and a later run completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from rq import get_current_job
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from marketing import jobs as rq_jobs
from marketing.clock import set_today
from marketing.extensions import db
from marketing.models import (
    Connection,
    SalesTrafficAsinDaily,
    SalesTrafficDaily,
    Seller,
    SpCampaignDaily,
    SpProductDaily,
    SpSearchTermDaily,
    SpTargetDaily,
    SyncReport,
    SyncRun,
)
from marketing.models.sync import ACTIVE_RUN
from marketing.sandbox.testing import running_sandbox
from marketing.sync import plan, runs, steps
from tests.conftest import _clean, sandbox_config
from tests.foundation.helpers import ROOT, app_env
from tests.sync.conftest import (
    SYNC_CONFIG,
    connect,
    drain,
    money,
    sandbox_rows,
    sync,
    work,
)

FACTS = (SpCampaignDaily, SpTargetDaily, SpSearchTermDaily, SpProductDaily, SalesTrafficDaily, SalesTrafficAsinDaily)
# Reports whose rows are not fact rows of their window: structure, and the promotions and inventory (tested in
# test_promotions_sync).
NOT_FACTS = ("structure", plan.INVENTORY, *plan.PROMOTION_REPORTS)


def stored_rows() -> int:
    return sum(db.session.scalar(select(func.count()).select_from(m)) for m in FACTS)


def assert_whole(seller_id: int) -> None:
    """Fact tables hold exactly the rows of ingested reports, and match the sandbox to the cent."""
    db.session.expire_all()
    ingested = db.session.scalar(select(func.coalesce(func.sum(SyncReport.rows), 0)).join(SyncRun).where(
        SyncRun.status == "succeeded", SyncReport.report_type.not_in(NOT_FACTS)))
    last = runs.latest_run(seller_id)
    assert last.status == "succeeded"
    assert stored_rows() == sum(r.rows for r in last.reports if r.report_type not in NOT_FACTS) <= ingested
    assert_exact(seller_id)


def assert_exact(seller_id: int) -> None:
    """The stored spTargeting cost of the last run's window equals the sandbox's, to the cent."""
    last = runs.latest_run(seller_id)
    seller = db.session.get(Seller, seller_id)
    (pid,) = [p.profile_id for p in runs.managed_profiles(seller)]
    rows = sandbox_rows(seller, pid, "spTargeting", last.start_date, last.end_date)
    cost = db.session.scalar(select(func.sum(SpTargetDaily.cost)))
    assert money(cost) == money(sum(money(r["cost"]) for r in rows))


def slices(run_id: int, status: str) -> set[tuple]:
    db.session.expire_all()
    return {(r.source, r.report_type, r.profile_id, r.marketplace_id, r.start_date, r.end_date)
            for r in db.session.get(SyncRun, run_id).reports if r.status == status}


def fail_then_recover(sbx, seller, kind: str, prefix: str = "/reporting", **options) -> dict:
    """The fault fails its reports only: the run ends partial, stores the rest whole, and the next run asks again
    for exactly the failed slices (inside its own window here) and succeeds."""
    seller_id = seller.id
    sbx.admin.fault(kind, path_prefix=prefix, **options)
    failed = sync(seller, days=1)
    sbx.admin.clear_faults()
    assert failed["status"] == "partial" and failed["reports_failed"] >= 1, failed
    assert failed["error"].startswith(f"{failed['reports_stored']} stored, {failed['reports_failed']} failed: ")
    db.session.expire_all()
    whole = db.session.scalar(select(func.coalesce(func.sum(SyncReport.rows), 0)).where(
        SyncReport.run_id == failed["id"], SyncReport.status == "ingested",
        SyncReport.report_type.not_in(NOT_FACTS)))
    assert stored_rows() == whole > 0  # only reports ingested whole; nothing half-written
    recovered = sync(db.session.get(Seller, seller_id), days=1)
    assert recovered["status"] == "succeeded", recovered["error"]
    assert slices(failed["id"], "failed") <= slices(recovered["id"], "ingested")
    assert_whole(seller_id)
    return failed


@pytest.mark.parametrize("retry_after", [1, None])
def test_throttling_is_waited_out_without_holding_the_worker(app, sbx, seller, retry_after):
    seller_id = seller.id
    sbx.admin.fault("throttle", path_prefix="/reporting", retry_after=retry_after, count=2)
    result = sync(seller, days=2)
    assert result["status"] == "succeeded", result["error"]
    assert_whole(seller_id)
    assert db.session.scalar(select(Connection.error_transient).where(Connection.api == "ads")) is False


@pytest.mark.parametrize(("status", "prefix"), [(500, "/sp/"), (503, "/reporting"), (503, "/reports/")])
def test_server_errors_are_retried(app, sbx, seller, status, prefix):
    seller_id = seller.id
    sbx.admin.fault("error", path_prefix=prefix, status=status, count=3)
    result = sync(seller, days=2)
    assert result["status"] == "succeeded", result["error"]
    assert_whole(seller_id)


def test_an_ads_outage_past_the_horizon_fails_its_reports_only(app, sbx, seller):
    app.config["SYNC_REPORT_HORIZON_SECONDS"] = 1.5
    failed = fail_then_recover(sbx, seller, "error", "/reporting", status=503)
    assert "kept refusing" in failed["error"] and "for 1.5 seconds" in failed["error"]
    assert failed["reports_failed"] == 4 and failed["reports_stored"] >= 2  # structure, Sales & Traffic


def test_a_failed_report_fails_alone(app, sbx, seller):
    failed = fail_then_recover(sbx, seller, "report_fail", count=1)
    assert failed["reports_failed"] == 1 and "Amazon could not generate the sp" in failed["error"]


def test_a_report_pending_beyond_the_horizon_fails_alone(app, sbx, seller):
    app.config["SYNC_REPORT_HORIZON_SECONDS"] = 1.0
    failed = fail_then_recover(sbx, seller, "report_pending", count=1)
    assert "had not finished" in failed["error"] and "PENDING" in failed["error"]


def test_a_failed_run_stored_nothing(app, sbx, seller):
    """Every report refused: `failed`, not `partial`, and `marketing sync`'s words say so."""
    app.config["SYNC_REPORT_HORIZON_SECONDS"] = 1.0
    sbx.admin.fault("error", path_prefix="/", status=503)
    failed = sync(seller, days=1)
    sbx.admin.clear_faults()
    assert failed["status"] == "failed" and failed["reports_stored"] == 0 and "kept refusing" in failed["error"]
    assert stored_rows() == 0


@pytest.mark.parametrize(("kind", "words"), [("truncated_gzip", "truncated"), ("invalid_json", "not valid JSON")])
def test_an_unreadable_file_stores_nothing(app, sbx, seller, kind, words):
    failed = fail_then_recover(sbx, seller, kind, count=1)
    assert "unreadable" in failed["error"] and words in failed["error"]


def test_a_column_nobody_requested_is_ignored(app, sbx, seller):
    """Amazon adds columns over time: every row carrying one changes nothing, totals stay exact."""
    seller_id = seller.id
    sbx.admin.fault("extra_column", path_prefix="/reporting")
    result = sync(seller, days=2)
    assert result["status"] == "succeeded", result["error"]
    seller, last = db.session.get(Seller, seller_id), runs.latest_run(seller_id)
    (pid,) = [p.profile_id for p in runs.managed_profiles(seller)]
    served = sandbox_rows(seller, pid, "spTargeting", last.start_date, last.end_date)
    assert served and all("newAmazonMetric" in row for row in served)  # the fault was live
    sbx.admin.clear_faults()
    assert_whole(seller_id)


def test_a_row_missing_a_required_field_fails_the_run_naming_report_and_field(app, sbx, seller):
    failed = fail_then_recover(sbx, seller, "drop_field", field="cost", count=1)
    assert "report for profile" in failed["error"] and "field 'cost': missing" in failed["error"], failed["error"]
    assert "nothing from it was stored" in failed["error"]


def cleanup(app) -> None:
    set_today(None)
    with app.app_context():
        _clean(app)


def test_a_token_revoked_mid_sync_stops_that_seller_only(make_app, request):
    # A sandbox of its own (same seed as the suite's, separate state): its seeded token gets revoked.
    with running_sandbox(seed=5, report_delay=0.0) as own:
        app = make_app(**sandbox_config(own), **SYNC_CONFIG)
        with app.app_context():
            set_today(own.admin.today())
            request.addfinalizer(lambda: cleanup(app))
            victim, other = connect(own, 0), connect(own, 1)
            victim_id, token = victim.id, own.sellers[0].ads_refresh_token
            first, _ = runs.start_run(victim.id, "manual", days=2)
            second, _ = runs.start_run(other.id, "manual", days=2)
            first_id, second_id = first.id, second.id

            def requested():
                db.session.expire_all()
                return db.session.scalar(select(func.count()).where(
                    SyncReport.run_id == first_id, SyncReport.status != "new")) >= 2

            work(until=requested)
            own.admin.revoke(token)
            stopped, finished = drain(first_id), drain(second_id)
            assert stopped["status"] in ("partial", "failed")  # Sales & Traffic goes on through its own token
            assert "invalid_grant" in stopped["error"] and "Reconnect" in stopped["error"]
            assert finished["status"] == "succeeded", finished["error"]
            connection = db.session.scalar(select(Connection).where(Connection.seller_id == victim_id,
                                                                    Connection.api == "ads"))
            assert connection.revoked_at is not None
            again, started = runs.start_run(victim_id, "manual")  # Ads waits for a reconnect; Seller Central not
            assert started and {r.source for r in again.reports} == {"sp"}


@pytest.mark.sqlite
def test_a_worker_killed_mid_ingest_is_resumed(app, sbx, seller, monkeypatch):
    """The download is cut off half-way (the worker dies), its job is gone; the run resumes from the
    persisted report ids: nothing is requested again and nothing is stored twice."""
    seller_id = seller.id
    run, _ = runs.start_run(seller.id, "manual", days=2)
    run_id = run.id
    real_download = steps.download
    monkeypatch.setattr(steps, "download", lambda report_id, attempt=0: None)  # the worker dies before it
    work()
    monkeypatch.setattr(steps, "download", real_download)
    db.session.expire_all()
    ready = db.session.scalars(select(SyncReport).where(SyncReport.run_id == run_id,
                                                        SyncReport.status == "ready")).all()
    assert len(ready) == 5 + 2  # 4 SP reports, Sales & Traffic for the 2 days and for each day by ASIN
    amazon_ids = {r.id: r.amazon_report_id for r in ready}

    class Killed(BaseException):
        pass

    real_ingest = steps.ingest.ingest_report

    def dying_ingest(session, report_type, rows, **kw):
        def half():
            for number, row in enumerate(rows):
                if number == 50:
                    raise Killed
                yield row

        return real_ingest(session, report_type, half(), **kw)

    monkeypatch.setattr(steps.ingest, "ingest_report", dying_ingest)
    target = next(r for r in ready if r.report_type == "spTargeting")
    with pytest.raises(Killed):
        steps.download(target.id)
    db.session.rollback()
    monkeypatch.setattr(steps.ingest, "ingest_report", real_ingest)
    assert stored_rows() == 0

    assert runs.resume_all() == 5 + 2  # the restarted worker's periodic resume
    result = drain(run_id)
    assert result["status"] == "succeeded", result["error"]
    db.session.expire_all()
    assert {r.id: r.amazon_report_id for r in db.session.scalars(select(SyncReport).where(
        SyncReport.id.in_(amazon_ids)))} == amazon_ids  # resumed, not re-requested
    assert_whole(seller_id)


@steps.leased
def check_own_lease(key: str) -> None:
    """A step that runs for three lease periods, then notes whether a resume would still count it alive."""
    time.sleep(3 * steps.LEASE_SECONDS)
    rq_jobs.connection().set(key, int(steps.alive(get_current_job().id)))


@pytest.mark.sqlite
def test_a_long_step_keeps_its_lease_and_a_finished_one_drops_it(app, monkeypatch):
    monkeypatch.setattr(steps, "LEASE_SECONDS", 0.3)
    job = rq_jobs.enqueue("sync", "tests.sync.test_faults.check_own_lease", "lease-test", job_id="lease-test")
    work()
    assert rq_jobs.connection().get("lease-test") == b"1"
    assert job.get_status() == JobStatus.FINISHED and not rq_jobs.connection().exists(steps._lease_key(job.id))


def start_worker(app, sbx, log) -> subprocess.Popen:
    """`marketing worker --queues sync` as its own process, on the test's database, Redis and sandbox."""
    env = app_env(app, **sbx.env(), MARKETING_TODAY=sbx.admin.today().isoformat())
    return subprocess.Popen([sys.executable, "-m", "marketing", "worker", "--queues", "sync"], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def run_status(run_id: int) -> str:
    db.session.expire_all()
    return db.session.get(SyncRun, run_id).status


def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


@pytest.mark.sqlite
def test_a_worker_sigkilled_mid_ingest_is_resumed_by_a_new_one(app, sbx, seller, monkeypatch, tmp_path):
    """A real `marketing worker` is SIGKILLed half-way through re-reading a report into the database. Its job
    stays STARTED in RQ (for its whole timeout), but holds no lease any more: the periodic resume, run by a
    new worker, re-enqueues the download. Nothing is requested again and nothing is stored twice."""
    seller_id = seller.id
    assert sync(seller, days=2)["status"] == "succeeded"
    before = stored_rows()
    run, _ = runs.start_run(seller_id, "manual", days=2)
    run_id = run.id
    monkeypatch.setattr(steps, "download", lambda report_id, attempt=0: None)  # requested and checked here
    work()
    monkeypatch.undo()
    db.session.expire_all()
    ready = [r for r in db.session.get(SyncRun, run_id).reports if r.status == "ready"]
    assert len(ready) >= 4  # the 4 SP reports at least
    requested = len(sbx.sandbox.ads_reports), len(sbx.sandbox.sp_reports)
    assert runs.resume_all() == len(ready)  # the download jobs, for the worker
    sbx.admin.fault("stall", path_prefix="/offline-report-storage-", seconds=30, count=1)

    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115 (read after both workers)
    first = start_worker(app, sbx, log)
    try:
        stalled = lambda: not any(f["kind"] == "stall" and f["count"] for f in sbx.admin.faults())  # noqa: E731
        until(stalled, 30, "the worker never started a download")
        time.sleep(0.5)  # the first half of the file is in; the ingest waits for the rest
        (started,) = rq_jobs.queue("sync").started_job_registry.get_job_ids()
        assert started.startswith("sync-download-")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        assert run_status(run_id) == "running"
        assert stored_rows() == before  # the killed ingest's delete never committed; nothing half-written
        killed = Job.fetch(started, connection=rq_jobs.connection())
        assert killed.get_status() == JobStatus.STARTED  # RQ would wait its timeout + 60 s to notice
        until(lambda: not steps.alive(started), steps.LEASE_SECONDS + 5, "the killed step's lease never ran out")

        second = start_worker(app, sbx, log)
        try:  # what the tick enqueues every few minutes
            rq_jobs.enqueue("sync", "marketing.sync.runs.resume_all", job_id=f"sync-resume-test-{run_id}")
            until(lambda: run_status(run_id) not in ACTIVE_RUN, 40, "the run did not end")
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(20)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        log.seek(0)
        output = log.read()
        log.close()
    result = runs.progress(db.session.get(SyncRun, run_id))
    assert result["status"] == "succeeded", (result["error"], output[-3000:])
    assert (len(sbx.sandbox.ads_reports), len(sbx.sandbox.sp_reports)) == requested  # nothing asked twice
    assert stored_rows() == before  # the same window re-pulled: nothing duplicated, nothing lost
    assert_exact(seller_id)
