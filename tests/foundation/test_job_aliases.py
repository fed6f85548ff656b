"""A renamed RQ job function keeps its old import path for one release: jobs already in Redis still run."""

from __future__ import annotations

import datetime as dt

from rq.job import Job, JobStatus

from marketing import jobs
from marketing.extensions import db
from marketing.jobs.worker import AppSimpleWorker
from marketing.models import SyncReport, SyncRun
from marketing.models.sync import ReportStatus, RunStatus
from marketing.sync import jobs as old_path
from marketing.sync import steps


def test_the_old_module_offers_exactly_the_step_jobs():
    # `inventory` came after the rename: no job was ever queued under its old path
    assert set(old_path.__all__) == set(steps.JOB_TIMEOUT) - {"inventory"}
    assert all(getattr(old_path, name) is getattr(steps, name) for name in old_path.__all__)


def test_a_step_queued_under_its_old_path_runs(app, make_seller):
    """A `finish` queued before the rename (as `marketing.sync.jobs.finish`) ends its run when a worker takes it."""
    seller = make_seller()
    day = dt.date(2024, 5, 6)
    run = SyncRun(seller_id=seller.id, kind="manual", status=RunStatus.RUNNING, stage="syncing", start_date=day,
                  end_date=day, rows=0)
    run.reports = [SyncReport(source="ads", report_type="spCampaigns", profile_id=1, start_date=day, end_date=day,
                              status=ReportStatus.INGESTED, rows=12)]
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    job = jobs.enqueue("sync", "marketing.sync.jobs.finish", run_id, job_id=f"old-path-finish-{run_id}")
    queue = jobs.queue("sync")
    AppSimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert Job.fetch(job.id, connection=jobs.connection()).get_status() == JobStatus.FINISHED
    db.session.expire_all()
    run = db.session.get(SyncRun, run_id)
    assert (run.status, run.stage, run.rows) == (RunStatus.SUCCEEDED, "done", 12)
