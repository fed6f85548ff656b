"""The daily token check: exchange every stored token, update its status, and tell the people concerned.

Each notice happens once: at 30, 14, 7 and 1 days before expiry, on expiry, and when a token is revoked.
Recipients are the seller's assigned marketers and every admin; if Amazon accepts a revoked token again,
whoever was told of the revocation is told that too.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketing.connections import clients, service
from marketing.connections.status import TokenStatus
from marketing.extensions import db
from marketing.models import Connection, ConnectionEvent, Notice, User

log = logging.getLogger("marketing.connections")

EXPIRY_NOTICE_DAYS = (1, 7, 14, 30)


@dataclass
class CheckSummary:
    checked: int = 0
    states: dict[str, int] = field(default_factory=dict)
    notices: int = 0
    errors: list[str] = field(default_factory=list)


def check_all() -> CheckSummary:
    """Periodic job and `marketing tokens check`: one failing seller never stops the others."""
    summary = CheckSummary()
    ids = db.session.scalars(select(Connection.id).where(Connection.refresh_token_ciphertext.is_not(None))).all()
    for connection_id in ids:
        connection = db.session.get(Connection, connection_id)
        try:
            result = service.check(connection)
        except Exception as exc:  # reported, and the loop goes on to the next seller
            db.session.rollback()
            summary.errors.append(f"{connection.seller.name} {connection.api}: {type(exc).__name__}: {exc}")
            log.warning("token check failed for connection %s: %s", connection_id, type(exc).__name__)
            continue
        summary.checked += 1
        summary.states[result.state] = summary.states.get(result.state, 0) + 1
        if result.state == "expired":
            _record_expiry(connection)
        summary.notices += notify(connection, result)
        db.session.commit()
    return summary


def _record_expiry(connection: Connection) -> None:
    """One `expired` history row per authorization: expiry comes with time, not with an answer from Amazon."""
    latest = db.session.scalar(
        select(ConnectionEvent.kind)
        .where(ConnectionEvent.seller_id == connection.seller_id, ConnectionEvent.api == connection.api,
               ConnectionEvent.kind.in_(("connected", "renewed", "expired")))
        .order_by(ConnectionEvent.id.desc()).limit(1))
    if latest != "expired":
        clients.record_event(connection, "expired")


def _revocation(connection: Connection, revoked_at: dt.datetime) -> str:
    """Names one revocation in notice keys. Epoch microseconds, not isoformat(): the database may hand the
    timestamp back in another time zone; not seconds: a revocation, a restore and a new revocation can fall
    within one second."""
    return f"{connection.id}-{round(revoked_at.timestamp() * 1_000_000)}"


def _recipients(connection: Connection) -> list[User]:
    admins = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))).all()
    marketers = [u for u in connection.seller.users if u.role == "marketer" and u.active]
    return list({u.id: u for u in [*admins, *marketers]}.values())


def _notice_for(connection: Connection, result: TokenStatus) -> tuple[str, str, str] | None:
    """(dedupe key, level, message) of the notice this status calls for, if any."""
    seller, label = connection.seller.name, connection.label
    authorized = connection.authorized_at.date().isoformat() if connection.authorized_at else "unknown"
    if result.state == "revoked":
        return (f"revoked-{_revocation(connection, connection.revoked_at)}", "error",
                f"{seller}: the {label} authorization was revoked at Amazon. Data is no longer updated; "
                "renew the connection from the seller page.")
    if result.state == "expired":
        return (f"expired-{connection.id}-{authorized}", "error",
                f"{seller}: the {label} authorization expired on {result.expires_at.date().isoformat()}. "
                "Renew it from the seller page.")
    if result.state in ("expiring", "active") and result.days_left is not None:
        due = [d for d in EXPIRY_NOTICE_DAYS if result.days_left <= d]
        if due:
            threshold = min(due)
            return (f"expiry-{connection.id}-{authorized}-{threshold}", "warning",
                    f"{seller}: the {label} authorization expires in {result.days_left} day"
                    f"{'s' if result.days_left != 1 else ''} ({result.expires_at.date().isoformat()}). "
                    "Renew it from the seller page before then.")
    return None


def notify(connection: Connection, result: TokenStatus) -> int:
    """Add the notice the status calls for to each recipient who has not had it yet; returns how many."""
    notice = _notice_for(connection, result)
    if notice is None:
        return 0
    return _send(connection, _recipients(connection), *notice)


def notify_restored(connection: Connection, revoked_at: dt.datetime) -> int:
    """Tell whoever had the revocation notice that Amazon accepts the token again, so nobody renews for
    nothing; returns how many were told."""
    revocation = _revocation(connection, revoked_at)
    told = db.session.scalars(select(User).join(Notice, Notice.user_id == User.id)
                              .where(Notice.dedupe_key == f"revoked-{revocation}", User.active.is_(True))).all()
    return _send(connection, told, f"restored-{revocation}", "info",
                 f"{connection.seller.name}: Amazon accepts the {connection.label} authorization again, so the "
                 "revocation notice no longer applies and data is updated again.")


def _send(connection: Connection, users: list[User], key: str, level: str, message: str) -> int:
    sent = 0
    for user in users:
        exists = db.session.scalar(select(Notice.id).where(Notice.user_id == user.id, Notice.dedupe_key == key))
        if exists is None:
            try:
                with db.session.begin_nested():
                    db.session.add(Notice(user_id=user.id, seller_id=connection.seller_id, level=level,
                                          message=message, dedupe_key=key))
                sent += 1
            except IntegrityError:  # a concurrent check got there first
                pass
    return sent


def run_job() -> dict:
    """RQ entry point of the daily check; the summary is the job's result."""
    summary = check_all()
    return {"checked": summary.checked, "states": summary.states, "notices": summary.notices,
            "errors": summary.errors}
