"""Alerts by email: the in-app notices (token expiry, revocation, restored), failed syncs and app-level
alerts (invalid client, secret rotation due), each emailed once to the people who get them in the app.

An hourly job gathers each user's alerts not emailed yet into one digest (several in one hour, one email).
`EmailAlertMark` rows record which alert went in which email; only alerts from the last `LOOKBACK` count,
so switching alerts on never mails old history.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketing import jobs, settings_registry
from marketing.clock import now
from marketing.connections import alerts as app_alerts
from marketing.digest import preferences
from marketing.extensions import db
from marketing.mail import compose, sendlog, transport
from marketing.models import AppAlert, EmailAlertMark, Notice, SyncRun, User
from marketing.models.sync import RunStatus

log = logging.getLogger("marketing.email")

LOOKBACK = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Alert:
    key: str
    level: str  # info | warning | error
    message: str
    url: str


def collect(user: User, since: dt.datetime) -> list[Alert]:
    """Everything `user` sees in the app that happened since `since`."""
    notices_url = compose.link("connections.notices")
    result = [Alert(f"notice-{n.id}", n.level, n.message, notices_url) for n in db.session.scalars(
        select(Notice).where(Notice.user_id == user.id, Notice.created_at >= since).order_by(Notice.id))]
    visible = {s.id: s for s in preferences.visible_sellers(user)}
    if visible:
        runs = db.session.scalars(select(SyncRun).where(
            SyncRun.seller_id.in_(list(visible)), SyncRun.status == RunStatus.FAILED, SyncRun.finished_at >= since,
        ).order_by(SyncRun.id))
        result += [Alert(f"sync-failed-{run.id}", "error",
                         f"{visible[run.seller_id].name}: the sync failed: {run.error or 'no reason recorded'}",
                         compose.link("sellers.show", seller_id=run.seller_id)) for run in runs]
    if user.is_admin:
        settings_url = compose.link("admin.app_settings")
        for alert in db.session.scalars(select(AppAlert).where(AppAlert.cleared_at.is_(None),
                                                                AppAlert.raised_at >= since)):
            result.append(Alert(f"app-{alert.key}-{int(alert.raised_at.timestamp())}", "error", alert.message,
                                settings_url))
        for banner in app_alerts.banners():
            if banner.key.startswith("rotate-"):
                rotated = settings_registry.get(f"{banner.key.removeprefix('rotate-')}_client_secret_rotated_on")
                result.append(Alert(f"{banner.key}-{rotated}", "warning", banner.message, settings_url))
    return result


def send_all() -> dict[str, int]:
    """Periodic (hourly): one digest per user with new alerts."""
    counts = {"sent": 0, "failed": 0}
    if transport.off_reason():
        return counts
    users = [user.id for user, pref in preferences.recipients() if pref.alerts]
    with transport.one_connection():
        for user_id in users:
            try:
                state = send_to(preferences.user(user_id))
            except Exception:
                db.session.rollback()
                log.exception("alert email for user %s failed", user_id)
                state = "failed"
            if state in counts:
                counts[state] += 1
    return counts


def send_to(user: User, at: dt.datetime | None = None) -> str | None:
    """Email `user` the alerts not emailed yet, as one message; None when there was nothing new."""
    at = at or now()
    slot = at.strftime("%Y%m%d%H")
    dedupe = f"alerts-{user.id}-{slot}"
    row = sendlog.find(dedupe)
    if row is not None and row.state in sendlog.DONE:
        return None  # this hour's digest went out; newer alerts go in the next one
    marked = {m.key: m.send_id for m in db.session.scalars(
        select(EmailAlertMark).where(EmailAlertMark.user_id == user.id))}
    pending = [a for a in collect(user, at - LOOKBACK)
               if a.key not in marked or (row is not None and marked[a.key] == row.id)]
    if not pending:
        return None
    if row is None:
        row = sendlog.open_row(dedupe, user, user.email, "alerts")
    for alert in pending:
        if alert.key not in marked:
            try:
                with db.session.begin_nested():
                    db.session.add(EmailAlertMark(user_id=user.id, key=alert.key, send_id=row.id))
            except IntegrityError:  # another run took this alert
                pass
    db.session.commit()
    state = sendlog.send(row, lambda: message(user, pending))
    if state == "queued":  # 4xx: the same digest (same row, same alerts) again after the backoff

        jobs.queue("email").enqueue_in(sendlog.backoff(row.attempts), retry, user.id, at.isoformat(),
                                       job_id=f"email-retry-{row.id}-{row.attempts}", unique=True, result_ttl=600,
                                       failure_ttl=jobs.DEFAULTS["email"].failure_ttl)
    return state


def retry(user_id: int, at_iso: str) -> str | None:
    """RQ job: the next attempt at an alert digest after a temporary SMTP failure."""
    user = preferences.user(user_id)
    if user is None or not user.active:
        return None
    return send_to(user, dt.datetime.fromisoformat(at_iso))


def message(user: User, alerts: list[Alert]):
    subject = alerts[0].message if len(alerts) == 1 else f"{len(alerts)} alerts need your attention"
    context = {"alerts": alerts, "email": user.email, "preferences_url": compose.link("mail.preferences"),
               "unsubscribe_url": compose.unsubscribe_url(user.id, "alerts")}
    return compose.message(user.email, subject[:180], render_template("email/alerts.txt", **context),
                           render_template("email/alerts.html", **context), context["unsubscribe_url"])
