"""TOKEN_ENCRYPTION_KEYS: the first key encrypts, all decrypt; rotate-key re-encrypts; a wrong key fails clearly."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from flask.cli import ScriptInfo
from sqlalchemy import select, text

from marketing.clock import now
from marketing.connections import service
from marketing.models import AuditEvent, Connection
from tests.connections.conftest import amazon_config


def _invoke(app, *args):
    from marketing.cli import cli

    return app.test_cli_runner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def _ciphertexts(db) -> dict[int, bytes]:
    rows = db.session.execute(text("SELECT id, refresh_token_ciphertext FROM connections ORDER BY id")).all()
    return {row[0]: bytes(row[1]) for row in rows}


@pytest.fixture
def connected(app, db, seller_like, sbx):
    """Two sellers with Ads + SP-API connections, encrypted under the test app's (old) key."""
    for index in (0, 1):
        seller = seller_like(index)
        for api in ("ads", "sp"):
            token = getattr(sbx.sellers[index], f"{api}_refresh_token")
            service.store_token(seller, api, token, authorized_at=now(), actor=None, method="cli")
    db.session.commit()
    return app.config["TOKEN_ENCRYPTION_KEYS"][0]


def test_rotate_key_reencrypts_and_an_app_with_only_the_new_key_works(connected, make_app, sbx, db):
    old_key, new_key = connected, Fernet.generate_key().decode()
    before = _ciphertexts(db)
    both = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(new_key, old_key))
    with both.app_context():
        result = _invoke(both, "tokens", "rotate-key")
        assert result.exit_code == 0 and result.output.strip() == "re-encrypted 4 stored token(s) with the first key"
    db.session.expire_all()
    after = _ciphertexts(db)
    assert set(after) == set(before) and all(after[i] != before[i] for i in before)
    assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "tokens.key_rotated")) == {
        "count": 4}

    only_new = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(new_key,))
    with only_new.app_context():
        result = _invoke(only_new, "tokens", "check")
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "checked 4: 4 active; 0 notices"
        for connection in db.session.scalars(select(Connection)):
            assert service.token_status(connection).state == "active" and connection.last_error_code is None


def test_rotate_key_with_a_wrong_key_fails_clearly_and_overwrites_nothing(connected, make_app, sbx, db):
    before = _ciphertexts(db)
    wrong = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(Fernet.generate_key().decode(),))
    with wrong.app_context():
        result = _invoke(wrong, "tokens", "rotate-key")
    assert result.exit_code == 1
    assert "cannot be decrypted with TOKEN_ENCRYPTION_KEYS" in result.output and "nothing was changed" in result.output
    db.session.expire_all()
    assert _ciphertexts(db) == before


def test_check_with_a_wrong_key_names_the_problem_and_changes_nothing(connected, make_app, sbx, db, make_user):
    before = _ciphertexts(db)
    wrong = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(Fernet.generate_key().decode(),))
    with wrong.app_context():
        result = _invoke(wrong, "tokens", "check")
        assert result.exit_code == 1
        assert "4 connection(s) could not be checked" in result.output and "TOKEN_ENCRYPTION_KEYS" in result.output
    db.session.expire_all()
    assert _ciphertexts(db) == before
    assert all(c.revoked_at is None and c.last_error_code is None for c in db.session.scalars(select(Connection)))


def test_check_now_page_with_a_wrong_key_shows_a_clear_error(connected, make_app, sbx, db, make_user):
    make_user("admin@example.com", "admin")
    seller_id = db.session.scalar(select(Connection.seller_id))
    wrong = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(Fernet.generate_key().decode(),))
    with wrong.app_context():
        browser = wrong.test_client()
        browser.post("/login", data={"email": "admin@example.com", "password": "correct horse battery"})
        response = browser.post(f"/sellers/{seller_id}/connections/ads/check", follow_redirects=True)
        assert response.status_code == 200
        assert "cannot be decrypted with TOKEN_ENCRYPTION_KEYS" in response.get_data(as_text=True)


def test_cached_access_tokens_under_a_removed_key_are_dropped_not_fatal(app, make_app, seller_like, sbx, db):
    import httpx

    from marketing import jobs
    from marketing.amazon.auth import cache_key
    from marketing.connections import clients

    seller, token = seller_like(0), sbx.sellers[0].ads_refresh_token
    service.prove_refresh_token(seller, "ads", token)  # primes the Redis cache under the old key
    service.store_token(seller, "ads", token, authorized_at=now(), actor=None, method="cli")
    db.session.commit()
    key = cache_key(sbx.ads_client_id, token)
    stale = jobs.connection().get(key)
    old_key, new_key = app.config["TOKEN_ENCRYPTION_KEYS"][0], Fernet.generate_key().decode()
    both = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(new_key, old_key))
    with both.app_context():
        assert _invoke(both, "tokens", "rotate-key").exit_code == 0
    only_new = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(new_key,))
    with only_new.app_context(), httpx.Client() as http:
        connection = db.session.scalar(select(Connection))
        access = clients.token_source(connection, http).get()
        assert access.startswith("Atza|")
        fresh = jobs.connection().get(key)
        assert fresh != stale and Fernet(new_key.encode()).decrypt(fresh).decode() == access
