"""Promotions: what Amazon reports of past coupons and deals, the daily history their lift is measured on, the
fees Amazon charges for them, and the plans a marketer approved (no Amazon API creates a promotion: a person
enters each plan in Seller Central, and the next reports show whether and how it ran).

Money is exact (`Numeric`) in the marketplace's currency. Dates of promotions are UTC timestamps as Amazon
reports them; plans are whole days in the marketplace.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketing.clock import now
from marketing.models.base import Base


class PromotionType(StrEnum):
    """Amazon's names: the coupon report's coupons, and the two deal types a seller's promotion report lists."""

    COUPON = "COUPON"
    LIGHTNING_DEAL = "LIGHTNING_DEAL"
    BEST_DEAL = "BEST_DEAL"


class DiscountType(StrEnum):
    """The coupon report's `discountType`; deals are always a percentage (their observed price drop)."""

    PERCENT = "PERCENT_OFF_LIST_PRICE"
    AMOUNT = "AMOUNT_OFF_LIST_PRICE"


class PlanState(StrEnum):
    PLANNED = "planned"  # approved; a person has yet to enter it in Seller Central
    ENTERED = "entered"  # entered in Seller Central (its suggestion is then `applied`)
    RUNNING = "running"  # between its start and end
    FINISHED = "finished"  # ended; waiting for the reports and the 28 days after
    MEASURED = "measured"  # actual lift and profit known
    CANCELLED = "cancelled"  # a person cancelled it
    EXPIRED = "expired"  # never marked entered by its start


class Promotion(Base):
    """One coupon or deal as the coupon or promotion performance report last showed it (replaced on each pull)."""

    __tablename__ = "promotions"
    __table_args__ = (UniqueConstraint("seller_id", "marketplace_id", "type", "amazon_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    marketplace_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(24))  # PromotionType
    amazon_id: Mapped[str] = mapped_column(String(64))  # couponId or promotionId
    name: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(32))  # Amazon's (deals: APPROVED, CANCELED, …)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    currency_code: Mapped[str] = mapped_column(String(3))
    discount_type: Mapped[str | None] = mapped_column(String(32))  # DiscountType (coupons)
    discount_amount: Mapped[Decimal | None]  # percent or money, per discount_type (coupons)
    budget: Mapped[Decimal | None]
    budget_spent: Mapped[Decimal | None]
    total_discount: Mapped[Decimal | None]
    clips: Mapped[int | None] = mapped_column(Integer)
    redemptions: Mapped[int | None] = mapped_column(Integer)
    units: Mapped[int | None] = mapped_column(Integer)  # deals: units sold at the deal price
    revenue: Mapped[Decimal | None]  # deals: revenue; coupons: post-discount sales of redemptions
    fetched_at: Mapped[dt.datetime] = mapped_column(default=now)

    asins: Mapped[list[PromotionAsin]] = relationship(
        back_populates="promotion", cascade="all, delete-orphan", order_by="PromotionAsin.asin"
    )


class PromotionAsin(Base):
    __tablename__ = "promotion_asins"
    __table_args__ = (Index("ix_promotion_asins_asin", "asin"),)

    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True)
    asin: Mapped[str] = mapped_column(String(16), primary_key=True)
    units: Mapped[int | None] = mapped_column(Integer)  # deals only: the coupon report has no per-ASIN units
    revenue: Mapped[Decimal | None]

    promotion: Mapped[Promotion] = relationship(back_populates="asins")


class SalesTrafficAsinWeekly(Base):
    """Sales & Traffic by child ASIN per Sun–Sat week, older than the daily history (for baselines only)."""

    __tablename__ = "sales_traffic_asin_weekly"

    seller_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    week_start: Mapped[dt.date] = mapped_column(primary_key=True)  # a Sunday
    asin: Mapped[str] = mapped_column(String(16), primary_key=True)
    parent_asin: Mapped[str | None] = mapped_column(String(16))
    currency_code: Mapped[str] = mapped_column(String(3))
    ordered_sales: Mapped[Decimal] = mapped_column(default=Decimal(0))
    units_ordered: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)


class HistoryPull(Base):
    """One Sales & Traffic by-ASIN report of the back-fill: a day (days=1) or a week (days=7) and how it went.
    The back-fill job resumes from these rows; the seller page shows its progress from them."""

    __tablename__ = "history_pulls"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1 (daily) or 7 (weekly)
    status: Mapped[str] = mapped_column(String(16))  # requested | done | empty | refused | failed
    amazon_report_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)


class InventoryDaily(Base):
    """FBA inventory summary per ASIN as of a day (FBM ASINs have no row: stock unknown)."""

    __tablename__ = "inventory_daily"

    seller_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    asin: Mapped[str] = mapped_column(String(16), primary_key=True)
    fulfillable: Mapped[int] = mapped_column(Integer, default=0)
    inbound: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class PromotionFee(Base):
    """What Amazon charges for a promotion type in a marketplace from a date on (admins edit; the guide seeds).
    Cost of one promotion = fixed (+ per_day × days) + variable_pct % of its sales (capped at variable_cap)
    + per_redemption × redemptions."""

    __tablename__ = "promotion_fees"
    __table_args__ = (UniqueConstraint("marketplace_id", "type", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(24))  # PromotionType
    effective_from: Mapped[dt.date]
    currency_code: Mapped[str] = mapped_column(String(3))
    fixed: Mapped[Decimal] = mapped_column(default=Decimal(0))
    per_day: Mapped[Decimal] = mapped_column(default=Decimal(0))
    per_redemption: Mapped[Decimal] = mapped_column(default=Decimal(0))
    variable_pct: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    variable_cap: Mapped[Decimal | None]
    note: Mapped[str | None] = mapped_column(Text)


class PromotionPlan(Base):
    """An approved promotion suggestion: the exact Seller Central values, followed to its measured outcome."""

    __tablename__ = "promotion_plans"
    __table_args__ = (Index("ix_promotion_plans_seller_state", "seller_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    # The approved suggestion, without a foreign key: its per-row trigger cost every run ~0.5 s for the 100,000
    # pending rows a newer run deletes, and pending suggestions never have a plan (approved ones are kept).
    suggestion_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    marketplace_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(24))  # PromotionType
    asins: Mapped[list] = mapped_column(JSON, default=list)
    skus: Mapped[list] = mapped_column(JSON, default=list)
    discount_type: Mapped[str] = mapped_column(String(32))  # DiscountType
    discount_amount: Mapped[Decimal]
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]  # inclusive
    budget: Mapped[Decimal | None]  # coupons
    currency_code: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), default=PlanState.PLANNED)  # PlanState
    predicted: Mapped[dict] = mapped_column(JSON, default=dict)  # incremental units/profit, interval, L*, …
    actual: Mapped[dict | None] = mapped_column(JSON)  # the same measures, once measured
    measured_from: Mapped[str | None] = mapped_column(String(16))  # report | sales_traffic (unmatched)
    amazon_id: Mapped[str | None] = mapped_column(String(64))
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id", ondelete="SET NULL"))
    notice: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    created_by: Mapped[str | None] = mapped_column(String(254))
    entered_at: Mapped[dt.datetime | None]
    entered_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)

    promotion: Mapped[Promotion | None] = relationship()
