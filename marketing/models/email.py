"""Email: each user's preferences, the send log, the seller figures of a week, and which alerts went out.

The send log is what makes delivery exactly-once: one row per email (unique `dedupe_key`), marked `sending`
just before the SMTP DATA command, so a retry after a crash finds `sending` and marks it `unknown` instead of
mailing twice. It never holds a secret or the message body.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketing.clock import now
from marketing.models.base import Base

SEND_STATES = ("queued", "sending", "sent", "failed", "unknown")
SEND_KINDS = ("weekly", "alerts", "test")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class EmailPreference(Base):
    """A user's email choices; a user without a row gets the defaults (weekly on Monday 08:00, all sellers)."""

    __tablename__ = "email_preferences"
    __table_args__ = (
        CheckConstraint("weekday between 0 and 6", name="weekday"),
        CheckConstraint("hour between 0 and 23", name="hour"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    weekly: Mapped[bool] = mapped_column(Boolean, default=True)
    alerts: Mapped[bool] = mapped_column(Boolean, default=True)
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday
    hour: Mapped[int] = mapped_column(Integer, default=8)
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA name; None (or unknown) reads as UTC
    seller_ids: Mapped[list | None] = mapped_column(JSON)  # None: every seller the user may see
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)


class EmailSend(Base):
    """One email: to whom, what, which week, and how far delivery got."""

    __tablename__ = "email_sends"
    __table_args__ = (
        CheckConstraint(f"state in ({', '.join(map(repr, SEND_STATES))})", name="state"),
        CheckConstraint(f"kind in ({', '.join(map(repr, SEND_KINDS))})", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(16))
    week: Mapped[str | None] = mapped_column(String(8))  # ISO week, e.g. 2026-W49
    subject: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)
    sent_at: Mapped[dt.datetime | None]


class EmailSellerWeek(Base):
    """A seller's figures for one ISO week, computed once and shared by every recipient's email."""

    __tablename__ = "email_seller_weeks"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    figures: Mapped[dict] = mapped_column(JSON)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)  # every profile's Sunday is stored
    computed_at: Mapped[dt.datetime] = mapped_column(default=now)


class EmailAlertMark(Base):
    """An alert (a notice, a failed sync, an app alert) already emailed to a user: each goes once."""

    __tablename__ = "email_alert_marks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    send_id: Mapped[int | None] = mapped_column(ForeignKey("email_sends.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
