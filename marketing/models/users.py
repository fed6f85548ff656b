"""People who log in, their role, and which sellers they may see."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketing.clock import now
from marketing.models.base import Base

ROLES = ("admin", "marketer", "viewer")

user_sellers = Table(
    "user_sellers",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("seller_id", Integer, ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role in ('admin', 'marketer', 'viewer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the session id: rotating it (password change, deactivation) ends every open session.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    last_login_at: Mapped[dt.datetime | None]

    sellers = relationship("Seller", secondary=user_sellers, back_populates="users", lazy="selectin")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def end_sessions(self) -> None:
        self.session_token = secrets.token_hex(16)


class PasswordResetToken(Base):
    """A one-time, expiring link to set a password; only a hash of the token is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
