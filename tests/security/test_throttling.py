"""Login throttling protects an account without letting anyone lock its owner out."""

from __future__ import annotations

import time

import pytest

from marketing import jobs
from marketing.security import throttle
from tests.conftest import PASSWORD

pytestmark = pytest.mark.sqlite

A, B = "10.0.0.1", "10.0.0.2"


def _attempt(client, email, password="wrong wrong wrong", address=A):  # noqa: S107 - wrong on purpose
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def throttled_app(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        make_user("victim@example.com")
        make_user("admin@example.com", "admin")
    return app


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(throttled_app):
    attacker, owner = throttled_app.test_client(), throttled_app.test_client()
    assert [_attempt(attacker, "victim@example.com").status_code for _ in range(5)] == [401] * 5
    assert _attempt(attacker, "victim@example.com").status_code == 429
    # the attacking address is refused even with the right password; the owner's address gets in
    assert _attempt(attacker, "victim@example.com", PASSWORD).status_code == 429
    assert _attempt(owner, "victim@example.com", PASSWORD, address=B).status_code == 302


def test_an_address_failing_for_many_emails_is_limited_on_its_own(throttled_app):
    client = throttled_app.test_client()
    assert {_attempt(client, f"nobody{i}@example.com").status_code for i in range(20)} == {401}
    assert _attempt(client, "victim@example.com", PASSWORD).status_code == 429
    assert _attempt(client, "victim@example.com", PASSWORD, address=B).status_code == 302


def test_an_account_attacked_from_many_addresses_is_slowed_not_locked(throttled_app, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_DELAY_SECONDS", 0.2)
    client = throttled_app.test_client()
    for i in range(throttle.SLOW_AFTER):
        assert _attempt(client, "victim@example.com", address=f"10.1.0.{i}").status_code == 401
    redis = jobs.connection(throttled_app)
    assert throttle.delay(redis, "victim@example.com") == pytest.approx(0.2)
    assert throttle.delay(redis, "admin@example.com") == 0
    # an admin sees it
    admin = throttled_app.test_client()
    assert admin.post("/login", data={"email": "admin@example.com", "password": PASSWORD}).status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    slowed = page[page.index('id="slowed-logins"'):]
    assert "victim@example.com" in slowed[:slowed.index("</section>")]
    # the owner, from an address without failures, waits a moment and gets in; that ends the slowdown
    started = time.monotonic()
    assert _attempt(client, "victim@example.com", PASSWORD, address="10.2.0.1").status_code == 302
    assert time.monotonic() - started >= 0.2
    assert throttle.delay(redis, "victim@example.com") == 0
    assert 'id="slowed-logins"' not in admin.get("/admin/users").get_data(as_text=True)


def test_the_delay_grows_with_failures_and_is_capped():
    class Redis:
        def __init__(self, failures):
            self.failures = failures

        def get(self, key):
            return str(self.failures).encode()

    delays = [throttle.delay(Redis(failures), "x@example.com")
              for failures in (throttle.SLOW_AFTER - 1, throttle.SLOW_AFTER, throttle.SLOW_AFTER + 1, 100)]
    assert delays[0] == 0 and 0 < delays[1] < delays[2] <= delays[3] == throttle.MAX_DELAY_SECONDS
