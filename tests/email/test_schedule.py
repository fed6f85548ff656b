"""Scheduling in each user's local time, one job per batch and week, exactly one email per user and week;
waiting for data; bad input between scheduling and sending; the CLI contract; alerts by email."""

from __future__ import annotations

import datetime as dt

import pytest
from rq import Queue

from marketing import jobs
from marketing.clock import now
from marketing.digest import alerts, figures, preferences, weekly, weeks
from marketing.jobs import tick
from marketing.models import Notice, SyncRun
from tests.email.conftest import WEEK, week_day


def _due_now(db, *users, timezone="UTC"):
    """Preferences whose moment (today 00:00 local) has passed, so the current week is due."""
    for user in users:
        pref = preferences.stored(user.id)
        pref.weekday, pref.hour, pref.timezone = now().astimezone(weeks.zone(timezone)).weekday(), 0, timezone
    db.session.commit()


def test_the_tick_schedules_email_work():
    tasks = {task.name: task.func for task in tick.PERIODIC}
    assert tasks["email-weekly"] == "marketing.digest.weekly.schedule"
    assert tasks["email-alerts"] == "marketing.digest.alerts.send_all"


def test_scheduled_run_sends_each_user_exactly_one_email(mail, seeded, marketer, make_user, db, queue, monkeypatch):
    users = [marketer, *(make_user(f"u{i}@example.com", "marketer", sellers=[seeded]) for i in range(3))]
    _due_now(db, *users)
    addresses = sorted(u.email for u in users)
    computed = []
    original = figures.compute
    monkeypatch.setattr(figures, "compute", lambda *a: computed.append(a) or original(*a))
    assert weekly.schedule() == 1  # one batch job for the week
    weekly.schedule()  # a second tick before the job ran: the same unique job
    email = Queue("email", connection=jobs.connection())
    assert [j.id for j in email.jobs] == [email.jobs[0].id] and email.jobs[0].id.startswith(f"email-weekly-{WEEK}-")
    queue.work("email")
    assert sorted(m.rcpt_tos[0] for m in mail.messages) == addresses
    assert len(computed) == 1  # the seller's week was computed once, not once per user
    assert weekly.schedule() == 0
    queue.work("email")
    assert len(mail.messages) == 4


def test_due_follows_each_users_local_time(db, marketer):
    pref = preferences.stored(marketer.id)
    pref.weekday, pref.hour, pref.timezone = 0, 9, "America/Los_Angeles"
    db.session.commit()
    monday_17_utc = dt.datetime(2026, 12, 7, 17, 0, tzinfo=dt.UTC)  # 09:00 in Los Angeles
    assert [d.week for d in weekly.due(monday_17_utc)] == ["2026-W49"]
    assert [d.week for d in weekly.due(monday_17_utc - dt.timedelta(minutes=1))] == ["2026-W48"]
    pref.timezone = "Mars/Olympus_Mons"  # invalid (e.g. stored by an older release): read as UTC, no crash
    db.session.commit()
    assert [d.week for d in weekly.due(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC))] == ["2026-W49"]


def test_waits_for_the_sunday_then_sends_saying_data_through(mail, db, make_user, make_seller):
    from marketing.dashboard.rollups import refresh_rollups
    from tests.dashboard.conftest import Seeder

    seller = make_seller("Late Shop")
    Seeder(db).connect(seller, (333, "DE", "EUR", "Europe/Berlin"))
    Seeder(db).campaign(seller, 333, 3001, "Late", currency="EUR",
                        days={week_day(WEEK, n): (10, 2, "11.00", 1, "30.00") for n in range(6)})  # no Sunday
    refresh_rollups(seller.id, WEEK.monday, WEEK.sunday)
    user = make_user("late@example.com", "marketer", sellers=[seller])
    assert weekly.send_to(user.id, WEEK, wait_for_data=True) == "waiting"
    assert mail.messages == []
    later = (now() - dt.timedelta(minutes=1)).isoformat()  # the 24 h are over
    assert weekly.send_batch([[user.id, later]], WEEK.label) == {"sent": 1}
    text = mail.parsed().get_body(("plain",)).get_content()
    assert f"data through {week_day(WEEK, 5).isoformat()}" in text
    assert "66.00 EUR" in text and "USD" not in text


def test_user_deleted_or_seller_unassigned_between_scheduling_and_sending(mail, db, seeded, marketer, make_user,
                                                                          make_seller, queue):
    gone = make_user("gone@example.com", "marketer", sellers=[seeded])
    moved = make_user("moved@example.com", "marketer", sellers=[seeded])
    _due_now(db, marketer, gone, moved)
    secret = make_seller("Secret Shop")
    marketer.sellers = [seeded, secret]
    db.session.commit()
    assert weekly.schedule() == 1
    db.session.delete(gone)
    moved.sellers = []
    marketer.sellers = [seeded]
    db.session.commit()
    queue.work("email")
    assert [m.rcpt_tos for m in mail.messages] == [["marketer@example.com"]]
    body = mail.parsed().get_body(("plain",)).get_content()
    assert "Secret Shop" not in body and "Acme Outdoor" in body


def test_top_ten_sellers_get_full_sections_and_the_email_stays_small(mail, db, make_user, make_seller):
    from marketing.dashboard.rollups import refresh_rollups
    from tests.dashboard.conftest import Seeder

    seed = Seeder(db)
    admin = make_user("boss@example.com", "admin")
    for i in range(12):
        seller = make_seller(f"Shop {i:02d}")
        seed.connect(seller, (1000 + i, "US", "USD", "UTC"))
        for c in range(8):
            seed.campaign(seller, 1000 + i, 10_000 * i + c, f"Campaign {c} with a rather long descriptive name",
                          days={week_day(WEEK, n): (100, 10, f"{10 + i + c}.00", 1, "30.00") for n in range(7)})
        refresh_rollups(seller.id, WEEK.monday, WEEK.sunday)
    assert weekly.send_to(admin.id, WEEK) == "sent"
    message = mail.parsed()
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert len(html.encode()) <= 100 * 1024, len(html.encode())
    assert text.count("== Shop") == 10 and "== Other sellers ==" in text
    assert "Shop 00" in text.split("== Other sellers ==")[1]  # the smallest spenders get one line each


def test_cli_contract(runner, mail, marketer, seeded):
    preview = runner.invoke(["email", "preview", "marketer@example.com", "--week", WEEK.label])
    assert preview.exit_code == 0 and preview.output.lower().startswith("<!doctype html>")
    assert "246.00 USD" in preview.output
    text = runner.invoke(["email", "preview", "marketer@example.com", "--week", WEEK.label, "--text"])
    assert text.exit_code == 0 and "Spend" in text.output and "<" not in text.output.split("\n")[0]
    assert runner.invoke(["email", "preview", "nobody@example.com"]).exit_code == 2
    bad_week = runner.invoke(["email", "send-weekly", "--week", "2026-49"])
    assert bad_week.exit_code == 2 and "YYYY-Www" in bad_week.output
    dry = runner.invoke(["email", "send-weekly", "--week", WEEK.label, "--dry-run"])
    assert dry.output == "1 sent, 0 skipped, 0 failed\n" and mail.messages == []
    first = runner.invoke(["email", "send-weekly", "--week", WEEK.label, "--user", "marketer@example.com"])
    assert first.exit_code == 0 and first.output == "1 sent, 0 skipped, 0 failed\n"
    again = runner.invoke(["email", "send-weekly", "--week", WEEK.label])
    assert again.output == "0 sent, 1 skipped, 0 failed\n" and len(mail.messages) == 1


def test_cli_reports_failures(runner, mail, marketer):
    mail.replies.append("550 5.7.1 Relaying denied")
    result = runner.invoke(["email", "send-weekly", "--week", WEEK.label])
    assert result.exit_code == 1 and result.output.startswith("0 sent, 0 skipped, 1 failed\n")


@pytest.fixture
def notice(db, marketer, seeded):
    def make(message, key):
        db.session.add(Notice(user_id=marketer.id, seller_id=seeded.id, level="warning", message=message,
                              dedupe_key=key))
        db.session.commit()

    return make


def test_alerts_each_once_several_as_one_digest(mail, db, marketer, seeded, notice, make_user):
    viewer = make_user("viewer@example.com", "viewer", sellers=[seeded])
    preferences.set_list(viewer.id, "alerts", False)
    preferences.set_list(marketer.id, "weekly", False)  # the summary's unsubscribe never stops alerts
    db.session.commit()
    notice("Acme Outdoor: the Amazon Ads authorization expires in 7 days (2026-12-14).", "expiry-1-7")
    db.session.add(SyncRun(seller_id=seeded.id, kind="nightly", status="failed", stage="failed",
                           start_date=WEEK.monday, end_date=WEEK.sunday, finished_at=now(), error="Amazon said 500"))
    db.session.commit()
    assert alerts.send_all() == {"sent": 1, "failed": 0}
    assert [m.rcpt_tos for m in mail.messages] == [["marketer@example.com"]]  # the viewer switched alerts off
    body = mail.parsed().get_body(("plain",)).get_content()
    assert "expires in 7 days" in body and "the sync failed: Amazon said 500" in body
    assert mail.parsed()["Subject"] == "2 alerts need your attention"
    assert alerts.send_all() == {"sent": 0, "failed": 0}  # each alert once
    notice("Acme Outdoor: the Amazon Ads authorization was revoked at Amazon.", "revoked-1")
    assert alerts.send_to(marketer, now() + dt.timedelta(hours=1)) == "sent"
    assert "revoked" in mail.parsed()["Subject"]
    assert "expires in 7" not in mail.parsed().get_body(("plain",)).get_content()
    assert len(mail.messages) == 2


def test_users_who_see_no_seller_are_not_queued(db, marketer, make_user):
    make_user("lonely@example.com", "marketer")
    at = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    assert [d.user_id for d in weekly.due(at)] == [marketer.id]


def test_an_alert_digest_refused_with_4xx_is_retried_with_the_same_alerts(mail, marketer, notice):
    from rq.registry import ScheduledJobRegistry

    notice("Acme Outdoor: the Amazon Ads authorization expires in 1 day.", "expiry-1-1")
    mail.replies.append("421 4.7.0 Try again later")
    at = now()
    assert alerts.send_to(marketer, at) == "queued"
    scheduled = ScheduledJobRegistry(queue=jobs.queue("email")).get_job_ids()
    assert len(scheduled) == 1
    jobs.queue("email").fetch_job(scheduled[0]).perform()
    assert len(mail.messages) == 1 and "expires in 1 day" in mail.parsed()["Subject"]
    assert alerts.send_to(marketer, at + dt.timedelta(hours=1)) is None  # nothing left to send
