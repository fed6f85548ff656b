"""The issue's done-when, end to end: the demo's unconnected seller is connected through the sandbox's consent
pages by an admin, its revocation is caught by the daily check, and key rotation keeps every connection working."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from flask.cli import ScriptInfo
from sqlalchemy import select

from marketing import demo
from marketing.models import Notice, Seller, User
from tests.connections.conftest import amazon_config, consent

pytestmark = pytest.mark.sqlite


def _cli(app, *args):
    from marketing.cli import cli

    result = app.test_cli_runner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


def test_done_when(app, client, sbx, db, make_app):
    password = dict(demo.seed(app))["admin@example.com"]
    names = demo.seed_sandbox_sellers(app, sbx.admin.accounts())
    assert len(names) == 3
    sellers = {s.name: s for s in db.session.scalars(select(Seller))}
    unconnected = sellers[names[2]]
    assert unconnected.connection("ads") is None and unconnected.connection("sp") is None

    # An admin connects it through the consent pages (signed in at Amazon as that seller).
    client.post("/login", data={"email": "admin@example.com", "password": password})
    assert client.get(consent(client, unconnected.id, "ads", sandbox_seller=2)).status_code == 302
    assert client.get(consent(client, unconnected.id, "sp", sandbox_seller=2)).status_code == 302
    page = client.get(f"/sellers/{unconnected.id}").get_data(as_text=True)
    sp = unconnected.connection("sp")
    assert 'data-api="ads" data-state="active"' in page and 'data-api="sp" data-state="active"' in page
    assert f"Expires in 365 days ({sp.expires_at:%Y-%m-%d})" in page

    # The seller revokes our Ads access at Amazon; the daily check notices and tells its marketers.
    from marketing.connections.clients import vault

    sbx.admin.revoke(vault().decrypt(unconnected.connection("ads").refresh_token_ciphertext))
    assert "1 revoked" in _cli(app, "tokens", "check")
    client.post("/logout")
    client.post("/login", data={"email": "marketer@example.com", "password": password})
    page = client.get(f"/sellers/{unconnected.id}").get_data(as_text=True)
    assert 'data-api="ads" data-state="revoked"' in page and 'data-api="sp" data-state="active"' in page
    notices = client.get("/notices").get_data(as_text=True)
    assert f"{unconnected.name}: the Amazon Ads authorization was revoked" in notices
    revoked = db.session.scalars(select(Notice.user_id).where(Notice.seller_id == unconnected.id)).all()
    assert sorted(revoked) == sorted(u.id for u in db.session.scalars(
        select(User).where(User.email.in_(["admin@example.com", "marketer@example.com"]))))  # once each
    assert "0 notices" in _cli(app, "tokens", "check")

    # Key rotation: every connection keeps working with only the new key.
    new_key = Fernet.generate_key().decode()
    both = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(new_key, *app.config["TOKEN_ENCRYPTION_KEYS"]))
    with both.app_context():
        assert "re-encrypted 6 stored token(s)" in _cli(both, "tokens", "rotate-key")
    only_new = make_app(**amazon_config(sbx), TOKEN_ENCRYPTION_KEYS=(new_key,))
    with only_new.app_context():
        assert _cli(only_new, "tokens", "check").strip() == "checked 6: 4 active, 1 expiring, 1 revoked; 0 notices"
