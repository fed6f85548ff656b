"""Background jobs: queue defaults, the periodic tick, a periodic task end to end, job health and a real worker."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid

import pytest
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from marketing import jobs
from marketing.jobs import tick
from marketing.models import PasswordResetToken
from tests.foundation.helpers import app_env, run_cli

PURGE_SLOT = dt.datetime(2024, 5, 6, 2, 30, tzinfo=dt.UTC)  # purge-reset-links runs daily at 02:30 UTC


@pytest.mark.parametrize("name", jobs.QUEUES)
def test_enqueue_applies_the_queues_defaults(app, name):
    defaults = jobs.DEFAULTS[name]
    job = jobs.enqueue(name, "tests.foundation.helpers.add", 1, 2)
    job = Job.fetch(job.id, connection=jobs.connection())
    assert job.origin == name
    assert job.timeout == defaults.job_timeout
    assert job.result_ttl == defaults.result_ttl
    assert job.failure_ttl == defaults.failure_ttl
    assert job.retries_left == defaults.retry.max
    assert job.retry_intervals == defaults.retry.intervals
    assert jobs.queue(name).count == 1


def test_enqueue_options_override_the_defaults(app):
    job = jobs.enqueue("sync", "tests.foundation.helpers.add", 1, 2, job_timeout=5, retry=None, result_ttl=10)
    job = Job.fetch(job.id, connection=jobs.connection())
    assert (job.timeout, job.result_ttl, job.retries_left) == (5, 10, None)


def test_unique_enqueue_returns_the_existing_job(app):
    first = jobs.enqueue("default", "tests.foundation.helpers.add", 1, 2, job_id="only-once", unique=True)
    second = jobs.enqueue("default", "tests.foundation.helpers.add", 3, 4, job_id="only-once", unique=True)
    assert first.id == second.id == "only-once"
    assert tuple(second.args) == (1, 2)
    assert jobs.queue("default").count == 1


def test_unknown_queue_is_refused(app):
    with pytest.raises(ValueError, match="unknown queue"):
        jobs.enqueue("nope", "tests.foundation.helpers.add", 1, 2)


@pytest.mark.sqlite
def test_jobs_run_in_the_app(app, queue):
    job = jobs.enqueue("default", "tests.foundation.helpers.add", 2, 3)
    assert queue.work() is True
    assert Job.fetch(job.id, connection=queue.connection).return_value() == 5


def test_ensure_scheduled_is_idempotent(app):
    after = dt.datetime.now(dt.UTC)
    first = tick.ensure_scheduled(after)
    second = tick.ensure_scheduled(after)
    assert first == second == f"tick-{tick.slot_key(tick.next_slot(after))}"
    registry = ScheduledJobRegistry(queue=jobs.queue("default"))
    assert registry.get_job_ids() == [first]
    scheduled = dt.datetime.fromtimestamp(registry.get_scheduled_time(first).timestamp(), dt.UTC)
    assert scheduled == tick.next_slot(after)


@pytest.mark.sqlite
def test_tick_enqueues_due_tasks_once_per_slot(app):
    assert tick.tick(PURGE_SLOT.isoformat()) == ["purge-reset-links"]
    assert tick.tick(PURGE_SLOT.isoformat()) == ["purge-reset-links"]
    default = jobs.queue("default")
    assert default.job_ids == [f"purge-reset-links-{tick.slot_key(PURGE_SLOT)}"]
    # the tick parked the next one (once)
    next_ticks = ScheduledJobRegistry(queue=default).get_job_ids()
    assert len(next_ticks) == 1 and next_ticks[0].startswith("tick-")


def test_tick_enqueues_nothing_outside_a_tasks_slot(app):
    assert tick.tick((PURGE_SLOT + dt.timedelta(minutes=1)).isoformat()) == []
    assert all(jobs.queue(name).count == 0 for name in jobs.QUEUES)


def test_periodic_slots_are_minutes_of_the_day():
    task = next(t for t in tick.PERIODIC if t.name == "purge-reset-links")
    assert task.due(PURGE_SLOT)
    assert task.due(PURGE_SLOT + dt.timedelta(days=1))
    assert not task.due(PURGE_SLOT + dt.timedelta(minutes=1))
    assert not task.due(PURGE_SLOT - dt.timedelta(hours=1))


def test_purge_reset_links_runs_through_the_queue(app, db, queue, make_user):
    from marketing import accounts

    for email in ("valid@example.com", "expired@example.com", "used@example.com"):
        accounts.issue_reset_link(make_user(email))
    db.session.commit()
    rows = {row.user.email: row for row in db.session.scalars(select(PasswordResetToken))}
    rows["expired@example.com"].expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    rows["used@example.com"].used_at = dt.datetime.now(dt.UTC)
    db.session.commit()

    tick.tick(PURGE_SLOT.isoformat())
    assert queue.work("default") is True
    job = Job.fetch(f"purge-reset-links-{tick.slot_key(PURGE_SLOT)}", connection=queue.connection)
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == 2
    remaining = db.session.scalars(select(PasswordResetToken)).all()
    assert [row.user.email for row in remaining] == ["valid@example.com"]


def test_failed_job_shows_its_error_and_can_be_retried(app, client, admin, queue, audit_events):
    job = jobs.enqueue("default", "tests.foundation.helpers.fail", "kaboom: the <b>last</b> line", retry=None)
    queue.work("default")
    assert Job.fetch(job.id, connection=queue.connection).get_status() == JobStatus.FAILED

    page = client.get("/admin/jobs").get_data(as_text=True)
    assert job.id in page and "tests.foundation.helpers.fail" in page
    assert "ValueError: kaboom: the &lt;b&gt;last&lt;/b&gt; line" in page
    assert "Traceback" not in page

    response = client.post(f"/admin/jobs/default/{job.id}/retry")
    assert response.status_code == 302 and response.location == "/admin/jobs"
    default = jobs.queue("default")
    assert default.job_ids == [job.id]
    assert FailedJobRegistry(queue=default).count == 0
    (event,) = audit_events("job.retried")
    assert (event.target_id, event.details) == (job.id, {"queue": "default"})
    # a second retry of the same job (no longer failed) and unknown jobs or queues are 404
    assert client.post(f"/admin/jobs/default/{job.id}/retry").status_code == 404
    assert client.post("/admin/jobs/default/no-such-job/retry").status_code == 404
    assert client.post(f"/admin/jobs/nope/{job.id}/retry").status_code == 404


def test_jobs_page_without_workers_or_failures(client, admin):
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "No worker is running" in page and "No failed jobs." in page
    for name in jobs.QUEUES:
        assert f"<td>{name}</td>" in page


def test_jobs_page_renders_when_redis_is_down(make_app, make_user):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", EMBEDDED_REDIS=False)
    with app.app_context():
        make_user("admin@example.com", "admin")
    client = app.test_client()
    assert client.post("/login", data={"email": "admin@example.com", "password": "correct horse battery"}
                       ).status_code == 302
    response = client.get("/admin/jobs")
    assert response.status_code == 200
    assert "Redis is not reachable" in response.get_data(as_text=True)


@pytest.mark.sqlite
def test_a_real_worker_runs_jobs_and_reports_its_heartbeat(app, queue):
    """`marketing worker --burst` as its own process, on the same database and Redis as the test."""
    key = f"worker-test-{uuid.uuid4().hex}"
    add = jobs.enqueue("default", "tests.foundation.helpers.add", 20, 22)
    seen = jobs.enqueue("default", "tests.foundation.helpers.remember_workers", key)
    in_process = jobs.enqueue("sync", "tests.foundation.helpers.remember_workers", key + "-sync")
    niceness = [jobs.enqueue(name, "os.nice", 0) for name in ("default", "sync")]  # forked, in-process
    result = run_cli(["worker", "--burst"], app_env(app), timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    assert Job.fetch(add.id, connection=queue.connection).return_value() == 42
    # jobs run below the web server's CPU priority (WORKER_NICE, 10 by default), never above the caller's
    assert [Job.fetch(j.id, connection=queue.connection).return_value() for j in niceness] == [max(10, os.nice(0))] * 2
    for job in (seen, in_process):
        assert Job.fetch(job.id, connection=queue.connection).get_status() == JobStatus.FINISHED
    report = json.loads(queue.connection.get(key))
    assert report["error"] is None
    (worker,) = report["workers"]
    assert set(worker["queues"]) == set(jobs.QUEUES)
    assert worker["heartbeat"] is not None and worker["stale"] is False
    assert all(jobs.queue(name).count == 0 for name in jobs.QUEUES)
    # a sync job runs in the worker's own process, which cannot beat during it: RQ gave it its whole timeout
    (worker,) = json.loads(queue.connection.get(key + "-sync"))["workers"]
    assert worker["stale"] is False
    promised = dt.datetime.fromisoformat(worker["due"]) - dt.datetime.fromisoformat(worker["heartbeat"])
    assert promised > dt.timedelta(seconds=jobs.DEFAULTS["sync"].job_timeout)


def _register_worker(name, queue_name, beat_ago, ttl=None):
    """A worker registered the way RQ does it, whose last heartbeat was `beat_ago`; `ttl` as a busy worker sets."""
    from rq import Worker
    from rq.utils import utcformat

    worker = Worker([jobs.queue(queue_name)], connection=jobs.connection(), name=name)
    worker.register_birth()
    if ttl:
        worker.heartbeat(ttl)
    worker.connection.hset(worker.key, "last_heartbeat", utcformat(dt.datetime.now(dt.UTC) - beat_ago))
    return worker


def test_workers_are_stale_only_when_rq_no_longer_holds_them_to_a_deadline(client, admin):
    """Idle workers beat every worker_ttl - 15 s and in-process jobs stop the beat: neither is stale."""
    from marketing.jobs import health

    _register_worker("idle", "default", dt.timedelta(minutes=6))
    _register_worker("busy", "sync", dt.timedelta(minutes=9), ttl=jobs.DEFAULTS["sync"].job_timeout + 60)
    leftover = _register_worker("leftover", "email", dt.timedelta(minutes=1))
    leftover.connection.persist(leftover.key)
    gone = _register_worker("gone", "email", dt.timedelta(minutes=1))
    gone.connection.delete(gone.key)  # as its key expiring does (an expiry of 1 ms raced the report on a busy machine)

    started = dt.datetime.now(dt.UTC)
    workers = {w.name: w for w in health.report().workers}
    assert set(workers) == {"idle", "busy", "leftover"}  # RQ drops a worker whose key expired
    assert not workers["idle"].stale and not workers["busy"].stale and workers["leftover"].stale
    assert workers["leftover"].next_heartbeat_by is None
    for name, deadline in (("idle", 420 + 60), ("busy", 600 + 60)):
        due = workers[name].next_heartbeat_by - started
        # Redis counts the time left in whole milliseconds, so `due` can pass the deadline by under one
        assert dt.timedelta(seconds=deadline - 5) < due <= dt.timedelta(seconds=deadline, milliseconds=1)

    page = client.get("/admin/jobs").get_data(as_text=True)
    assert page.count("overdue (stale)") == 1
    assert workers["idle"].next_heartbeat_by.strftime("%Y-%m-%d %H:%M:%S") in page


@pytest.mark.sqlite
def test_jobs_page_shows_where_the_tick_stands(app, client, admin):
    from rq.scheduler import RQScheduler

    from marketing.jobs import health

    assert "none scheduled" in client.get("/admin/jobs").get_data(as_text=True)

    started = dt.datetime.now(dt.UTC)
    tick.ensure_scheduled(started)
    status = health.report().tick
    assert (status.next_slot, status.last_run, status.late) == (tick.next_slot(started), None, False)

    tick.tick(tick.next_slot(started).isoformat())  # run by hand: its own job stays parked as the next one
    status = health.report().tick
    assert status.next_slot == tick.next_slot(started) and not status.late
    assert started <= status.last_run <= dt.datetime.now(dt.UTC)

    # no worker on `default`: a past slot stays parked (or waits on the queue) and shows as late
    past = started - dt.timedelta(minutes=10)
    tick.ensure_scheduled(past)
    scheduler = RQScheduler(["default"], connection=jobs.connection())
    assert scheduler.acquire_locks() == {"default"}
    scheduler.enqueue_scheduled_jobs()
    scheduler.release_locks()
    assert f"tick-{tick.slot_key(tick.next_slot(past))}" in jobs.queue("default").job_ids
    status = health.report().tick
    assert status.next_slot == tick.next_slot(past) and status.late
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "late: no worker on the <code>default</code> queue has run it" in page
    assert status.last_run.strftime("%Y-%m-%d %H:%M:%S") in page


@pytest.mark.sqlite
def test_sync_jobs_run_in_the_worker_process_and_the_rest_in_work_horses(app, queue):
    """Sync steps skip the fork (warm connections); other jobs get a horse that leaves the worker's pool alone."""
    key = f"where-{uuid.uuid4().hex}"
    jobs.enqueue("sync", "tests.foundation.helpers.where_ran", key)
    jobs.enqueue("default", "tests.foundation.helpers.where_ran", key, "sync")  # then a sync job, after a fork
    result = run_cli(["worker", "--burst"], app_env(app), timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    first, horse, after_fork = (json.loads(item) for item in queue.connection.lrange(key, 0, -1))
    assert first["pid"] == after_fork["pid"] != horse["pid"]
    assert first["db"] == horse["db"] == after_fork["db"] == 1
