"""Development without SMTP_HOST: mail goes to the outbox in the instance folder, which admins read in the app;
the demo queues last week's summaries into it once its first sync is in."""

from __future__ import annotations

import shutil

import pytest

from marketing.mail import outbox
from tests.conftest import _clean
from tests.email.conftest import PUBLIC_URL, WEEK

pytestmark = pytest.mark.sqlite  # the demo's path: SQLite and the embedded Redis


@pytest.fixture
def app(make_app):
    """Here the default app is a development one without SMTP_HOST."""
    app = make_app(PUBLIC_URL=PUBLIC_URL, MARKETING_ENV="development")
    with app.app_context():
        yield app
        shutil.rmtree(outbox.folder(), ignore_errors=True)  # the instance folder outlives the test
        _clean(app)


def test_development_outbox_send_now_and_read(client, make_user, db):
    from tests.email.conftest import _seed_minimal

    admin = make_user("admin@example.com", "admin")
    marketer = make_user("m@example.com", "marketer")
    _seed_minimal(db, marketer)
    client.post("/login", data={"email": admin.email, "password": "correct horse battery"})
    page = client.get("/admin/email").get_data(as_text=True)
    assert "development outbox" in page
    client.post(f"/admin/email/users/{marketer.id}/send")
    entries = outbox.entries()
    assert [e.to for e in entries] == ["m@example.com"]
    listing = client.get("/admin/email/outbox").get_data(as_text=True)
    assert "Weekly summary" in listing
    message_page = client.get(f"/admin/email/outbox/{entries[0].name}").get_data(as_text=True)
    assert "Plain-text part" in message_page and "List-Unsubscribe" in message_page
    html = client.get(f"/admin/email/outbox/{entries[0].name}?part=html")
    assert html.mimetype == "text/html" and "Only" in html.get_data(as_text=True)
    assert client.get("/admin/email/outbox/..%2Fsecret_key").status_code == 404
    # sending again the same week: skipped, the outbox keeps one
    response = client.post(f"/admin/email/users/{marketer.id}/send", follow_redirects=True)
    assert "already has the summary" in response.get_data(as_text=True)
    assert len(outbox.entries()) == 1


def test_demo_shows_a_seeded_week_in_the_outbox(app, make_user, db):
    from rq.registry import ScheduledJobRegistry

    from marketing import demo, jobs
    from tests.email.conftest import _seed_minimal

    admin = make_user("admin@example.com", "admin")
    marketer = make_user("marketer@example.com", "marketer")
    seller = _seed_minimal(db, marketer)
    late = make_user("late@example.com", "marketer")  # not a demo user: not mailed
    late.sellers = [seller]
    db.session.commit()
    demo.seed_outbox(app)
    from marketing.models import ProfileDaily

    sunday = db.session.scalars(db.select(ProfileDaily).where(ProfileDaily.date == WEEK.sunday)).all()
    for row in sunday:  # the first sync has not stored Sunday yet
        db.session.delete(row)
    db.session.commit()
    assert demo.send_demo_week(1) == "waiting"
    assert ScheduledJobRegistry(queue=jobs.queue("email")).get_job_ids() == ["demo-week-2"]
    assert outbox.entries() == []
    from marketing.dashboard.rollups import refresh_rollups

    refresh_rollups(seller.id, WEEK.monday, WEEK.sunday)
    assert demo.send_demo_week(2) == "sent, sent"
    assert sorted(e.to for e in outbox.entries()) == [admin.email, marketer.email]
