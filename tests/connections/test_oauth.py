"""Connecting through Amazon's consent pages (the sandbox's), and every way a callback can be wrong."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from marketing import jobs
from marketing.models import AuditEvent, Connection, ConnectionEvent
from tests.connections.conftest import PUBLIC_URL, consent, consent_start, flashes


def _connections(db) -> int:
    return db.session.scalar(select(func.count(Connection.id)).where(Connection.refresh_token_ciphertext.is_not(None)))


def test_consent_url_for_ads_carries_scope_redirect_and_a_state_kept_server_side(client, admin, seller_like, sbx,
                                                                                  app):
    seller = seller_like(0)
    url = urlsplit(consent_start(client, seller.id, "ads"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{sbx.url}/ap/oa"
    assert query["scope"] == "advertising::campaign_management"
    assert query["client_id"] == sbx.ads_client_id and query["response_type"] == "code"
    assert query["redirect_uri"] == f"{PUBLIC_URL}/connections/ads/callback"
    # in Redis with its lifetime, keyed by a digest; nothing about it in the session cookie
    keys = jobs.connection(app).keys("oauth-state:*")
    assert len(keys) == 1 and query["state"].encode() not in keys[0]
    assert 0 < jobs.connection(app).ttl(keys[0]) <= 15 * 60
    with client.session_transaction() as session:
        assert not any("oauth" in key for key in session)


def test_the_connect_button_moves_on_without_a_cross_site_form_redirect(client, admin, seller_like, sbx):
    """The production CSP's form-action 'self' also covers a form's redirects: the answer is a page of ours."""
    seller = seller_like(0)
    start = client.post(f"/sellers/{seller.id}/connections/ads/authorize")
    assert start.status_code == 200 and "Location" not in start.headers
    assert '<meta http-equiv="refresh" content="0; url=' + sbx.url in start.get_data(as_text=True)


def test_sp_consent_url_uses_the_app_id(client, admin, seller_like, sbx):
    seller = seller_like(0)
    url = urlsplit(consent_start(client, seller.id, "sp"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/apps/authorize/consent"
    assert query["application_id"] == sbx.sp_app_id
    assert query["redirect_uri"] == f"{PUBLIC_URL}/connections/sp/callback"
    assert "version" not in query  # a published app


def test_sp_consent_url_of_a_draft_app_on_the_sellers_seller_central(app, client, admin, seller_like, db):
    app.config["AMAZON_SP_APP_DRAFT"] = True
    seller = seller_like(0)
    seller.region, seller.marketplaces = "FE", ["A39IBJ37TRP1C6"]  # Australia
    db.session.commit()
    url = urlsplit(consent_start(client, seller.id, "sp"))
    assert parse_qs(url.query)["version"] == ["beta"]
    app.config["AMAZON_BASE_URL"] = None  # where Amazon itself sends the seller
    url = urlsplit(consent_start(client, seller.id, "sp"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://sellercentral.amazon.com.au/apps/authorize/consent"


def test_allow_connects_ads_and_offers_the_profile_picker(client, admin, seller_like, sbx, db):
    seller = seller_like(0)
    callback = consent(client, seller.id, "ads")
    response = client.get(callback)
    assert response.location == f"/sellers/{seller.id}/connections/ads/profiles"
    connection = seller.connection("ads")
    assert connection.connected and connection.expires_at is None  # Ads tokens don't expire by default
    profiles = {p.profile_id: p for p in connection.profiles}
    assert set(profiles) == {p["profileId"] for p in sbx.sellers[0].profiles}
    assert not any(p.managed for p in profiles.values())  # the user picks
    event = db.session.scalar(select(ConnectionEvent))
    assert (event.kind, event.method, event.actor_email) == ("connected", "oauth", "admin@example.com")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "connection.connected")) is not None
    page = client.get(response.location).get_data(as_text=True)
    assert "Choose the advertising profiles to manage" in " ".join(flashes(page))


def test_allow_connects_sp_with_its_selling_partner_id_and_365_day_expiry(client, admin, seller_like, sbx):
    seller = seller_like(1)
    response = client.get(consent(client, seller.id, "sp", sandbox_seller=1))
    assert response.location == f"/sellers/{seller.id}"
    connection = seller.connection("sp")
    assert connection.connected
    assert seller.selling_partner_id == sbx.sellers[1].selling_partner_id
    assert (connection.expires_at - connection.authorized_at).days == 365
    page = client.get(response.location).get_data(as_text=True)
    assert "Seller Central (SP-API) is connected." in flashes(page)
    assert 'data-api="sp" data-state="active"' in page
    assert connection.expires_at.strftime("%Y-%m-%d") in page


def _hold(page: str) -> str:
    return re.search(r'name="hold" value="([^"]+)"', page).group(1)


def _token_of(connection) -> str:
    from marketing.connections import clients

    return clients.decrypt_refresh_token(connection)


def test_sp_renewal_from_another_seller_central_account_asks_before_replacing(client, admin, seller_like, sbx, db,
                                                                              app):
    seller = seller_like(0)
    seller.selling_partner_id = sbx.sellers[0].selling_partner_id
    db.session.commit()
    response = client.get(consent(client, seller.id, "sp", sandbox_seller=2))  # signed in as someone else
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "This authorization is another Amazon account" in page
    assert f"Seller Central account {sbx.sellers[0].selling_partner_id}" in page
    assert f"Seller Central account {sbx.sellers[2].selling_partner_id}" in page
    assert _connections(db) == 0  # nothing stored while it waits
    held = jobs.connection(app).keys("connection-hold:*")
    assert len(held) == 1 and b"Atzr|" not in jobs.connection(app).get(held[0])  # encrypted while held
    assert "Atzr|" not in page  # the token never reaches the browser
    keep = client.post(f"/sellers/{seller.id}/connections/sp/replace", data={"hold": _hold(page), "action": "keep"})
    assert keep.location == f"/sellers/{seller.id}" and _connections(db) == 0
    assert "Kept the current Seller Central (SP-API) account" in " ".join(flashes(client.get(keep.location)
                                                                                  .get_data(as_text=True)))
    assert jobs.connection(app).keys("connection-hold:*") == []
    db.session.refresh(seller)
    assert seller.selling_partner_id == sbx.sellers[0].selling_partner_id


def test_replacing_takes_the_new_seller_central_account_once(client, admin, seller_like, sbx, db):
    seller = seller_like(0)
    seller.selling_partner_id = sbx.sellers[0].selling_partner_id
    db.session.commit()
    page = client.get(consent(client, seller.id, "sp", sandbox_seller=2)).get_data(as_text=True)
    form = {"hold": _hold(page), "action": "replace"}
    response = client.post(f"/sellers/{seller.id}/connections/sp/replace", data=form)
    assert response.location == f"/sellers/{seller.id}"
    db.session.refresh(seller)
    assert seller.selling_partner_id == sbx.sellers[2].selling_partner_id and _connections(db) == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "connection.account_replaced"))
    assert event.details["old_selling_partner_id"] == sbx.sellers[0].selling_partner_id
    again = client.post(f"/sellers/{seller.id}/connections/sp/replace", data=form)  # the hold is spent
    assert "no longer waiting" in " ".join(flashes(client.get(again.location).get_data(as_text=True)))


def test_a_held_authorization_answers_only_its_user(app, client, admin, make_user, login, seller_like, sbx, db):
    seller = seller_like(0)
    seller.selling_partner_id = sbx.sellers[0].selling_partner_id
    db.session.commit()
    hold = _hold(client.get(consent(client, seller.id, "sp", sandbox_seller=2)).get_data(as_text=True))
    make_user("other-admin@example.com", role="admin")
    client.post("/logout")
    login("other-admin@example.com")
    response = client.post(f"/sellers/{seller.id}/connections/sp/replace", data={"hold": hold, "action": "replace"})
    assert response.status_code == 302 and _connections(db) == 0


def test_the_same_seller_central_account_renews_without_asking(client, admin, seller_like, sbx, db):
    seller = seller_like(0)
    seller.selling_partner_id = sbx.sellers[0].selling_partner_id
    db.session.commit()
    response = client.get(consent(client, seller.id, "sp", sandbox_seller=0))
    assert response.status_code == 302 and _connections(db) == 1


def test_ads_renewal_that_sees_none_of_the_profiles_asks_and_then_retires_them(client, admin, seller_like, sbx, db):
    seller = seller_like(0)
    client.get(consent(client, seller.id, "ads", sandbox_seller=0))
    old_token = _token_of(seller.connection("ads"))
    same = client.get(consent(client, seller.id, "ads", sandbox_seller=0))  # same advertiser: renewed at once
    assert same.status_code == 302
    page = client.get(consent(client, seller.id, "ads", sandbox_seller=1)).get_data(as_text=True)
    assert "This authorization is another Amazon account" in page and "the advertiser of" in page
    db.session.refresh(seller.connection("ads"))
    assert _token_of(seller.connection("ads")) != old_token  # the same-advertiser renewal was stored …
    renewed = _token_of(seller.connection("ads"))
    client.post(f"/sellers/{seller.id}/connections/ads/replace", data={"hold": _hold(page), "action": "replace"})
    connection = seller.connection("ads")
    db.session.refresh(connection)
    assert _token_of(connection) != renewed  # … and now replaced by the other advertiser's
    old_ids = {p["profileId"] for p in sbx.sellers[0].profiles}
    new_ids = {p["profileId"] for p in sbx.sellers[1].profiles}
    assert {p.profile_id for p in connection.profiles if not p.accessible} == old_ids
    assert {p.profile_id for p in connection.profiles if p.accessible} == new_ids


def test_deny_stores_nothing_and_says_so(client, admin, seller_like, db):
    seller = seller_like(0)
    response = client.get(consent(client, seller.id, "ads", decision="deny"))
    assert response.location == f"/sellers/{seller.id}"
    assert _connections(db) == 0
    assert db.session.scalar(select(func.count(ConnectionEvent.id))) == 0
    page = client.get(response.location).get_data(as_text=True)
    assert "You declined the Amazon Ads authorization (access_denied). Nothing was changed." in flashes(page)


def test_replayed_callback_is_refused_and_changes_nothing(client, admin, seller_like, db):
    seller = seller_like(0)
    callback = consent(client, seller.id, "ads")
    assert client.get(callback).status_code == 302
    before = seller.connection("ads").refresh_token_ciphertext
    replay = client.get(callback)
    assert replay.status_code == 303 and replay.location == "/"
    db.session.expire_all()
    assert seller.connection("ads").refresh_token_ciphertext == before
    assert db.session.scalar(select(func.count(ConnectionEvent.id))) == 1
    assert "already used" in " ".join(flashes(client.get("/").get_data(as_text=True)))


def test_tampered_state_is_refused_and_the_code_is_not_spent(client, admin, seller_like, db):
    seller = seller_like(0)
    callback = consent(client, seller.id, "ads")
    response = client.get(callback.replace("state=", "state=x"))
    assert response.status_code == 303
    assert _connections(db) == 0
    # The genuine state still works once: the tampered attempt neither consumed it nor spent the code.
    assert client.get(callback).location == f"/sellers/{seller.id}/connections/ads/profiles"


def test_state_of_another_user_is_refused(app, client, admin, make_user, login, seller_like, db):
    seller = seller_like(0)
    make_user("m@example.com", "marketer", sellers=[seller])
    callback = consent(client, seller.id, "ads")  # started by the admin
    other = app.test_client()
    other.post("/login", data={"email": "m@example.com", "password": "correct horse battery"})
    assert other.get(callback).status_code == 303
    # Same browser, other user: refused too (and the first presentation used the state up).
    client.post("/logout")
    login("m@example.com")
    assert client.get(callback).status_code == 303
    assert _connections(db) == 0


def test_state_for_the_other_api_is_refused(client, admin, seller_like, db):
    seller = seller_like(0)
    callback = consent(client, seller.id, "ads")
    assert client.get(callback.replace("/connections/ads/", "/connections/sp/")).status_code == 303
    assert _connections(db) == 0


def test_state_older_than_its_lifetime_is_refused(app, client, admin, seller_like, db):
    seller = seller_like(0)
    callback = consent(client, seller.id, "ads")
    for key in jobs.connection(app).keys("oauth-state:*"):
        jobs.connection(app).pexpire(key, 1)
    time.sleep(0.01)
    assert client.get(callback).status_code == 303
    assert _connections(db) == 0


def test_state_replayed_with_a_copy_of_the_cookie_saved_before_the_callback_is_refused(app, client, admin,
                                                                                       seller_like, db):
    seller = seller_like(0)
    callback = consent(client, seller.id, "ads")
    saved = client.get_cookie("session").value
    assert client.get(callback).location.endswith("/profiles")
    before = seller.connection("ads").refresh_token_ciphertext
    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get(callback)
    assert response.status_code == 303 and response.location == "/"
    db.session.expire_all()
    assert seller.connection("ads").refresh_token_ciphertext == before
    assert db.session.scalar(select(func.count(ConnectionEvent.id))) == 1


def test_code_used_once_cannot_be_used_again_with_a_new_state(client, admin, seller_like, db):
    seller = seller_like(0)
    first = consent(client, seller.id, "ads")
    assert client.get(first).location.endswith("/profiles")
    before = seller.connection("ads").refresh_token_ciphertext
    code = parse_qs(urlsplit(first).query)["code"][0]
    fresh = consent(client, seller.id, "ads", decision="deny")  # a new, valid state of this session
    state = parse_qs(urlsplit(fresh).query)["state"][0]
    response = client.get(f"/connections/ads/callback?code={code}&scope=advertising::campaign_management&state={state}")
    assert response.location == f"/sellers/{seller.id}"
    assert "Amazon rejected the authorization" in " ".join(flashes(client.get(response.location).get_data(
        as_text=True)))
    db.session.expire_all()
    assert seller.connection("ads").refresh_token_ciphertext == before  # the working token is untouched


def test_expired_code_is_refused(client, admin, seller_like, wall_clock, db):
    seller = seller_like(0)
    callback = consent(client, seller.id, "ads")
    wall_clock.offset = 301  # Amazon's codes live five minutes
    response = client.get(callback)
    assert response.location == f"/sellers/{seller.id}"
    assert _connections(db) == 0
    assert "Amazon rejected the authorization" in " ".join(flashes(client.get(response.location).get_data(
        as_text=True)))


def test_callback_without_a_code_stores_nothing(client, admin, seller_like, db):
    seller = seller_like(0)
    callback = consent(client, seller.id, "ads")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    assert client.get(f"/connections/ads/callback?state={state}").location == f"/sellers/{seller.id}"
    assert _connections(db) == 0
