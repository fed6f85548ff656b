"""A seller's authorizations at Amazon: one Ads API and one SP-API connection, their history and profiles.

Refresh tokens are stored only as Fernet ciphertext (`TOKEN_ENCRYPTION_KEYS`) plus their last 4 characters
for recognition. Status is derived (see `marketing.connections.status`), never stored.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketing.clock import now
from marketing.models.base import Base
from marketing.models.sellers import Seller

APIS = ("ads", "sp")
API_LABELS = {"ads": "Amazon Ads", "sp": "Seller Central (SP-API)"}


class EventKind(StrEnum):
    """What happened to a seller's authorization (`ConnectionEvent.kind`; audited as `connection.<kind>`)."""

    CONNECTED = "connected"
    RENEWED = "renewed"
    DISCONNECTED = "disconnected"
    REVOKED = "revoked"
    RESTORED = "restored"
    EXPIRED = "expired"


class Method(StrEnum):
    """How a refresh token reached us."""

    OAUTH = "oauth"
    PASTED = "pasted"
    CLI = "cli"


class Level(StrEnum):
    """How a notice is shown (`Notice.level`; also its CSS class)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Connection(Base):
    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("seller_id", "api", name="seller_api"),
        CheckConstraint("api in ('ads', 'sp')", name="api"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    api: Mapped[str] = mapped_column(String(3))
    refresh_token_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_last4: Mapped[str | None] = mapped_column(String(4))
    authorized_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]
    # The last failure; `error_transient` separates "degraded" (5xx, timeouts) from status-changing errors.
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None]
    error_transient: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    seller = relationship("Seller", back_populates="connections")
    profiles: Mapped[list[AdsProfile]] = relationship(
        back_populates="connection", cascade="all, delete-orphan", order_by="AdsProfile.country_code"
    )

    @property
    def connected(self) -> bool:
        return self.refresh_token_ciphertext is not None

    @property
    def label(self) -> str:
        return API_LABELS[self.api]


# Sponsored Products can be managed for seller and vendor profiles only (an agency profile is DSP).
MANAGEABLE_ACCOUNT_TYPES = ("seller", "vendor")


class AdsProfile(Base):
    """An advertising profile (one marketplace of an advertiser) visible through an Ads connection."""

    __tablename__ = "ads_profiles"
    __table_args__ = (UniqueConstraint("connection_id", "profile_id", name="connection_profile"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    country_code: Mapped[str] = mapped_column(String(2))
    currency_code: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    marketplace_id: Mapped[str] = mapped_column(String(32))
    account_type: Mapped[str] = mapped_column(String(16))
    account_name: Mapped[str | None] = mapped_column(String(255))
    managed: Mapped[bool] = mapped_column(Boolean, default=False)
    # False once Amazon no longer lists the profile for this authorization: its history stays, it is neither
    # synced nor written to (a renewal may have brought another advertiser).
    accessible: Mapped[bool] = mapped_column(Boolean, default=True)

    connection: Mapped[Connection] = relationship(back_populates="profiles")

    @property
    def manageable(self) -> bool:
        return self.account_type in MANAGEABLE_ACCOUNT_TYPES and self.accessible is not False


class ConnectionEvent(Base):
    """History of a seller's authorizations; survives disconnects. Never holds a token, only its last 4."""

    __tablename__ = "connection_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    api: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(32))  # EventKind
    method: Mapped[str | None] = mapped_column(String(16))  # Method
    at: Mapped[dt.datetime] = mapped_column(default=now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    token_last4: Mapped[str | None] = mapped_column(String(4))
    authorized_at: Mapped[dt.datetime | None]


class Notice(Base):
    """An in-app notice for one user; `dedupe_key` makes each notice happen once."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key", name="user_dedupe"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(8), default=Level.WARNING)  # Level
    message: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    read_at: Mapped[dt.datetime | None]


class AppAlert(Base):
    """A problem with our own Amazon app (not any seller's): shown to admins until cleared."""

    __tablename__ = "app_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[dt.datetime] = mapped_column(default=now)
    cleared_at: Mapped[dt.datetime | None]


def profile_sellers(profile_id: int):
    """The ids of the sellers whose Ads connection lists the advertising profile (a subquery)."""
    return (select(Connection.seller_id).join(AdsProfile, AdsProfile.connection_id == Connection.id)
            .where(Connection.api == "ads", AdsProfile.profile_id == profile_id))


def data_changed(*, seller_id: int | None = None, profile_id: int | None = None):
    """The statement that bumps `Seller.data_version` of a seller, or of the seller whose Ads connection lists
    `profile_id`. Ingest and the rollup refresh run it in the transaction that writes their rows, so a reader
    that sees the new version also sees the new rows (`marketing.dashboard.cache`)."""
    which = Seller.id == seller_id if seller_id is not None else Seller.id.in_(profile_sellers(profile_id))
    return update(Seller).where(which).values(data_version=Seller.data_version + 1)
