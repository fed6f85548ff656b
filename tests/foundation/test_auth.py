"""Logging in and out, changing a password, one-time reset links, throttling and password storage."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from marketing.models import PasswordResetToken, User
from marketing.security.passwords import _hasher as PRODUCTION_HASHER
from tests.conftest import PASSWORD
from tests.foundation.helpers import reset_path

NEW_PASSWORD = "a much better passphrase"


def test_login_and_logout(client, make_user, login, audit_events):
    user = make_user("m@example.com")
    response = login("m@example.com")
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").status_code == 200
    assert user.last_login_at is not None
    assert [e.actor_id for e in audit_events("login")] == [user.id]

    response = client.post("/logout")
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/").status_code == 302
    assert len(audit_events("logout")) == 1


def test_email_is_matched_case_insensitively(client, make_user, login):
    make_user("Mixed@Example.com")
    assert login("  mixed@EXAMPLE.com ").status_code == 302


def test_logout_needs_post_and_a_session(client, make_user, login):
    make_user("m@example.com")
    assert client.post("/logout").status_code == 302  # not logged in: to the login page
    login("m@example.com")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_failed_login_is_audited_for_known_users(client, make_user, login, audit_events):
    user = make_user("m@example.com")
    assert login("m@example.com", "wrong wrong wrong").status_code == 401
    assert [e.target_id for e in audit_events("login.failed")] == [str(user.id)]


def test_invited_user_without_password_cannot_log_in(client, db, login):
    from marketing import accounts

    accounts.create_user("invited@example.com", "viewer")
    db.session.commit()
    assert login("invited@example.com", "").status_code == 401
    assert login("invited@example.com", "anything at all").status_code == 401


def test_login_clears_the_previous_session(client, make_user, login):
    make_user("m@example.com")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login("m@example.com")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(f"{session['_user_id'].split(':')[0]}:")


def test_passwords_are_stored_as_argon2id(make_user):
    user = make_user("m@example.com")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_production_hasher_is_argon2id_with_owasp_strength():
    from argon2 import Type

    from marketing.security import passwords

    hasher = PRODUCTION_HASHER
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= 19 * 1024 and hasher.time_cost >= 2
    assert passwords.verify_password(hasher.hash(PASSWORD), PASSWORD)


def test_hashes_with_old_parameters_are_upgraded_on_login(client, make_user, login, db, monkeypatch):
    from argon2 import PasswordHasher

    from marketing.security import passwords

    user = make_user("m@example.com")
    weaker = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    user.password_hash = weaker
    db.session.commit()
    assert login("m@example.com").status_code == 302
    db.session.refresh(user)
    assert user.password_hash != weaker and not passwords.needs_rehash(user.password_hash)


def _second_client(app, email, password=PASSWORD):
    other = app.test_client()
    assert other.post("/login", data={"email": email, "password": password}).status_code == 302
    assert other.get("/").status_code == 200
    return other


def _change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm_password": new if confirm is None else confirm})


def test_change_password_rejects_mistakes_without_changing_anything(client, make_user, login):
    user = make_user("m@example.com")
    before = user.password_hash
    login("m@example.com")
    wrong = _change(client, current="not my password")
    assert wrong.status_code == 400 and b"current password is not correct" in wrong.data
    mismatch = _change(client, confirm="something else entirely")
    assert mismatch.status_code == 400 and b"do not match" in mismatch.data
    short = _change(client, new="short")
    assert short.status_code == 400 and b"at least 10 characters" in short.data
    assert user.password_hash == before
    assert client.get("/").status_code == 200


def test_change_password_ends_other_sessions_but_keeps_this_one(app, client, make_user, login, audit_events):
    make_user("m@example.com")
    login("m@example.com")
    other = _second_client(app, "m@example.com")
    response = _change(client)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert len(audit_events("user.password_changed")) == 1
    client.post("/logout")
    assert client.post("/login", data={"email": "m@example.com", "password": PASSWORD}).status_code == 401
    assert client.post("/login", data={"email": "m@example.com", "password": NEW_PASSWORD}).status_code == 302


def test_change_password_needs_a_login(client):
    response = client.post("/account/password", data={"current_password": "x"})
    assert response.status_code == 302 and response.location.startswith("/login?next=")


# -- one-time links ------------------------------------------------------------------------------------


def _set_via_link(client, path, password=NEW_PASSWORD):
    return client.post(path, data={"new_password": password, "confirm_password": password})


def test_cli_reset_link_works_once(app, client, runner, make_user, login, audit_events):
    make_user("m@example.com")
    other = _second_client(app, "m@example.com")
    result = runner.invoke(["users", "reset-link", "m@example.com"])
    assert result.exit_code == 0, result.output
    path = reset_path(result.output)
    page = client.get(path)
    assert page.status_code == 200 and b"m@example.com" in page.data
    response = _set_via_link(client, path)
    assert response.status_code == 302 and response.location == "/login"
    assert client.get(path).status_code == 404
    assert _set_via_link(client, path, "yet another passphrase").status_code == 404
    assert other.get("/").status_code == 302  # setting a password ends open sessions
    assert login("m@example.com", NEW_PASSWORD).status_code == 302
    assert len(audit_events("user.reset_link_issued")) == 1


def test_reset_link_stores_only_a_hash(runner, make_user, db):
    make_user("m@example.com")
    token = reset_path(runner.invoke(["users", "reset-link", "m@example.com"]).output).rsplit("/", 1)[1]
    row = db.session.scalar(select(PasswordResetToken))
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert dt.timedelta(hours=23, minutes=59) < row.expires_at - row.created_at <= dt.timedelta(hours=24)


def test_reset_link_rejects_mistakes_and_stays_usable(client, runner, make_user):
    make_user("m@example.com")
    path = reset_path(runner.invoke(["users", "reset-link", "m@example.com"]).output)
    assert client.post(path, data={"new_password": NEW_PASSWORD, "confirm_password": "nope"}).status_code == 400
    assert _set_via_link(client, path, "short").status_code == 400
    assert client.get(path).status_code == 200
    assert _set_via_link(client, path).status_code == 302


@pytest.mark.sqlite
def test_expired_link_is_invalid(client, runner, make_user, db):
    make_user("m@example.com")
    path = reset_path(runner.invoke(["users", "reset-link", "m@example.com"]).output)
    row = db.session.scalar(select(PasswordResetToken))
    row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 404 and b"This link is not valid" in response.data
    assert _set_via_link(client, path).status_code == 404


def test_a_new_link_replaces_the_old_one(client, runner, make_user):
    make_user("m@example.com")
    first = reset_path(runner.invoke(["users", "reset-link", "m@example.com"]).output)
    second = reset_path(runner.invoke(["users", "reset-link", "m@example.com"]).output)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_deactivated_users_link_is_invalid(client, runner, make_user, db):
    user = make_user("m@example.com")
    path = reset_path(runner.invoke(["users", "reset-link", "m@example.com"]).output)
    user.active = False
    db.session.commit()
    assert client.get(path).status_code == 404
    assert _set_via_link(client, path).status_code == 404
    assert runner.invoke(["users", "reset-link", "m@example.com"]).exit_code == 2


def test_unknown_token_is_404(client):
    assert client.get("/reset/not-a-real-token").status_code == 404
    assert client.post("/reset/x", data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
                       ).status_code == 404


def test_admin_reset_link_button(client, make_user, login, admin, db):
    target = make_user("m@example.com")
    response = client.post(f"/admin/users/{target.id}/reset-link", follow_redirects=True)
    assert response.status_code == 200
    path = reset_path(response.get_data(as_text=True))
    client.post("/logout")
    assert _set_via_link(client, path).status_code == 302
    assert login("m@example.com", NEW_PASSWORD).status_code == 302
    assert db.session.get(User, target.id).password_hash.startswith("$argon2id$")


# -- throttling ----------------------------------------------------------------------------------------


def _attempt(client, email, password="wrong wrong wrong"):  # noqa: S107 - a wrong password on purpose
    return client.post("/login", data={"email": email, "password": password})


@pytest.mark.sqlite
def test_failed_logins_per_email_are_throttled(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        make_user("m@example.com")
        make_user("other@example.com")
    client = app.test_client()
    assert [_attempt(client, "m@example.com").status_code for _ in range(5)] == [401] * 5
    blocked = _attempt(client, "m@example.com")
    assert blocked.status_code == 429 and b"Too many attempts" in blocked.data
    # the right password does not get through either, but another account on the same IP still can
    assert _attempt(client, "M@example.com", PASSWORD).status_code == 429
    assert _attempt(client, "other@example.com").status_code == 401
    assert _attempt(client, "other@example.com", PASSWORD).status_code == 302


def test_successful_logins_are_not_counted(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        make_user("m@example.com")
    client = app.test_client()
    for _ in range(8):
        assert _attempt(client, "m@example.com", PASSWORD).status_code == 302
        client.post("/logout")
    assert [_attempt(client, "m@example.com").status_code for _ in range(5)] == [401] * 5
    assert _attempt(client, "m@example.com").status_code == 429


def test_logins_work_and_are_still_throttled_while_redis_is_down(make_app, make_user, monkeypatch):
    """The limiter falls back to this process's memory instead of failing every login with a 500."""
    from marketing.extensions import limiter

    # the limiter is one object per process: do not leave it believing Redis is down for later tests
    monkeypatch.setattr(limiter, "_storage_dead", False)
    app = make_app(RATELIMIT_ENABLED=True, REDIS_URL="redis://127.0.0.1:1/0", EMBEDDED_REDIS=False)
    with app.app_context():
        make_user("m@example.com")
    client = app.test_client()
    assert _attempt(client, "m@example.com", PASSWORD).status_code == 302
    client.post("/logout")
    assert [_attempt(client, "m@example.com").status_code for _ in range(5)] == [401] * 5
    assert _attempt(client, "m@example.com", PASSWORD).status_code == 429


def test_failed_logins_per_ip_are_throttled(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = [_attempt(client, f"nobody{i % 5}@example.com").status_code for i in range(20)]
    assert codes == [401] * 20
    assert _attempt(client, "fresh@example.com").status_code == 429
    other_ip = client.post("/login", data={"email": "fresh@example.com", "password": "x"},
                           environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_ip.status_code == 401
