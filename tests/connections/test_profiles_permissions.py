"""The advertising-profile picker, and who may touch connections at all."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketing.models import AuditEvent, Connection, ConnectionEvent


def _connect_ads(client, seller_id, token):
    response = client.post(f"/sellers/{seller_id}/connections/ads/paste", data={"refresh_token": token})
    assert response.location.endswith("/connections/ads/profiles")


def test_agency_profiles_are_listed_but_cannot_be_managed(client, admin, seller_like, sbx, db):
    seller = seller_like(0)  # the sandbox's first seller has an agency profile
    _connect_ads(client, seller.id, sbx.sellers[0].ads_refresh_token)
    by_type = {p["accountInfo"]["type"]: p["profileId"] for p in sbx.sellers[0].profiles}
    agency, own = by_type["agency"], by_type["seller"]

    page = client.get(f"/sellers/{seller.id}/connections/ads/profiles").get_data(as_text=True)
    assert re.search(rf'value="{agency}"[^>]*\bdisabled\b', page) and "not manageable" in page
    assert re.search(rf'value="{own}"[^>]*>', page) and not re.search(rf'value="{own}"[^>]*disabled', page)

    client.post(f"/sellers/{seller.id}/connections/ads/profiles", data={"profile_ids": [str(agency), str(own)]})
    db.session.expire_all()
    managed = {p.profile_id: p.managed for p in seller.connection("ads").profiles}
    assert managed[own] is True and managed[agency] is False
    change = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "connection.profiles_changed"))
    assert change.details["new"] == [str(own)]
    show = client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert show.count("not manageable") == 1


def test_vendor_profiles_are_manageable(client, admin, seller_like, sbx, db):
    seller = seller_like(1)
    _connect_ads(client, seller.id, sbx.sellers[1].ads_refresh_token)
    vendor = next(p["profileId"] for p in sbx.sellers[1].profiles if p["accountInfo"]["type"] == "vendor")
    client.post(f"/sellers/{seller.id}/connections/ads/profiles", data={"profile_ids": [str(vendor)]})
    db.session.expire_all()
    assert [p.profile_id for p in seller.connection("ads").profiles if p.managed] == [vendor]


def test_profiles_page_without_a_connection_is_404(client, admin, seller_like):
    assert client.get(f"/sellers/{seller_like(0).id}/connections/ads/profiles").status_code == 404


def _posts(seller_id):
    return [
        f"/sellers/{seller_id}/connections/ads/authorize",
        f"/sellers/{seller_id}/connections/sp/authorize",
        f"/sellers/{seller_id}/connections/ads/paste",
        f"/sellers/{seller_id}/connections/sp/paste",
        f"/sellers/{seller_id}/connections/ads/profiles",
        f"/sellers/{seller_id}/connections/ads/disconnect",
        f"/sellers/{seller_id}/connections/sp/disconnect",
        f"/sellers/{seller_id}/connections/ads/check",
    ]


@pytest.fixture
def connected_seller(make_user, seller_like, sbx, app, db):
    """A seller with a stored Ads connection (made as an admin, outside any browser session)."""
    from marketing.clock import now
    from marketing.connections import service

    seller = seller_like(0)
    service.store_token(seller, "ads", sbx.sellers[0].ads_refresh_token, authorized_at=now(), actor=None,
                        method="cli")
    db.session.commit()
    return seller


def _unchanged(db, before):
    db.session.expire_all()
    assert db.session.scalar(select(Connection.refresh_token_ciphertext)) == before
    assert db.session.scalar(select(func.count(ConnectionEvent.id))) == 1


def test_viewer_gets_403_on_every_connection_post(client, make_user, login, connected_seller, sbx, db):
    make_user("v@example.com", "viewer", sellers=[connected_seller])
    login("v@example.com")
    before = db.session.scalar(select(Connection.refresh_token_ciphertext))
    for url in _posts(connected_seller.id):
        assert client.post(url, data={"refresh_token": sbx.sellers[0].ads_refresh_token}).status_code == 403, url
    for url in (f"/sellers/{connected_seller.id}/connections/ads/paste",
                f"/sellers/{connected_seller.id}/connections/ads/disconnect"):
        assert client.get(url).status_code == 403, url
    _unchanged(db, before)
    page = client.get(f"/sellers/{connected_seller.id}").get_data(as_text=True)
    assert 'data-state="active"' in page
    assert "/connections/ads/authorize" not in page and "/connections/ads/disconnect" not in page


def test_foreign_and_unknown_sellers_are_404(client, make_user, login, connected_seller, seller_like, sbx, db):
    mine = seller_like(1)
    make_user("m@example.com", "marketer", sellers=[mine])
    login("m@example.com")
    before = db.session.scalar(select(Connection.refresh_token_ciphertext))
    for url in _posts(connected_seller.id) + _posts(9999):
        assert client.post(url, data={"refresh_token": sbx.sellers[0].ads_refresh_token}).status_code == 404, url
    assert client.get(f"/sellers/{connected_seller.id}/connections/history").status_code == 404
    _unchanged(db, before)


def test_assigned_marketer_may_connect_and_disconnect(client, make_user, login, seller_like, sbx, db):
    seller = seller_like(1)
    make_user("m@example.com", "marketer", sellers=[seller])
    login("m@example.com")
    client.post(f"/sellers/{seller.id}/connections/sp/paste", data={"refresh_token": sbx.sellers[1].sp_refresh_token})
    assert seller.connection("sp").connected
    client.post(f"/sellers/{seller.id}/connections/sp/disconnect")
    assert [e.actor_email for e in db.session.scalars(select(ConnectionEvent))] == ["m@example.com"] * 2


def test_unknown_api_is_404(client, admin, seller_like):
    seller = seller_like(0)
    assert client.post(f"/sellers/{seller.id}/connections/mws/authorize").status_code == 404
    assert client.get("/connections/mws/callback?state=x").status_code == 404


def test_a_profile_amazon_no_longer_lists_is_kept_but_no_longer_accessible(client, admin, seller_like, sbx, db):
    from marketing.connections import service
    from marketing.models import AdsProfile
    from marketing.sync import runs

    seller = seller_like(0)
    _connect_ads(client, seller.id, sbx.sellers[0].ads_refresh_token)
    connection = seller.connection("ads")
    own = next(p for p in connection.profiles if p.account_type == "seller")
    gone = AdsProfile(profile_id=999000111, country_code=own.country_code, currency_code=own.currency_code,
                      timezone=own.timezone, marketplace_id=own.marketplace_id, account_type="seller", managed=True)
    connection.profiles.append(gone)  # managed under an earlier authorization; this one does not list it
    own.managed = True
    db.session.commit()
    service.refresh_profiles(connection, manage_new=False)
    db.session.commit()
    db.session.expire_all()
    gone = db.session.scalar(select(AdsProfile).where(AdsProfile.profile_id == 999000111))
    assert gone is not None and not gone.accessible and not gone.managed and not gone.manageable
    assert 999000111 not in {p.profile_id for p in runs.managed_profiles(seller)}  # never synced
    assert own.profile_id in {p.profile_id for p in runs.managed_profiles(seller)}
    page = client.get(f"/sellers/{seller.id}/connections/ads/profiles").get_data(as_text=True)
    assert re.search(r'value="999000111"[^>]*\bdisabled\b', page) and "no longer accessible" in page
