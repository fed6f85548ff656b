"""A seller account the agency manages; the connections and data issues extend it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketing.clock import now
from marketing.models.base import Base
from marketing.models.users import user_sellers

REGIONS = ("NA", "EU", "FE")


class Seller(Base):
    __tablename__ = "sellers"
    __table_args__ = (CheckConstraint("region in ('NA', 'EU', 'FE')", name="region"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    region: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    users = relationship("User", secondary=user_sellers, back_populates="sellers", lazy="selectin")
