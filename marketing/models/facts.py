"""Daily performance facts, one table per report, replaced window by window on every pull.

Money is exact (`Numeric`), in the profile's currency (never summed across currencies). `orders`/`sales`
are the attribution window of the seller's type (7 days for sellers' Sponsored Products, 14 for vendors).
Rows are keyed by Amazon's integer ids; there is no foreign key to the structure tables on purpose: a report
may mention an entity before the structure sync has seen it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketing.models.base import Base


class _Metrics:
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[Decimal] = mapped_column(default=Decimal(0))
    orders: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    sales: Mapped[Decimal] = mapped_column(default=Decimal(0))


class SpCampaignDaily(_Metrics, Base):
    __tablename__ = "sp_campaign_daily"

    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_name: Mapped[str | None] = mapped_column(Text)
    campaign_status: Mapped[str | None] = mapped_column(String(16))
    currency_code: Mapped[str | None] = mapped_column(String(3))


class SpTargetDaily(_Metrics, Base):
    __tablename__ = "sp_target_daily"
    __table_args__ = (Index("ix_sp_target_daily_profile_campaign_date", "profile_id", "campaign_id", "date"),)

    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    ad_group_id: Mapped[int] = mapped_column(BigInteger)
    keyword_bid: Mapped[Decimal | None]
    match_type: Mapped[str | None] = mapped_column(String(32))


def week_of(day: dt.date) -> dt.date:
    """The Monday of `day`'s week: `SpTargetWeekly`'s key."""
    return day - dt.timedelta(days=day.weekday())


WEEKLY_DIALECTS = ("postgresql",)  # where `SpTargetWeekly` is kept
WEEKLY_METRICS = ("impressions", "clicks", "cost", "orders", "sales")  # what it sums of `SpTargetDaily`


class SpTargetWeekly(Base):
    """`sp_target_daily` summed per target and week (Monday to Sunday): the bid inputs read a 90-day history as
    ~13 rows a target, plus the days of the weeks their windows cut (`bids.inputs.load`).

    Kept on PostgreSQL (`WEEKLY_DIALECTS`) by the ingest of every targeting report, in the same transaction as its
    days (`sync.ingest.refresh_target_weeks`). On SQLite (the embedded demo's few targets) the inputs sum the days
    and this table stays empty."""

    __tablename__ = "sp_target_weekly"

    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    week_start: Mapped[dt.date] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    impressions: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[Decimal]
    orders: Mapped[int] = mapped_column(Integer)
    sales: Mapped[Decimal]


class SpSearchTermDaily(_Metrics, Base):
    __tablename__ = "sp_search_term_daily"

    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    search_term: Mapped[str] = mapped_column(Text, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    ad_group_id: Mapped[int] = mapped_column(BigInteger)


class SpProductDaily(_Metrics, Base):
    __tablename__ = "sp_product_daily"

    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    ad_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    ad_group_id: Mapped[int] = mapped_column(BigInteger)
    asin: Mapped[str | None] = mapped_column(String(16))
    sku: Mapped[str | None] = mapped_column(String(64))


class SalesTrafficDaily(Base):
    """Seller Central totals per marketplace and day (SP-API Sales & Traffic), for TACoS."""

    __tablename__ = "sales_traffic_daily"

    seller_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    currency_code: Mapped[str] = mapped_column(String(3))
    ordered_sales: Mapped[Decimal] = mapped_column(default=Decimal(0))
    units_ordered: Mapped[int] = mapped_column(Integer, default=0)
    total_order_items: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    page_views: Mapped[int] = mapped_column(Integer, default=0)


class SalesTrafficAsinDaily(Base):
    __tablename__ = "sales_traffic_asin_daily"

    seller_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    asin: Mapped[str] = mapped_column(String(16), primary_key=True)
    parent_asin: Mapped[str | None] = mapped_column(String(16))  # its siblings share it (cannibalisation)
    currency_code: Mapped[str] = mapped_column(String(3))
    ordered_sales: Mapped[Decimal] = mapped_column(default=Decimal(0))
    units_ordered: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    page_views: Mapped[int] = mapped_column(Integer, default=0)
