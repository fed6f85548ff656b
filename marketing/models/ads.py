"""Sponsored Products structure, as last synced from Amazon, per advertising profile.

Amazon ids are strings in v3 entities and integers in report rows; both are normalised once, on the way in,
to 64-bit integers. Keywords and product/auto targets share one table (`sp_targets`, `kind` tells them
apart) because reports key both by the same id and the bid engine treats them alike. Archived entities are
kept and marked.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketing.clock import now
from marketing.models.base import Base


class _Entity:
    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    synced_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)


class SpCampaign(_Entity, Base):
    __tablename__ = "sp_campaigns"

    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    targeting_type: Mapped[str] = mapped_column(String(8))  # AUTO | MANUAL
    budget: Mapped[Decimal | None]
    budget_type: Mapped[str | None] = mapped_column(String(8))
    bidding_strategy: Mapped[str | None] = mapped_column(String(32))
    placement_adjustments: Mapped[dict] = mapped_column(JSON, default=dict)  # placement → percentage
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]


class SpAdGroup(_Entity, Base):
    __tablename__ = "sp_ad_groups"

    ad_group_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(Text)
    default_bid: Mapped[Decimal]


class SpTarget(_Entity, Base):
    """A keyword (`kind='keyword'`) or a product/auto target (`kind='target'`)."""

    __tablename__ = "sp_targets"
    __table_args__ = (Index("ix_sp_targets_profile_ad_group", "profile_id", "ad_group_id"),)

    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    campaign_id: Mapped[int] = mapped_column(BigInteger, index=True)
    ad_group_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)  # keyword text, or the targeting expression rendered
    match_type: Mapped[str | None] = mapped_column(String(32))  # BROAD/PHRASE/EXACT, or the expression type
    expression: Mapped[list | None] = mapped_column(JSON)
    # The target's own bid; None means it inherits the ad group's default bid.
    bid: Mapped[Decimal | None]


class SpProductAd(_Entity, Base):
    __tablename__ = "sp_product_ads"

    ad_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, index=True)
    ad_group_id: Mapped[int] = mapped_column(BigInteger)
    asin: Mapped[str | None] = mapped_column(String(16))
    sku: Mapped[str | None] = mapped_column(String(64))


class Product(Base):
    """What the seller tells us about an ASIN that Amazon does not: unit cost and fees (for break-even ACoS and
    profit). A referral fee not entered counts as Amazon's usual rate, an FBA fee as 0
    (`optimize.margin.fees_per_unit`)."""

    __tablename__ = "products"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True)
    asin: Mapped[str] = mapped_column(String(16), primary_key=True)
    unit_cost: Mapped[Decimal | None]
    price: Mapped[Decimal | None]
    referral_fee_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))  # percent of the price
    fba_fee: Mapped[Decimal | None]  # per unit, in the product's currency
    currency_code: Mapped[str | None] = mapped_column(String(3))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
