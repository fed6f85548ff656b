"""The daily token check: exchange every stored token, update its status, and tell the people concerned
(`notices`: each notice once per person)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from marketing.connections import clients, notices, service
from marketing.connections.status import State
from marketing.extensions import db
from marketing.models import Connection, ConnectionEvent
from marketing.models.connections import EventKind

log = logging.getLogger("marketing.connections")


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
        if result.state == State.EXPIRED:
            _record_expiry(connection)
        summary.notices += notices.notify(connection, result)
        db.session.commit()
    return summary


def _record_expiry(connection: Connection) -> None:
    """One `expired` history row per authorization: expiry comes with time, not with an answer from Amazon."""
    latest = db.session.scalar(
        select(ConnectionEvent.kind)
        .where(ConnectionEvent.seller_id == connection.seller_id, ConnectionEvent.api == connection.api,
               ConnectionEvent.kind.in_((EventKind.CONNECTED, EventKind.RENEWED, EventKind.EXPIRED)))
        .order_by(ConnectionEvent.id.desc()).limit(1))
    if latest != EventKind.EXPIRED:
        clients.record_event(connection, EventKind.EXPIRED)


def run_job() -> dict:
    """RQ entry point of the daily check; the summary is the job's result."""
    summary = check_all()
    return {"checked": summary.checked, "states": summary.states, "notices": summary.notices,
            "errors": summary.errors}
