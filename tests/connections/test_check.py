"""The daily check: statuses, in-app notices (each once), app-level alerts, degraded on transient failures."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from marketing import settings_registry
from marketing.clock import now, today
from marketing.connections import clients, service
from marketing.connections.check import check_all
from marketing.models import AppAlert, Connection, ConnectionEvent, Notice
from tests.connections.conftest import flashes


@pytest.fixture
def team(make_user, seller_like):
    """A seller with an assigned marketer and viewer, an admin, and a marketer of another seller."""
    seller = seller_like(1)
    other = seller_like(2)
    users = {
        "admin": make_user("admin@example.com", "admin"),
        "marketer": make_user("m@example.com", "marketer", sellers=[seller]),
        "viewer": make_user("v@example.com", "viewer", sellers=[seller]),
        "stranger": make_user("s@example.com", "marketer", sellers=[other]),
    }
    return seller, users


def connect(db, seller, api, token, *, days_ago=0):
    connection = service.store_token(seller, api, token, authorized_at=now() - dt.timedelta(days=days_ago),
                                     actor=None, method="cli")
    db.session.commit()
    return connection


def notices_of(db, user):
    return db.session.scalars(select(Notice).where(Notice.user_id == user.id).order_by(Notice.id)).all()


def history(db):
    return db.session.scalars(select(ConnectionEvent.kind).order_by(ConnectionEvent.id)).all()


@pytest.mark.sqlite
def test_expiry_notices_at_30_14_7_1_days_each_once(team, db, sbx):
    seller, users = team
    connection = connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token, days_ago=300)  # 65 days left
    assert check_all().notices == 0
    sent = []
    for days_left in (30, 29, 20, 14, 8, 7, 1, 1):
        connection.expires_at = now() + dt.timedelta(days=days_left, hours=-1)
        db.session.commit()
        summary = check_all()
        sent.append(summary.notices)
        assert summary.states == {"expiring": 1}
    # Two recipients (the admin and the assigned marketer) per threshold; never the viewer or a stranger.
    assert sent == [2, 0, 0, 2, 0, 2, 2, 0]
    messages = [n.message for n in notices_of(db, users["marketer"])]
    assert len(messages) == 4 and "expires in 30 days" in messages[0] and "expires in 1 day " in messages[3]
    assert [n.dedupe_key for n in notices_of(db, users["admin"])] == [n.dedupe_key for n in notices_of(
        db, users["marketer"])]
    assert notices_of(db, users["viewer"]) == [] and notices_of(db, users["stranger"]) == []


def test_the_warning_window_is_the_audited_setting(team, db, sbx, client, login):
    seller, users = team
    connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token, days_ago=320)  # 45 days left
    login("admin@example.com")
    assert 'data-api="sp" data-state="active"' in client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    settings_registry.set_value("token_expiry_warning_days", "60", actor=users["admin"])
    db.session.commit()
    assert 'data-api="sp" data-state="expiring"' in client.get(f"/sellers/{seller.id}").get_data(as_text=True)


def test_ads_tokens_expire_only_when_the_lifetime_setting_is_set(team, db, sbx):
    seller, users = team
    existing = connect(db, seller, "ads", sbx.sellers[1].ads_refresh_token, days_ago=350)
    assert existing.expires_at is None
    settings_registry.set_value("ads_authorization_days", "365", actor=users["admin"])
    db.session.commit()
    # the authorization already stored follows the new lifetime: 15 days left, so it warns
    assert (db.session.get(Connection, existing.id).expires_at - existing.authorized_at).days == 365
    assert check_all().states == {"expiring": 1}
    connection = connect(db, seller, "ads", sbx.sellers[1].ads_refresh_token, days_ago=10)
    assert (connection.expires_at - connection.authorized_at).days == 365
    settings_registry.set_value("ads_authorization_days", "", actor=users["admin"])  # Amazon backs off
    db.session.commit()
    assert db.session.get(Connection, connection.id).expires_at is None


@pytest.mark.sqlite
def test_expired_notice_once_and_a_renewal_starts_a_new_countdown(team, db, sbx):
    seller, users = team
    connection = connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token, days_ago=366)
    assert check_all().states == {"expired": 1}
    assert check_all().notices == 0
    expired = notices_of(db, users["marketer"])
    assert len(expired) == 1 and expired[0].level == "error" and "expired on" in expired[0].message
    connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token, days_ago=350)  # renewed
    assert db.session.get(Connection, connection.id).expires_at > now()
    assert check_all().notices == 2  # the 30-day threshold of the new authorization


def test_revocation_turns_revoked_and_notifies_once(team, db, sbx, fresh_token, client, login):
    seller, users = team
    token = fresh_token("ads", 1)
    connect(db, seller, "ads", token)
    assert check_all().states == {"active": 1}
    sbx.admin.revoke(token)
    first = check_all()
    assert first.states == {"revoked": 1} and first.notices == 2
    assert check_all().notices == 0
    [notice] = notices_of(db, users["marketer"])
    assert notice.level == "error" and "revoked" in notice.message and notice.seller_id == seller.id
    login("m@example.com")
    page = client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert 'data-api="ads" data-state="revoked"' in page and "invalid_grant" in page
    assert "no longer being updated" in page
    assert "revoked" in client.get("/notices").get_data(as_text=True)


def test_a_revoked_token_amazon_accepts_again_is_no_longer_revoked(team, db, sbx, fresh_token, client, login):
    seller, users = team
    token = fresh_token("ads", 1)
    connection = connect(db, seller, "ads", token)
    sbx.admin.revoke(token)
    assert check_all().states == {"revoked": 1}
    sbx.admin.unrevoke(token)  # the invalid_grant was spurious: the stored token works again

    assert check_all().states == {"active": 1}
    assert db.session.get(Connection, connection.id).revoked_at is None
    assert history(db) == ["connected", "revoked", "restored"]
    revoked, restored = notices_of(db, users["marketer"])
    assert "revoked" in revoked.message and restored.level == "info" and "accepts" in restored.message
    assert [n.message for n in notices_of(db, users["admin"])] == [revoked.message, restored.message]
    assert notices_of(db, users["viewer"]) == [] and notices_of(db, users["stranger"]) == []
    check_all()
    assert db.session.scalar(select(func.count(Notice.id))) == 4  # each notice once
    login("m@example.com")
    page = client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert 'data-api="ads" data-state="active"' in page and "no longer being updated" not in page

    sbx.admin.revoke(token)  # a later revocation is a new one, notified again
    again = check_all()
    assert again.states == {"revoked": 1} and again.notices == 2
    assert history(db) == ["connected", "revoked", "restored", "revoked"]


def test_only_an_exchange_of_the_stored_token_lifts_a_revocation(team, db, sbx, fresh_token):
    seller, _ = team
    replaced, stored = fresh_token("ads", 1), fresh_token("ads", 1)
    connection = connect(db, seller, "ads", replaced)
    with clients.http_client() as http:
        stale = clients.token_source(connection, http)  # a job still holding the token a renewal replaced
        connect(db, seller, "ads", stored)
        sbx.admin.revoke(stored)
        assert check_all().states == {"revoked": 1}
        stale.invalidate()
        stale.get()  # Amazon still accepts the replaced token: that says nothing of the stored one
    db.session.commit()
    assert service.token_status(db.session.get(Connection, connection.id)).state == "revoked"


def test_expiry_is_written_to_the_history_once_per_authorization(team, db, sbx):
    seller, _ = team
    connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token, days_ago=366)
    check_all()
    check_all()
    assert history(db) == ["connected", "expired"]
    connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token, days_ago=370)  # renewed, with an old date
    check_all()
    assert history(db) == ["connected", "expired", "renewed", "expired"]
    expired = db.session.scalars(select(ConnectionEvent).where(ConnectionEvent.kind == "expired")).all()
    assert [e.actor_id for e in expired] == [None, None] and expired[1].authorized_at < expired[0].authorized_at


@pytest.mark.sqlite
def test_revocation_notice_stays_once_when_the_database_speaks_another_time_zone(team, db, sbx, fresh_token):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("session time zones are a PostgreSQL matter")
    seller, _ = team
    token = fresh_token("sp", 1)
    connect(db, seller, "sp", token)
    sbx.admin.revoke(token)
    assert check_all().notices == 2
    db.session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))  # timestamps now come back as +09:00
    db.session.expire_all()
    assert check_all().notices == 0


def test_one_failing_connection_does_not_stop_the_others(team, db, sbx, app):
    seller, _ = team
    connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token)
    connect(db, seller, "ads", sbx.sellers[1].ads_refresh_token)
    app.config["AMAZON_SP_CLIENT_ID"] = None  # SP-API not configured in this deployment
    summary = check_all()
    assert summary.checked == 1 and summary.states == {"active": 1}
    assert len(summary.errors) == 1 and "AMAZON_SP_CLIENT_ID" in summary.errors[0]


def test_the_daily_tick_runs_the_check_as_a_job(team, db, sbx, fresh_token, queue):
    from marketing.jobs import tick

    seller, users = team
    token = fresh_token("ads", 1)
    connect(db, seller, "ads", token)
    sbx.admin.revoke(token)
    slot = dt.datetime.combine(today(), dt.time(5, 0), tzinfo=dt.UTC)  # the token check's daily slot
    assert "token-check" in tick.tick(slot.isoformat())
    queue.work("sync")
    assert db.session.scalar(select(func.count(Notice.id))) == 2
    assert db.session.scalar(select(Connection.revoked_at)) is not None


def test_invalid_client_raises_an_admin_banner_and_leaves_the_status_alone(team, db, sbx, app, client, login):
    seller, users = team
    connect(db, seller, "ads", sbx.sellers[1].ads_refresh_token)
    new_secret = sbx.admin.rotate_secret("ads")  # rotated at Amazon, not yet in our deployment
    summary = check_all()
    assert summary.states == {"active": 1} and summary.notices == 0
    row = db.session.execute(select(Connection.revoked_at, Connection.last_error_code)).one()
    assert tuple(row) == (None, None)  # never blamed on the seller

    login("admin@example.com")
    page = client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert 'data-key="invalid-client-ads"' in page and "invalid_client" in page
    assert 'data-api="ads" data-state="active"' in page
    client.post("/logout")
    login("m@example.com")
    assert 'data-key="invalid-client-ads"' not in client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Notice.id))) == 0

    app.config["AMAZON_ADS_CLIENT_SECRET"] = new_secret  # the deployment is fixed
    check_all()
    assert db.session.scalar(select(AppAlert.cleared_at)) is not None


def test_check_now_with_bad_app_credentials_says_it_is_our_problem(team, db, sbx, app, client, login):
    seller, _ = team
    connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token)
    app.config["AMAZON_SP_CLIENT_SECRET"] = "amzn1.oa2-cs.v1.wrong"
    login("admin@example.com")
    page = client.post(f"/sellers/{seller.id}/connections/sp/check", follow_redirects=True).get_data(as_text=True)
    [message] = flashes(page)
    assert "app credentials (invalid_client)" in message and "Active" not in message
    assert 'data-api="sp" data-state="active"' in page


def test_transient_failure_degrades_with_its_message_until_the_next_success(team, db, sbx, client, login):
    seller, _ = team
    connect(db, seller, "sp", sbx.sellers[1].sp_refresh_token)
    sbx.admin.fault("error", status=503, path_prefix="/auth/o2/token")
    summary = check_all()
    assert summary.states == {"active": 1} and summary.notices == 0
    login("m@example.com")
    page = client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert 'data-api="sp" data-state="active"' in page and "Active · degraded" in page
    assert "temporarily_unavailable" in page and "The server is temporarily unavailable" in page

    sbx.admin.clear_faults()
    client.post(f"/sellers/{seller.id}/connections/sp/check")
    page = client.get(f"/sellers/{seller.id}").get_data(as_text=True)
    assert "degraded" not in page and 'data-api="sp" data-state="active"' in page


def test_secret_rotation_banner_before_the_180_days_are_up(team, db, client, login):
    _, users = team
    login("admin@example.com")
    settings_registry.set_value("sp_client_secret_rotated_on", (today() - dt.timedelta(days=100)).isoformat(),
                                actor=users["admin"])
    db.session.commit()
    assert 'data-key="rotate-sp"' not in client.get("/").get_data(as_text=True)
    settings_registry.set_value("sp_client_secret_rotated_on", (today() - dt.timedelta(days=160)).isoformat(),
                                actor=users["admin"])
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    due = (today() + dt.timedelta(days=20)).isoformat()
    assert 'data-key="rotate-sp"' in page and f"due for rotation in 20 days ({due})" in page
    client.post("/logout")
    login("m@example.com")
    assert 'data-key="rotate-sp"' not in client.get("/").get_data(as_text=True)
