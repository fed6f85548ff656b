"""Per-campaign overrides of seller settings: a campaign's own target ACoS (launches, brand defence, clearance
run at a different ACoS than the rest of the seller's catalogue) and its own objective (profit or growth).
Empty, or no row: the seller's setting applies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from marketing.clock import now
from marketing.models.base import MONEY_PLACES, Base

# Percent with the money column's decimals (typed percents and amounts are read by one rule): what a seller
# types is stored exactly on both databases (the setting's bounds keep it within 0.1–100).
PERCENT = Numeric(7, MONEY_PLACES, asdecimal=True)


class CampaignSettings(Base):
    __tablename__ = "campaign_settings"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True)
    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    target_acos: Mapped[Decimal | None] = mapped_column(PERCENT)  # percent, like the `target_acos` setting
    objective: Mapped[str | None] = mapped_column(String(8))  # like the `bid_objective` setting
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
