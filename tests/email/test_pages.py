"""Unsubscribe (one-click POST without login, GET changes nothing), preferences, preview, the admin pages,
the development outbox, and email switched off in production."""

from __future__ import annotations

import re

from marketing.digest import preferences, weekly
from marketing.mail import compose
from marketing.models import EmailPreference
from tests.conftest import _clean
from tests.email.conftest import BASE_CONFIG, PUBLIC_URL, WEEK


def _unsubscribe_link(message) -> str:
    return message["List-Unsubscribe"].strip("<>")


def test_one_click_unsubscribe_without_login_only_that_user_and_list(mail, marketer, make_user, seeded, client, db):
    other = make_user("other@example.com", "marketer", sellers=[seeded])
    weekly.send_to(marketer.id, WEEK)
    link = _unsubscribe_link(mail.parsed())
    assert link.startswith(PUBLIC_URL + "/email/unsubscribe/")
    # a mail scanner following the link changes nothing
    page = client.get(link)
    assert page.status_code == 200
    assert "Stop sending the weekly summary to marketer@example.com?" in page.get_data(as_text=True)
    assert preferences.get(marketer.id).weekly is True
    # RFC 8058: a POST with List-Unsubscribe=One-Click, no session, no CSRF token
    response = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert preferences.get(marketer.id).weekly is False
    assert preferences.get(marketer.id).alerts is True  # token alerts have their own switch
    assert preferences.get(other.id).weekly is True
    # replayed: a clear answer, nothing else changes
    again = client.post(link).get_data(as_text=True)
    assert "was already unsubscribed" in again
    assert weekly.send_to(marketer.id, WEEK.previous()) == "skipped"


def test_unsubscribe_with_csrf_enforced(make_app, marketer):
    app = make_app(**BASE_CONFIG, WTF_CSRF_ENABLED=True)
    with app.app_context():
        link = compose.unsubscribe_url(marketer.id, "alerts")
        assert app.test_client().post(link).status_code == 200
        assert preferences.get(marketer.id).alerts is False


def test_tampered_unsubscribe_links_change_nothing(client, marketer, db):
    token = compose.unsubscribe_token(marketer.id, "weekly")
    forged = compose.unsubscribe_token(marketer.id, "weekly")[:-3] + "abc"
    for bad in (forged, "nonsense", token.replace(token.split(".")[0], "WzIsIndlZWtseSJd")):
        response = client.post(f"/email/unsubscribe/{bad}")
        assert response.status_code == 400
        assert "not valid" in response.get_data(as_text=True)
    db.session.expire_all()
    assert preferences.get(marketer.id).weekly is True


def test_preferences_on_the_account_page(client, login, marketer, seeded, make_seller, db):
    second = make_seller("Second Shop")
    marketer.sellers = [seeded, second]
    db.session.commit()
    login(marketer.email)
    assert "/account/email" in client.get("/account").get_data(as_text=True)
    page = client.get("/account/email").get_data(as_text=True)
    assert "data-browser-timezone" in page and "js/email.js" in page
    response = client.post("/account/email", data={"weekly": "y", "alerts": "y", "weekday": "3", "hour": "7",
                                                   "timezone": "Europe/Berlin", "sellers": [str(second.id)]})
    assert response.status_code == 302
    pref = db.session.get(EmailPreference, marketer.id)
    assert (pref.weekday, pref.hour, pref.timezone, pref.seller_ids) == (3, 7, "Europe/Berlin", [second.id])
    assert [s.name for s in preferences.sellers_for(marketer, pref)] == ["Second Shop"]
    bad = client.post("/account/email", data={"weekday": "9", "hour": "7", "timezone": "Mars/Olympus",
                                              "all_sellers": "y"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "is not a time zone" in text and "Not a valid choice" in text
    db.session.refresh(pref)
    assert pref.timezone == "Europe/Berlin"  # nothing lost


def test_preview_shows_the_html_and_the_plain_part(client, login, marketer):
    login(marketer.email)
    page = client.get(f"/account/email/preview?week={WEEK.label}").get_data(as_text=True)
    assert "246.00 USD" in page and "Plain-text part" in page and WEEK.label in page
    html = client.get(f"/account/email/preview?part=html&week={WEEK.label}")
    assert html.mimetype == "text/html" and "246.00 USD" in html.get_data(as_text=True)
    bad = client.get("/account/email/preview?week=2026-W99")
    assert bad.status_code == 200 and "has no week 99" in bad.get_data(as_text=True)


def test_admin_sees_and_resets_preferences(client, admin, marketer, db):
    row = preferences.stored(marketer.id)
    row.hour, row.timezone = 6, "Asia/Tokyo"
    db.session.commit()
    page = client.get("/admin/email").get_data(as_text=True)
    assert "Asia/Tokyo" in page and "06:00" in page
    assert "/admin/email" in client.get("/admin/jobs").get_data(as_text=True)
    response = client.post(f"/admin/email/users/{marketer.id}/reset")
    assert response.status_code == 302
    assert db.session.get(EmailPreference, marketer.id) is None


def test_marketers_cannot_use_the_admin_pages(client, login, marketer):
    login(marketer.email)
    assert client.get("/admin/email").status_code == 403
    assert client.post(f"/admin/email/users/{marketer.id}/send").status_code == 403


def test_production_without_smtp_host_says_email_is_off_and_stays_healthy(make_app, make_user, runner):
    app = make_app(MARKETING_ENV="production", SMTP_HOST=None, PUBLIC_URL=PUBLIC_URL)
    with app.app_context():
        user = make_user("p@example.com", "marketer")
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        client.post("/login", data={"email": user.email, "password": "correct horse battery"})
        page = client.get("/account/email").get_data(as_text=True)
        assert "Email is off" in page and "SMTP_HOST" in page
        assert weekly.schedule() == 0
        _clean(app)


def test_public_url_is_required_for_email_outside_development(make_app):
    app = make_app(PUBLIC_URL=None, SMTP_HOST="127.0.0.1")
    with app.app_context():
        from marketing.mail import transport

        assert "PUBLIC_URL" in transport.off_reason()
        _clean(app)


def test_unsubscribe_link_in_the_body_opens_a_confirmation_page(mail, marketer):
    weekly.send_to(marketer.id, WEEK)
    html = mail.parsed().get_body(("html",)).get_content()
    body_links = re.findall(r'href="([^"]*/email/unsubscribe/[^"]+)"', html)
    assert body_links == [_unsubscribe_link(mail.parsed())]
