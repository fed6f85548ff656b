"""Renew, disconnect and delete: history rows, audit entries, and what is (not) kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text

from marketing.clock import today
from marketing.models import AuditEvent, Connection, ConnectionEvent, Seller
from tests.connections.conftest import consent


def _paste(client, seller_id, api, token, day=None):
    data = {"refresh_token": token, **({"authorized_on": day.isoformat()} if day else {})}
    return client.post(f"/sellers/{seller_id}/connections/{api}/paste", data=data)


def _events(db):
    return db.session.scalars(select(ConnectionEvent).order_by(ConnectionEvent.id)).all()


def _audit(db, prefix="connection."):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action.like(prefix + "%"))
                              .order_by(AuditEvent.id)).all()


def test_renew_replaces_the_token_resets_authorized_at_and_keeps_history(client, admin, seller_like, sbx, db):
    seller = seller_like(1)
    first = sbx.sellers[1].sp_refresh_token
    _paste(client, seller.id, "sp", first, today() - dt.timedelta(days=350))
    old = seller.connection("sp").refresh_token_ciphertext
    assert seller.connection("sp").expires_at.date() == today() + dt.timedelta(days=15)

    assert client.get(consent(client, seller.id, "sp", sandbox_seller=1)).status_code == 302  # Renew via consent
    db.session.expire_all()
    connection = seller.connection("sp")
    assert connection.refresh_token_ciphertext != old and connection.token_last4 != first[-4:]
    assert connection.authorized_at.date() == dt.datetime.now(dt.UTC).date()
    assert connection.expires_at.date() == connection.authorized_at.date() + dt.timedelta(days=365)

    kinds = [(e.kind, e.method, e.token_last4) for e in _events(db)]
    assert kinds == [("connected", "pasted", first[-4:]), ("renewed", "oauth", connection.token_last4)]
    assert [a.action for a in _audit(db)] == ["connection.connected", "connection.renewed"]
    renewed = _audit(db)[-1]
    assert renewed.actor_email == "admin@example.com"
    assert renewed.details["token_last4"] == connection.token_last4 and renewed.details["method"] == "oauth"

    page = client.get(f"/sellers/{seller.id}/connections/history").get_data(as_text=True)
    assert f"…{first[-4:]}" in page and f"…{connection.token_last4}" in page and "renewed" in page


def test_renew_clears_a_revocation(client, admin, seller_like, sbx, fresh_token, db):
    seller = seller_like(0)
    token = fresh_token("ads", 0)
    _paste(client, seller.id, "ads", token)
    sbx.admin.revoke(token)
    client.post(f"/sellers/{seller.id}/connections/ads/check")
    assert 'data-api="ads" data-state="revoked"' in client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    _paste(client, seller.id, "ads", sbx.sellers[0].ads_refresh_token)
    assert 'data-api="ads" data-state="active"' in client.get(f"/sellers/{seller.id}").get_data(as_text=True)


def test_disconnect_asks_first_then_erases_the_ciphertext_and_keeps_history(client, admin, seller_like, sbx, db):
    seller = seller_like(0)
    _paste(client, seller.id, "ads", sbx.sellers[0].ads_refresh_token)
    confirm = client.get(f"/sellers/{seller.id}/connections/ads/disconnect")
    assert confirm.status_code == 200 and b"Disconnect Amazon Ads from" in confirm.data
    assert seller.connection("ads").connected  # a GET changes nothing

    response = client.post(f"/sellers/{seller.id}/connections/ads/disconnect")
    assert response.location == f"/sellers/{seller.id}"
    raw = db.session.execute(text("SELECT refresh_token_ciphertext FROM connections")).scalar_one()
    assert raw is None
    assert [e.kind for e in _events(db)] == ["connected", "disconnected"]
    assert [a.action for a in _audit(db)] == ["connection.connected", "connection.disconnected"]
    assert not any(p.managed for p in seller.connection("ads").profiles)
    assert 'data-api="ads" data-state="not_connected"' in client.get(f"/sellers/{seller.id}").get_data(as_text=True)

    again = client.post(f"/sellers/{seller.id}/connections/ads/disconnect")
    assert again.status_code == 302 and len(_events(db)) == 2  # nothing to disconnect, nothing recorded


def test_connect_after_disconnect_is_a_new_connection_not_a_renewal(client, admin, seller_like, sbx, db):
    seller = seller_like(0)
    _paste(client, seller.id, "ads", sbx.sellers[0].ads_refresh_token)
    client.post(f"/sellers/{seller.id}/connections/ads/disconnect")
    _paste(client, seller.id, "ads", sbx.sellers[0].ads_refresh_token)
    assert [e.kind for e in _events(db)] == ["connected", "disconnected", "connected"]
    assert db.session.scalar(select(func.count(Connection.id))) == 1


def test_admin_deletes_a_seller_only_with_its_name_typed(client, admin, seller_like, sbx, db):
    seller = seller_like(0)
    seller_id = seller.id
    _paste(client, seller_id, "ads", sbx.sellers[0].ads_refresh_token)
    wrong = client.post(f"/sellers/{seller_id}/delete", data={"confirm_name": "nope"})
    assert wrong.status_code == 400 and db.session.get(Seller, seller_id) is not None
    done = client.post(f"/sellers/{seller_id}/delete", data={"confirm_name": sbx.sellers[0].name})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Seller, seller_id) is None
    assert db.session.scalar(select(func.count(Connection.id))) == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "seller.deleted")) is not None


def test_marketer_may_not_delete_a_seller(client, make_user, login, seller_like, db):
    seller = seller_like(0)
    make_user("m@example.com", "marketer", sellers=[seller])
    login("m@example.com")
    assert client.post(f"/sellers/{seller.id}/delete", data={"confirm_name": seller.name}).status_code == 403
    assert db.session.get(Seller, seller.id) is not None
