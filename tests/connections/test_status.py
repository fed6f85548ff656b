"""Status derivation (pure): active · expiring · expired · revoked · not_connected, and degraded on top."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from marketing.connections.status import derive

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def connection(**fields):
    base = {"connected": True, "expires_at": None, "revoked_at": None, "last_success_at": NOW - dt.timedelta(hours=1),
            "last_error_code": None, "last_error_message": None, "last_error_at": None, "error_transient": False,
            "token_last4": "wxyz"}
    return SimpleNamespace(**{**base, **fields})


def days(n: float) -> dt.datetime:
    return NOW + dt.timedelta(days=n)


def test_no_connection_or_erased_token_is_not_connected():
    assert derive(None, NOW, 30).state == "not_connected"
    assert derive(connection(connected=False, expires_at=days(100)), NOW, 30).state == "not_connected"


def test_without_expiry_a_token_stays_active():
    status = derive(connection(), NOW, 30)
    assert (status.state, status.days_left, status.expires_at, status.usable) == ("active", None, None, True)
    assert status.token_last4 == "wxyz"


@pytest.mark.parametrize(("left", "warning", "state", "days_left"), [
    (31, 30, "active", 31),
    (30, 30, "expiring", 30),
    (29.5, 30, "expiring", 30),  # part of a day counts as a day
    (14, 7, "active", 14),
    (7, 7, "expiring", 7),
    (0.01, 30, "expiring", 1),
    (0, 30, "expired", 0),
    (-3, 30, "expired", -3),
])
def test_expiry_window_follows_the_warning_setting(left, warning, state, days_left):
    status = derive(connection(expires_at=days(left)), NOW, warning)
    assert (status.state, status.days_left) == (state, days_left)
    assert status.usable is (state in ("active", "expiring"))
    assert status.needs_attention is (state != "active")


def test_revocation_wins_over_the_expiry_countdown():
    status = derive(connection(expires_at=days(200), revoked_at=NOW - dt.timedelta(minutes=5),
                               last_error_code="invalid_grant", last_error_at=NOW), NOW, 30)
    assert status.state == "revoked" and not status.usable and status.needs_attention
    assert not status.degraded


def test_a_token_that_expired_before_amazon_refused_it_is_expired_not_revoked():
    # Amazon answers invalid_grant once an authorization has expired; that is expiry, not a revocation.
    status = derive(connection(expires_at=days(-2), revoked_at=days(-1), last_error_code="invalid_grant",
                               last_error_at=days(-1)), NOW, 30)
    assert status.state == "expired"


def test_a_transient_failure_after_the_last_success_degrades_without_changing_state():
    status = derive(connection(expires_at=days(100), error_transient=True, last_error_code="server_error",
                               last_error_message="Login with Amazon refused the request", last_error_at=NOW), NOW, 30)
    assert (status.state, status.degraded) == ("active", True)
    assert status.last_error_message == "Login with Amazon refused the request"
    assert status.needs_attention


def test_a_success_after_the_transient_failure_clears_degraded():
    status = derive(connection(error_transient=True, last_error_code="server_error",
                               last_error_at=NOW - dt.timedelta(hours=2), last_success_at=NOW), NOW, 30)
    assert status.degraded is False


def test_a_permanent_error_is_not_degraded():
    status = derive(connection(error_transient=False, last_error_code="invalid_request", last_error_at=NOW), NOW, 30)
    assert status.degraded is False and status.state == "active"
