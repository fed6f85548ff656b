"""The RQ worker run by `marketing worker`: inside the app context, with RQ's scheduler enabled."""

from __future__ import annotations

from flask import Flask
from rq import Queue, SimpleWorker, Worker
from sqlalchemy.orm import configure_mappers

from marketing import jobs
from marketing.extensions import db
from marketing.jobs import tick


class _AppContextMixin:
    """Hand each job a clean database session and return its connection to the pool afterwards."""

    def perform_job(self, job, queue, *args, **kwargs):  # RQ 3 also passes the execution
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            db.session.remove()


class AppWorker(_AppContextMixin, Worker):
    pass


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

        # Forked work horses must not share the parent's pooled database connections.
        db.engine.dispose()
        queues = [Queue(name, connection=conn) for name in queue_names]
        worker_class = AppSimpleWorker if simple else AppWorker
        return worker_class(queues, connection=conn).work(with_scheduler=True, burst=burst)
