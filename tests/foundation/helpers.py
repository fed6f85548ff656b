"""Small importable job functions and subprocess helpers for the foundation tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "x0Q2o7rpMI3G0Sm5FkdsKZqnYiv2D7uZKuVUBJOySSo="


def add(a, b):
    return a + b


def fail(message):
    raise ValueError(message)


def remember(key, value):
    """Store `value` under `key` in the app's Redis (proves a job ran, and where)."""
    from marketing import jobs

    jobs.connection().set(key, value)
    return value


def where_ran(key, then_queue=None):
    """Append this process's pid and a database round trip to the Redis list `key`; then maybe enqueue itself."""
    from sqlalchemy import text

    from marketing import jobs
    from marketing.extensions import db

    jobs.connection().rpush(key, json.dumps({"pid": os.getpid(), "db": db.session.scalar(text("SELECT 1"))}))
    if then_queue:
        jobs.enqueue(then_queue, "tests.foundation.helpers.where_ran", key)


def remember_workers(key):
    """Inside a worker: store what the admin health report says about the workers running now."""
    from marketing import jobs
    from marketing.jobs import health

    result = health.report()
    jobs.connection().set(key, json.dumps({
        "error": result.error,
        "workers": [{"name": w.name, "queues": w.queues, "stale": w.stale,
                     "heartbeat": w.last_heartbeat.isoformat() if w.last_heartbeat else None,
                     "due": w.next_heartbeat_by.isoformat() if w.next_heartbeat_by else None}
                    for w in result.workers],
    }))


def clean_env(**extra) -> dict:
    """A minimal environment for `marketing` subprocesses: none of the caller's deployment variables."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
    env["PYTHONPATH"] = str(ROOT)
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env


def run_cli(args, env, input=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "marketing", *args], env=env, input=input, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def app_env(app, **extra) -> dict:
    """Environment for a subprocess that must reach the same database and Redis as `app`."""
    embedded = bool(app.config.get("EMBEDDED_REDIS"))
    return clean_env(
        MARKETING_ENV="development",
        MARKETING_INSTANCE_PATH=app.instance_path,
        SECRET_KEY="test-secret",
        TOKEN_ENCRYPTION_KEYS=FERNET_KEY,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=None if embedded else app.config["REDIS_URL"],
        **extra,
    )


def reset_path(text: str) -> str:
    """The /reset/<token> path in a page, flash message or command output."""
    import re

    match = re.search(r"/reset/([A-Za-z0-9_\-]+)", text)
    assert match, f"no reset link in {text[:300]!r}"
    return f"/reset/{match.group(1)}"
