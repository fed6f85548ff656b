"""Fixtures: app, client, runner, db, queue — against real PostgreSQL and Redis (see tests/services.py)."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.cli import ScriptInfo

from marketing import create_app
from marketing.config import Settings
from tests import services


def pytest_collection_modifyitems(config, items):
    """In the embedded mode only the tests marked `sqlite` run."""
    if services.MODE != "embedded":
        return
    skip = pytest.mark.skip(reason="runs on PostgreSQL + Redis; MARKETING_TEST_MODE=embedded runs the sqlite subset")
    for item in items:
        if "sqlite" not in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if services.MODE == "embedded":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    with services.postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if services.MODE == "embedded":
        yield None  # the app starts its embedded Redis in its instance folder
        return
    with services.redis_database() as url:
        yield url


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def migrated(database_url, redis_url, instance_path):
    """Upgrade the test database from empty once per run (this also tests the migrations), then empty it: the
    migrations seed rows (the US promotion fees), and each test starts from the empty tables `app` leaves behind,
    whichever test a worker runs first."""
    from flask_migrate import upgrade

    app = _make_app(database_url, redis_url, instance_path)
    with app.app_context():
        upgrade()
        _clean(app)
    yield
    if services.MODE == "embedded":
        from marketing.jobs import embedded

        embedded.stop(instance_path)


def _make_app(database_url, redis_url, instance_path, **overrides):
    settings = Settings(env="test", secret_key="test-secret", database_url=database_url, redis_url=redis_url,
                        token_encryption_keys=("x0Q2o7rpMI3G0Sm5FkdsKZqnYiv2D7uZKuVUBJOySSo=",))
    config = {
        "INSTANCE_PATH": instance_path,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        **overrides,
    }
    return create_app(config, settings=settings)


@pytest.fixture
def make_app(database_url, redis_url, instance_path, migrated):
    """Build another app on the test services with config overrides (e.g. CSRF or rate limits on)."""
    return lambda **overrides: _make_app(database_url, redis_url, instance_path, **overrides)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """argon2id at minimum cost: the real parameters take ~0.15 s a hash and would dominate the suite.
    The production parameters are tested on their own (tests/foundation/test_auth.py)."""
    from argon2 import PasswordHasher

    from marketing.security import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        passwords._dummy_hash.cache_clear()  # made again, with the cheap hasher
        yield
    passwords._dummy_hash.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def sqlite_commits_skip_the_disk():
    """SQLite's commits don't wait for the disk (its default syncs several times a commit): durability is not
    under test. PostgreSQL's test database is made the same way (`services.postgres_database`)."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def connected(dbapi_connection, connection_record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA synchronous=OFF")

    event.listen(Engine, "connect", connected)
    yield
    event.remove(Engine, "connect", connected)


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app
        _clean(app)


def _clean(app):
    """Empty every table and the test's Redis database. DELETE, children first: on a test's few rows it is many
    times faster than TRUNCATE on PostgreSQL (no test depends on ids restarting)."""
    from marketing import jobs
    from marketing.extensions import db
    from marketing.models import Base

    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    connection = jobs.connection(app)
    claim = connection.get("marketing-test-claim")
    connection.flushdb()
    if claim:
        connection.set("marketing-test-claim", claim)
    db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client; each request starts without the previous request's user (tests share one app context)."""
    from flask import g
    from flask.testing import FlaskClient

    class Client(FlaskClient):
        def open(self, *args, **kwargs):
            g.pop("_login_user", None)
            return super().open(*args, **kwargs)

    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app):
    from marketing.cli import cli

    class Runner:
        def invoke(self, args, input=None):
            return app.test_cli_runner().invoke(cli, args, input=input, obj=ScriptInfo(create_app=lambda: app))

    return Runner()


@pytest.fixture
def db(app):
    from marketing.extensions import db

    return db


@pytest.fixture
def queue(app):
    """Enqueue helpers plus `work()`, which runs queued jobs to completion in-process (SimpleWorker, burst)."""
    from marketing import jobs
    from marketing.jobs.worker import AppSimpleWorker

    class Queues:
        connection = jobs.connection(app)

        @staticmethod
        def work(*names):
            from rq import Queue

            queues = [Queue(n, connection=jobs.connection(app)) for n in (names or jobs.QUEUES)]
            return AppSimpleWorker(queues, connection=jobs.connection(app)).work(burst=True)

    return Queues()


PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(db):
    from marketing import accounts

    def make(email="user@example.com", role="marketer", sellers=(), password=PASSWORD, active=True):
        user = accounts.create_user(email, role, password=password)
        user.sellers = list(sellers)
        user.active = active
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_seller(db):
    from marketing import sellers

    def make(name="Acme Outdoor", region="NA"):
        seller = sellers.create_seller(name, region)
        db.session.commit()
        return seller

    return make


@pytest.fixture
def admin(make_user, login):
    """An admin, logged in on `client`."""
    user = make_user("admin@example.com", "admin")
    assert login(user.email).status_code == 302
    return user


@pytest.fixture
def marketer(make_user, login, seller):
    """A marketer assigned to the suite's `seller` (each suite that uses it defines one), logged in on `client`."""
    user = make_user("marketer@example.com", "marketer", sellers=[seller])
    login(user.email)
    return user


@pytest.fixture
def login(client):
    def do(email, password=PASSWORD, follow=False):
        return client.post("/login", data={"email": email, "password": password}, follow_redirects=follow)

    return do


def sandbox_config(sbx) -> dict:
    """App config wiring the product to a running sandbox; read now, so a rotated secret is picked up."""
    return {k: v for k, v in sbx.env().items() if k != "AMAZON_SANDBOX_ADMIN_KEY"}


@contextmanager
def sandbox_app(make_app, sbx, **config):
    """An app wired to the running sandbox `sbx`, inside its app context: the sandbox's faults are cleared
    before and after, and the tables and Redis database emptied after."""
    sbx.admin.clear_faults()
    app = make_app(**sandbox_config(sbx), **config)
    with app.app_context():
        yield app
        _clean(app)
    sbx.admin.clear_faults()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# Real Chromium for the browser tests (Debian's; Playwright downloads nothing). REQUIRE_BROWSER=1 (CI) turns a
# missing browser into a failure instead of a skip.
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); set REQUIRE_BROWSER=1 to require it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()
