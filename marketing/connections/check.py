"""The daily token check: exchange every stored token, update its status, and tell the people concerned.

Each notice happens once: at 30, 14, 7 and 1 days before expiry, on expiry, and when a token is revoked.
Recipients are the seller's assigned marketers and every admin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketing.connections import service
from marketing.connections.status import TokenStatus
from marketing.extensions import db
from marketing.models import Connection, Notice, User

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
        summary.notices += notify(connection, result)
        db.session.commit()
    return summary


def _recipients(connection: Connection) -> list[User]:
    admins = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))).all()
    marketers = [u for u in connection.seller.users if u.role == "marketer" and u.active]
    return list({u.id: u for u in [*admins, *marketers]}.values())


def _notice_for(connection: Connection, result: TokenStatus) -> tuple[str, str, str] | None:
    """(dedupe key, level, message) of the notice this status calls for, if any."""
    seller, label = connection.seller.name, connection.label
    authorized = connection.authorized_at.date().isoformat() if connection.authorized_at else "unknown"
    if result.state == "revoked":
        # Epoch seconds, not isoformat(): the database may hand the timestamp back in another time zone.
        return (f"revoked-{connection.id}-{int(connection.revoked_at.timestamp())}", "error",
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
    key, level, message = notice
    sent = 0
    for user in _recipients(connection):
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
