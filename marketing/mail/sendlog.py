"""The send log's state machine: each email (one `dedupe_key`) is handed to the mail server at most once.

queued → sending (marked just before DATA, committed) → sent | queued again (4xx: retried with backoff) |
failed (5xx, with the server's words; or too many attempts). A run that finds `sending` knows an earlier
attempt died mid-delivery without recording the outcome: it marks the row `unknown` and does not send again
(never two summaries for one week).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from marketing.clock import now
from marketing.extensions import db
from marketing.mail import transport
from marketing.models import EmailSend, User

MAX_ATTEMPTS = 4
BACKOFF = (30, 300, 1800)  # seconds before the 2nd, 3rd and 4th attempt
DONE = ("sent", "failed", "unknown")
INTERRUPTED = ("An earlier attempt stopped during delivery without recording the outcome; not sent again, so "
               "the recipient never gets it twice.")


def find(dedupe_key: str) -> EmailSend | None:
    return db.session.scalar(select(EmailSend).where(EmailSend.dedupe_key == dedupe_key))


def open_row(dedupe_key: str, user: User | None, to: str, kind: str, week: str | None = None) -> EmailSend:
    """The log row of this email, added `queued` if new (committed by `send`); a concurrent creator's row is
    reused."""
    row = find(dedupe_key)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = EmailSend(dedupe_key=dedupe_key, user_id=user.id if user else None, to_address=to, kind=kind,
                            week=week, state="queued", attempts=0)
            db.session.add(row)
    except IntegrityError:
        row = find(dedupe_key)
    return row


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])


def send(row: EmailSend, build: Callable[[], EmailMessage]) -> str:
    """Deliver the email of `row` unless already done; returns the row's state afterwards.

    `queued` after the call means a temporary failure: the caller schedules a retry after `backoff()`.
    """
    if row.state in DONE:
        return row.state
    if row.state == "sending":
        _finish(row, "unknown", INTERRUPTED)
        return "unknown"
    message = build()
    row.subject = str(message["Subject"])[:255]
    row.attempts = attempts = row.attempts + 1
    db.session.flush()  # committed with the `sending` mark (one commit fewer per email), or with the failure
    row_id = row.id
    claimed = []
    try:
        transport.deliver(message, lambda: _mark_sending(row, row_id, claimed))
    except transport.TemporaryFailure as exc:
        if attempts >= MAX_ATTEMPTS:
            _finish(row, "failed", f"gave up after {attempts} attempts: {exc}")
        else:
            _finish(row, "queued", str(exc))
        return "failed" if attempts >= MAX_ATTEMPTS else "queued"
    except transport.PermanentFailure as exc:
        _finish(row, "failed", str(exc))
        return "failed"
    if not claimed:  # another worker is delivering it
        db.session.refresh(row)
        return row.state
    row.sent_at = now()
    _finish(row, "sent", None)
    return "sent"


def _mark_sending(row: EmailSend, row_id: int, claimed: list) -> bool:
    """queued → sending, as one conditional UPDATE: of two workers on the same row only one proceeds."""
    result = db.session.execute(
        update(EmailSend).where(EmailSend.id == row_id, EmailSend.state == "queued")
        .values(state="sending", updated_at=now()), execution_options={"synchronize_session": False})
    db.session.commit()
    if result.rowcount == 1:
        set_committed_value(row, "state", "sending")
        claimed.append(True)
    return bool(claimed)


def _finish(row: EmailSend, state: str, error: str | None) -> None:
    row.state = state
    if error is not None or state == "sent":
        row.last_error = error[:2000] if error else None
    db.session.commit()
