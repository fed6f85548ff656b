"""A seller account the agency manages; the connections and data issues extend it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, CheckConstraint, String
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
    # Marketplace ids (e.g. ATVPDKIKX0DER) the seller sells in, and its SP-API selling partner id.
    marketplaces: Mapped[list] = mapped_column(JSON, default=list)
    selling_partner_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    # Bumped in the transaction of every ingest and rollup refresh (`connections.data_changed`).
    data_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    users = relationship("User", secondary=user_sellers, back_populates="sellers", lazy="selectin")
    connections = relationship("Connection", back_populates="seller", cascade="all, delete-orphan",
                               lazy="selectin", order_by="Connection.api")

    def connection(self, api: str):
        """The seller's connection for `api` ('ads' or 'sp'), or None."""
        return next((c for c in self.connections if c.api == api), None)
