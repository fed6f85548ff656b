"""Notices about a seller's authorization, each sent once per person: at 30, 14, 7 and 1 days before expiry,
on expiry, when a token is revoked, and when Amazon accepts a revoked token again (to whoever was told of the
revocation). Recipients are the seller's assigned marketers and every admin.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketing.connections.status import State, TokenStatus
from marketing.extensions import db
from marketing.models import Connection, Notice, User
from marketing.models.connections import Level

EXPIRY_NOTICE_DAYS = (1, 7, 14, 30)


def _revocation(connection: Connection, revoked_at: dt.datetime) -> str:
    """Names one revocation in notice keys. Epoch microseconds, not isoformat(): the database may hand the
    timestamp back in another time zone; not seconds: a revocation, a restore and a new revocation can fall
    within one second."""
    return f"{connection.id}-{round(revoked_at.timestamp() * 1_000_000)}"


def _recipients(connection: Connection) -> list[User]:
    admins = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))).all()
    marketers = [u for u in connection.seller.users if u.role == "marketer" and u.active]
    return list({u.id: u for u in [*admins, *marketers]}.values())


def _notice_for(connection: Connection, result: TokenStatus) -> tuple[str, Level, str] | None:
    """(dedupe key, level, message) of the notice this status calls for, if any."""
    seller, label = connection.seller.name, connection.label
    authorized = connection.authorized_at.date().isoformat() if connection.authorized_at else "unknown"
    if result.state == State.REVOKED:
        return (f"revoked-{_revocation(connection, connection.revoked_at)}", Level.ERROR,
                f"{seller}: the {label} authorization was revoked at Amazon. Data is no longer updated; "
                "renew the connection from the seller page.")
    if result.state == State.EXPIRED:
        return (f"expired-{connection.id}-{authorized}", Level.ERROR,
                f"{seller}: the {label} authorization expired on {result.expires_at.date().isoformat()}. "
                "Renew it from the seller page.")
    if result.usable and result.days_left is not None:
        due = [d for d in EXPIRY_NOTICE_DAYS if result.days_left <= d]
        if due:
            threshold = min(due)
            return (f"expiry-{connection.id}-{authorized}-{threshold}", Level.WARNING,
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
    return _send(connection, told, f"restored-{revocation}", Level.INFO,
                 f"{connection.seller.name}: Amazon accepts the {connection.label} authorization again, so the "
                 "revocation notice no longer applies and data is updated again.")


def _send(connection: Connection, users: list[User], key: str, level: Level, message: str) -> int:
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
