"""The RQ worker run by `marketing worker`: inside the app context, with RQ's scheduler enabled."""

from __future__ import annotations

from flask import Flask
from rq import Queue, SimpleWorker, Worker
from sqlalchemy.orm import configure_mappers

from marketing import jobs
from marketing.extensions import db
from marketing.jobs import tick

# Queues whose jobs run inside the worker process instead of a forked work horse. Sync steps are short
# calls to Amazon and small transactions: a fork per step (new database, Redis and TLS connections, a cold
# token cache and rate limiter) costs more than the step. RQ's job timeout still applies (SIGALRM).
IN_PROCESS_QUEUES = frozenset({"sync"})


class _AppContextMixin:
    """Hand each job a clean database session and return its connection to the pool afterwards."""

    def perform_job(self, job, queue, *args, **kwargs):  # RQ 3 also passes the execution
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            db.session.remove()


class AppWorker(_AppContextMixin, Worker):
    """Forks a work horse per job (isolation for the CPU- and memory-heavy engines), except on
    `IN_PROCESS_QUEUES`."""

    def execute_job(self, job, queue):
        if job.origin in IN_PROCESS_QUEUES:
            return SimpleWorker.execute_job(self, job, queue)
        return super().execute_job(job, queue)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        if job.origin in IN_PROCESS_QUEUES:  # nobody monitors an in-process job: cover its whole timeout
            return SimpleWorker.get_heartbeat_ttl(self, job, working_time)
        return super().get_heartbeat_ttl(job, working_time)

    def main_work_horse(self, job, queue):
        # The parent keeps its pooled connections (it runs in-process jobs); the horse must not touch them.
        db.engine.dispose(close=False)
        from marketing.sync import jobs as sync_jobs

        sync_jobs.forget_connections()
        return super().main_work_horse(job, queue)


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """No fork: for tests and for working a queue inline (`--wait` without a live worker)."""


def run(app: Flask, queue_names: tuple[str, ...] = jobs.QUEUES, burst: bool = False, simple: bool = False) -> bool:
    with app.app_context():
        conn = jobs.connection(app)
        if not burst:
            tick.ensure_scheduled()
        # Preloaded so forked work horses start warm instead of each importing and configuring mappers.
        import marketing.sync.jobs  # noqa: F401

        configure_mappers()
        queues = [Queue(name, connection=conn) for name in queue_names]
        worker_class = AppSimpleWorker if simple else AppWorker
        return worker_class(queues, connection=conn).work(with_scheduler=True, burst=burst)
