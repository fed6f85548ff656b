"""Pasting a refresh token (self-authorized private apps): proven by a real exchange before it is saved."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import func, select

from marketing.clock import today
from marketing.models import Connection, ConnectionEvent
from tests.connections.conftest import flashes


def paste(client, seller_id, api, token, authorized_on=None):
    data = {"refresh_token": token}
    if authorized_on is not None:
        data["authorized_on"] = authorized_on
    return client.post(f"/sellers/{seller_id}/connections/{api}/paste", data=data)


def stored(db) -> int:
    return db.session.scalar(select(func.count(Connection.id)))


def test_paste_form_defaults_the_date_to_today(client, admin, seller_like):
    page = client.get(f"/sellers/{seller_like(0).id}/connections/sp/paste").get_data(as_text=True)
    assert f'name="authorized_on" value="{today().isoformat()}"' in page


def test_whitespace_wrapped_valid_token_is_accepted(client, admin, seller_like, sbx, db):
    seller = seller_like(1)
    token = sbx.sellers[1].sp_refresh_token
    response = paste(client, seller.id, "sp", f"\n  {token}\t \r\n")
    assert response.location == f"/sellers/{seller.id}"
    connection = seller.connection("sp")
    assert connection.connected and connection.token_last4 == token[-4:]
    assert connection.authorized_at.date() == dt.datetime.now(dt.UTC).date()
    event = db.session.scalar(select(ConnectionEvent))
    assert (event.kind, event.method, event.token_last4) == ("connected", "pasted", token[-4:])


@pytest.mark.sqlite
def test_pasted_date_sets_authorized_at_and_the_365_day_expiry(client, admin, seller_like, sbx):
    seller = seller_like(1)
    day = today() - dt.timedelta(days=340)
    paste(client, seller.id, "sp", sbx.sellers[1].sp_refresh_token, day.isoformat())
    connection = seller.connection("sp")
    assert connection.authorized_at.date() == day
    assert connection.expires_at.date() == day + dt.timedelta(days=365)
    page = client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert 'data-api="sp" data-state="expiring"' in page
    left = (connection.expires_at - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    assert 24.5 <= left <= 25.5  # authorized at noon UTC of that day; "now" is any time of today
    assert f"Expires in {math.ceil(left)} days ({connection.expires_at:%Y-%m-%d})" in page


def test_pasted_ads_token_goes_on_to_the_profile_picker(client, admin, seller_like, sbx):
    seller = seller_like(0)
    response = paste(client, seller.id, "ads", sbx.sellers[0].ads_refresh_token)
    assert response.location == f"/sellers/{seller.id}/connections/ads/profiles"
    assert len(seller.connection("ads").profiles) == len(sbx.sellers[0].profiles)


@pytest.mark.parametrize(("token", "message"), [
    ("", "Paste the refresh token."),
    ("hello world", "not a Login with Amazon refresh token"),
    ("Atzr|abc def ghi jkl mno pqr stu", "not a Login with Amazon refresh token"),
    ("Atza|IwEBIaccesstokennotarefreshtoken", "not a Login with Amazon refresh token"),
    ("amzn.mws.4ea38b7b-f563-7709-4bae-87aeaEXAMPLE", "MWS auth token"),
    ("4ea38b7b-f563-7709-4bae-87aea15c0d4e", "MWS auth token"),
])
def test_garbage_is_refused_with_a_clear_message_and_nothing_stored(client, admin, seller_like, db, token, message):
    seller = seller_like(0)
    response = paste(client, seller.id, "ads", token)
    assert response.status_code == 400
    assert message in " ".join(flashes(response.get_data(as_text=True)))
    assert stored(db) == 0


def test_token_with_inner_line_break_is_refused(client, admin, seller_like, sbx, db):
    token = sbx.sellers[0].ads_refresh_token
    response = paste(client, seller_like(0).id, "ads", token[:20] + "\n" + token[20:])
    assert response.status_code == 400 and stored(db) == 0


def test_a_revoked_token_is_refused_and_nothing_is_stored(client, admin, seller_like, sbx, fresh_token, db):
    token = fresh_token("ads", 0)
    sbx.admin.revoke(token)
    response = paste(client, seller_like(0).id, "ads", token)
    assert response.status_code == 400
    assert "Amazon rejected the authorization" in " ".join(flashes(response.get_data(as_text=True)))
    assert stored(db) == 0 and db.session.scalar(select(func.count(ConnectionEvent.id))) == 0


def test_a_token_of_the_other_api_is_refused(client, admin, seller_like, sbx, db):
    response = paste(client, seller_like(0).id, "sp", sbx.sellers[0].ads_refresh_token)
    assert response.status_code == 400 and stored(db) == 0


def test_a_failed_renewal_leaves_the_old_token_untouched(client, admin, seller_like, sbx, fresh_token, db):
    seller = seller_like(0)
    paste(client, seller.id, "ads", sbx.sellers[0].ads_refresh_token)
    before = db.session.execute(select(Connection.refresh_token_ciphertext, Connection.authorized_at,
                                       Connection.token_last4)).one()
    revoked = fresh_token("ads", 0)
    sbx.admin.revoke(revoked)
    for bad in ("garbage", revoked):
        assert paste(client, seller.id, "ads", bad).status_code == 400
    db.session.expire_all()
    after = db.session.execute(select(Connection.refresh_token_ciphertext, Connection.authorized_at,
                                      Connection.token_last4)).one()
    assert after == before
    assert db.session.scalar(select(func.count(ConnectionEvent.id))) == 1


@pytest.mark.parametrize(("day", "message"), [
    ((today() + dt.timedelta(days=1)).isoformat(), "authorization date"),
    ((today() - dt.timedelta(days=366)).isoformat(), "authorization date"),
    ("01/02/2026", "YYYY-MM-DD"),
])
def test_impossible_dates_are_refused(client, admin, seller_like, sbx, db, day, message):
    response = paste(client, seller_like(1).id, "sp", sbx.sellers[1].sp_refresh_token, day)
    assert response.status_code == 400
    assert message in " ".join(flashes(response.get_data(as_text=True)))
    assert stored(db) == 0


def test_wrong_app_credentials_are_not_blamed_on_the_seller(make_app, sbx, client, admin, seller_like, db, app):
    app.config["AMAZON_SP_CLIENT_SECRET"] = "amzn1.oa2-cs.v1.not-our-secret"
    response = paste(client, seller_like(1).id, "sp", sbx.sellers[1].sp_refresh_token)
    assert response.status_code == 400
    message = " ".join(flashes(response.get_data(as_text=True)))
    assert "this deployment's own app credentials (invalid_client)" in message
    assert stored(db) == 0


def test_missing_app_credentials_give_a_clear_message(client, admin, seller_like, sbx, db, app):
    app.config["AMAZON_ADS_CLIENT_ID"] = None
    response = paste(client, seller_like(0).id, "ads", sbx.sellers[0].ads_refresh_token)
    assert response.status_code == 400
    assert "AMAZON_ADS_CLIENT_ID and AMAZON_ADS_CLIENT_SECRET must be set" in " ".join(
        flashes(response.get_data(as_text=True)))
    assert stored(db) == 0
