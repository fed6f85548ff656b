"""Sessions that end: after logout (or a password reset) every saved copy of the cookie is worthless."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token
from tests.foundation.helpers import reset_path

pytestmark = pytest.mark.sqlite


def _login(client, email):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302


def _replay(app, cookie):
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    return copy


def test_a_cookie_saved_before_logout_stops_working(make_app, make_user, make_seller):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        seller = make_seller()
        make_user("m@example.com", "marketer", sellers=[seller])
        seller_id = seller.id
    client = app.test_client()
    _login(client, "m@example.com")
    saved = client.get_cookie("session").value
    assert _replay(app, saved).get("/account").status_code == 200  # the copy works while logged in

    token = csrf_token(client.get("/account").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302

    stolen = _replay(app, saved)
    assert stolen.get("/account").status_code == 302
    assert stolen.get(f"/sellers/{seller_id}/daily.csv").status_code == 302
    # nor can it fetch a CSRF token and post with it
    page = stolen.get("/login").get_data(as_text=True)
    response = stolen.post("/notices/read", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.location.startswith("/login")
    # the user logs in again normally
    _login(client, "m@example.com")
    assert client.get("/account").status_code == 200


def test_a_cookie_saved_before_a_password_reset_stops_working(app, client, make_user, login, db):
    from marketing import accounts

    user = make_user("m@example.com")
    login("m@example.com")
    saved = client.get_cookie("session").value
    path = reset_path(accounts.issue_reset_link(user))
    db.session.commit()
    other = app.test_client()
    new = "an entirely new passphrase"
    assert other.post(path, data={"new_password": new, "confirm_password": new}).status_code == 302
    assert _replay(app, saved).get("/account").status_code == 302


def test_logout_ends_the_users_other_sessions_too(app, client, make_user, login):
    make_user("m@example.com")
    login("m@example.com")
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"email": "m@example.com", "password": PASSWORD})
    assert elsewhere.get("/account").status_code == 200
    client.post("/logout")
    assert elsewhere.get("/account").status_code == 302
