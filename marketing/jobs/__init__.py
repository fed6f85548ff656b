"""Background work on RQ: queues by workload, job defaults, and enqueue helpers.

Queues: `sync` (talking to Amazon, ingest), `default` (engines, applying changes), `email`.
In embedded mode (`REDIS_URL` unset outside production) the same code runs against an embedded Redis.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import Flask, current_app
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from marketing.jobs import embedded

QUEUES = ("sync", "default", "email")


@dataclass(frozen=True)
class JobDefaults:
    job_timeout: int = 300
    result_ttl: int = 24 * 3600
    failure_ttl: int = 7 * 24 * 3600
    retry: Retry | None = None


DEFAULTS = {
    "sync": JobDefaults(job_timeout=600, retry=Retry(max=3, interval=[30, 120, 600])),
    "default": JobDefaults(job_timeout=600, retry=Retry(max=2, interval=[30, 300])),
    "email": JobDefaults(job_timeout=60, retry=Retry(max=3, interval=[30, 300, 1800])),
}


def init_app(app: Flask) -> None:
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = embedded.url_for(app.instance_path)
        app.config["EMBEDDED_REDIS"] = True
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limits_uri(app.config["REDIS_URL"]))
    app.extensions["marketing.redis"] = None
    if app.config.get("EMBEDDED_REDIS"):
        app.before_request(lambda: connection() and None)


def _limits_uri(url: str) -> str:
    return "redis+unix://" + url[len("unix://"):] if url.startswith("unix://") else url


def connection(app: Flask | None = None) -> redis.Redis:
    """The app's Redis connection, created on first use (starting the embedded server if needed)."""
    app = app or current_app._get_current_object()
    client = app.extensions.get("marketing.redis")
    if client is None:
        if app.config.get("EMBEDDED_REDIS"):
            embedded.ensure_running(app.instance_path)
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=10, health_check_interval=30)
        app.extensions["marketing.redis"] = client
    return client


def queue(name: str) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection(), default_timeout=DEFAULTS[name].job_timeout)


def enqueue(queue_name: str, func, *args, job_id: str | None = None, unique: bool = False, **options):
    """Enqueue with the queue's defaults; with `unique`, an existing job of the same id is returned."""
    q = queue(queue_name)
    defaults = DEFAULTS[queue_name]
    options.setdefault("result_ttl", defaults.result_ttl)
    options.setdefault("failure_ttl", defaults.failure_ttl)
    if defaults.retry is not None:
        options.setdefault("retry", defaults.retry)
    try:
        return q.enqueue(func, *args, job_id=job_id, unique=unique and job_id is not None, **options)
    except DuplicateJobError:
        return q.fetch_job(job_id)
