"""Alembic migrations: one head, upgrade from empty on SQLite and PostgreSQL, and no drift from the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from marketing import create_app
from marketing.config import Settings
from marketing.extensions import db
from tests import services
from tests.foundation.helpers import FERNET_KEY, ROOT

SCRIPTS = ScriptDirectory(str(ROOT / "migrations"))


def _app(database_url, instance):
    settings = Settings(env="test", secret_key="x", database_url=database_url, redis_url="redis://127.0.0.1:1/0",
                        token_encryption_keys=(FERNET_KEY,))
    return create_app({"INSTANCE_PATH": str(instance)}, settings=settings)


def _drift(app) -> list:
    """What autogenerate would put in a new migration (what `flask db check` checks); [] when in sync."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_exactly_one_head():
    heads = SCRIPTS.get_heads()
    assert len(heads) == 1, f"several heads: {heads}; merge them"
    assert [rev.down_revision for rev in SCRIPTS.walk_revisions()][-1] is None


def test_upgrade_from_empty_on_sqlite_matches_the_models(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'fresh.sqlite'}", tmp_path)
    with app.app_context():
        upgrade()
        assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == SCRIPTS.get_current_head()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        db.session.remove()
    assert _drift(app) == []


def test_sqlite_migrations_keep_rows_of_rebuilt_tables(tmp_path):
    """Batch mode rebuilds SQLite tables; referencing rows must survive (foreign keys are off while migrating)."""
    app = _app(f"sqlite:///{tmp_path / 'data.sqlite'}", tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sellers (id, name, region, marketplaces, created_at) "
                              "VALUES (1, 'Acme', 'NA', '[]', '2025-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO users (id, email, name, role, active, session_token, created_at) "
                              "VALUES (1, 'm@example.com', '', 'marketer', 1, 'x', '2025-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO user_sellers (user_id, seller_id) VALUES (1, 1)"))
        downgrade(revision="0001")  # rebuilds `sellers` without the columns 0002 added
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT user_id, seller_id FROM user_sellers")).all() == [(1, 1)]
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on for the app
        db.session.remove()
    assert _drift(app) == []


def test_upgrade_from_empty_on_postgresql_matches_the_models(tmp_path):
    with services.postgres_database() as url:
        app = _app(url, tmp_path)
        with app.app_context():
            upgrade()
            assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() \
                == SCRIPTS.get_current_head()
            db.session.remove()
        try:
            assert _drift(app) == []
        finally:
            with app.app_context():
                db.engine.dispose()  # the database is dropped next
