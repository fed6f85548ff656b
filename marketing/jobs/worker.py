"""The RQ worker run by `marketing worker`: inside the app context, with RQ's scheduler enabled."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

import redis
from flask import Flask
from rq import Queue, SimpleWorker, Worker
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import configure_mappers

from marketing import jobs
from marketing.extensions import db
from marketing.jobs import tick
from marketing.optimize import bids as bid_engine
from marketing.sync import steps  # preloaded, so forked work horses start warm instead of each importing it

log = logging.getLogger("marketing.jobs")

# Queues whose jobs run inside the worker process instead of a forked work horse. Sync steps are short
# calls to Amazon and small transactions: a fork per step (new database, Redis and TLS connections, a cold
# token cache and rate limiter) costs more than the step. RQ's job timeout still applies (SIGALRM).
IN_PROCESS_QUEUES = frozenset({"sync"})


class _AppContextMixin:
    """Hand each job a clean database session and return its connection to the pool afterwards; note a stop
    asked for by a signal (RQ also stops on a Redis error, which `run` works through)."""

    signalled = False

    def request_stop(self, signum, frame):
        self.signalled = True
        return super().request_stop(signum, frame)

    def perform_job(self, job, queue, *args, **kwargs):  # RQ 3 also passes the execution
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            try:
                db.session.remove()
            except SQLAlchemyError as exc:  # PostgreSQL restarted: the pool drops the dead connection
                log.warning("database connection lost after job %s: %s", job.id, type(exc).__name__)


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
        steps.forget_connections()
        return super().main_work_horse(job, queue)


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """No fork: for tests and for working a queue inline (`--wait` without a live worker)."""


def _keep_alive(app: Flask, worker: Worker, stop: threading.Event) -> None:
    """Every `tick.REVIVE_SECONDS`: restart RQ's scheduler if it died (it exits on a lost Redis connection) and
    revive the tick chain if Redis lost it. RQ's own check runs only between jobs, every 10 minutes."""
    with app.app_context():
        while not stop.wait(tick.REVIVE_SECONDS):
            try:
                scheduler = worker.scheduler
                if scheduler is not None and (scheduler._process is None or not scheduler._process.is_alive()):
                    scheduler.acquire_locks(auto_start=True)
                if tick.revive():
                    log.warning("the tick chain was gone (Redis restarted?): revived, unfinished runs resumed")
            except redis.RedisError as exc:
                log.warning("keep-alive: Redis unavailable (%s); trying again", exc)


def run(app: Flask, queue_names: tuple[str, ...] = jobs.QUEUES, burst: bool = False, simple: bool = False) -> bool:
    with app.app_context():
        conn = jobs.connection(app)
        if not burst:
            tick.ensure_scheduled()
        configure_mappers()  # once here, not in every forked work horse
        if not simple:
            bid_engine.warm()  # the engine's quantile tables, inherited by every forked run
        queues = [Queue(name, connection=conn) for name in queue_names]
        worker_class = AppSimpleWorker if simple else AppWorker
        while True:
            worker = worker_class(queues, connection=conn)
            stop = threading.Event()
            if not burst:
                threading.Thread(target=_keep_alive, args=(app, worker, stop), name="keep-alive", daemon=True).start()
            try:
                worked = worker.work(with_scheduler=True, burst=burst)
            finally:
                stop.set()
            if burst or worker.signalled:
                return worked
            # RQ quits on an error outside a job, e.g. Redis restarting outside its dequeue: work again.
            log.warning("the worker stopped on an error (see above); working again once Redis answers")
            if not _wait_for_redis(conn):
                return worked


def _wait_for_redis(conn: redis.Redis) -> bool:
    """Ping until Redis answers (True) or a signal asks the worker to stop (False)."""
    stopped = threading.Event()
    for name in (signal.SIGINT, signal.SIGTERM):
        signal.signal(name, lambda *_: stopped.set())
    while not stopped.is_set():
        try:
            conn.ping()
            return True
        except redis.RedisError:
            stopped.wait(1)
    return False


def work_until(queue_name: str, done: Callable[[], bool], *, poll: float = 0.5, timeout: float | None = None,
               with_scheduler: bool = True, defer_to_workers: bool = True) -> None:
    """Return once `done()`; meanwhile work the queue in this process, in bursts (`--wait`, the demo, tests).

    While a live worker listens on the queue (and `defer_to_workers`), it does the work and this only waits.
    `with_scheduler` also moves due scheduled jobs (a sync's delayed status checks) onto the queue."""
    queue = jobs.queue(queue_name)
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done():
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"the {queue_name} queue did not finish in time")
        if defer_to_workers and Worker.all(queue=queue):
            time.sleep(poll)
            continue
        AppSimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=with_scheduler,
                                                                   logging_level="WARNING")
        if not queue.count:
            time.sleep(poll)
