"""Business settings kept in the database (app-wide or per seller); every change is audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketing.clock import now
from marketing.models.base import Base


class SettingValue(Base):
    __tablename__ = "setting_values"
    __table_args__ = (UniqueConstraint("seller_id", "key", name="seller_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
