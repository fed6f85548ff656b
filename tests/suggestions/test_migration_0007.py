"""Migration 0007 keeps today's bid suggestions: their Ads id becomes the text entity reference and their
profile's marketplace is filled in, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from marketing import create_app
from marketing.config import Settings
from marketing.extensions import db
from tests import services
from tests.foundation.helpers import FERNET_KEY

ROWS = [
    "INSERT INTO sellers (id, name, region, marketplaces, created_at) VALUES (1, 'Acme', 'NA', '[]', :t)",
    "INSERT INTO connections (id, seller_id, api, error_transient, created_at) VALUES (1, 1, 'ads', false, :t)",
    "INSERT INTO ads_profiles (id, connection_id, profile_id, country_code, currency_code, timezone, "
    "marketplace_id, account_type, managed) VALUES (1, 1, 555, 'CA', 'CAD', 'America/Toronto', 'A2EUQ1WTGCTBG2', "
    "'seller', true)",
    "INSERT INTO suggestion_runs (id, seller_id, kind, status, trigger, created_at, targets, suggestions, up, down, "
    "superseded, auto_approved) VALUES (1, 1, 'bid', 'succeeded', 'manual', :t, 1, 1, 1, 0, 0, 0)",
    "INSERT INTO suggestions (id, seller_id, run_id, kind, profile_id, entity_kind, entity_id, current_value, "
    "proposed_value, direction, status, reason, explanation, inputs, created_at) VALUES (1, 1, 1, 'bid', 555, "
    "'keyword', 123456789012345, 1.0, 1.1, 'up', 'pending', 'below_target_acos', '', '{}', :t)",
]


def _migrate_with_a_bid_row(url: str, instance) -> tuple:
    settings = Settings(env="test", secret_key="x", database_url=url, redis_url="redis://127.0.0.1:1/0",
                        token_encryption_keys=(FERNET_KEY,))
    app = create_app({"INSTANCE_PATH": str(instance)}, settings=settings)
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement), {"t": "2026-01-01 00:00:00"})
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT entity_ref, marketplace, payload, entity_id FROM suggestions")).one()
        db.engine.dispose()
    return tuple(row)


def _check(row: tuple) -> None:
    entity_ref, marketplace, payload, entity_id = row
    assert (entity_ref, marketplace, entity_id) == ("123456789012345", "A2EUQ1WTGCTBG2", 123456789012345)
    assert payload in ({}, "{}")


@pytest.mark.sqlite
def test_bid_rows_survive_on_sqlite(tmp_path):
    _check(_migrate_with_a_bid_row(f"sqlite:///{tmp_path / 'm.sqlite'}", tmp_path))


def test_bid_rows_survive_on_postgresql(tmp_path):
    if services.MODE == "embedded":
        pytest.skip("PostgreSQL run only")
    with services.postgres_database() as url:
        _check(_migrate_with_a_bid_row(url, tmp_path))
