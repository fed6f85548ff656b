"""Suggestions: changes the product proposes and people approve before anything is sent to Amazon.

Generic on purpose: bids today; promotions, new keywords, negatives and budgets next. One row is one entity's
proposed new value with the evidence behind it; its `status` walks the lifecycle in
`marketing.suggestions.lifecycle`. Every kind names its entity by `entity_kind` + `entity_ref` (text: an Ads
keyword/target id, an ASIN, …) in a `marketplace`, and keeps what only it needs in `payload`; the Ads ids
(`profile_id`, `entity_id`, campaign, ad group) are there for the kinds that act on an Ads entity. Values are
exact money in the marketplace's currency. `previous_value` is what Amazon had just before we wrote, so an
undo puts exactly that back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketing.clock import now
from marketing.models.base import Base


class Kind(StrEnum):
    """What a suggestion changes; each kind's package proposes and applies it (`marketing.bids` for BID)."""

    BID = "bid"
    PROMOTION = "promotion"  # marketing.promotions: an ASIN's coupon or deal, approved into a plan


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Trigger(StrEnum):
    """What started a run."""

    MANUAL = "manual"  # the review page's button
    SYNC = "sync"  # after a successful sync
    CLI = "cli"


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class SuggestionRun(Base):
    """One engine run for one seller: when it ran, how it ended and what it proposed."""

    __tablename__ = "suggestion_runs"
    # What a suggestion's one foreign key refers to: its run and that run's seller (`Suggestion.__table_args__`).
    __table_args__ = (UniqueConstraint("id", "seller_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # Kind
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING)  # RunStatus
    trigger: Mapped[str] = mapped_column(String(16), default=Trigger.MANUAL)  # Trigger
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    finished_at: Mapped[dt.datetime | None]
    targets: Mapped[int] = mapped_column(Integer, default=0)  # entities the engine looked at
    suggestions: Mapped[int] = mapped_column(Integer, default=0)
    up: Mapped[int] = mapped_column(Integer, default=0)
    down: Mapped[int] = mapped_column(Integer, default=0)
    superseded: Mapped[int] = mapped_column(Integer, default=0)  # older pending suggestions it replaced (deleted)
    auto_approved: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    notice: Mapped[str | None] = mapped_column(Text)  # what the run left out and why (incomplete data)
    # promotion runs: the share of a promotion's extra units its dip takes back as the seller's own promotions show it,
    # and that read's variance (`optimize.promotions.dip_fit`); the agency's other sellers' runs start from it
    dip_share: Mapped[float | None] = mapped_column(Float)
    dip_share_variance: Mapped[float | None] = mapped_column(Float)
    # and the sums its promotions give the bend of the demand curve (`optimize.promotions.bend_stats`), likewise
    bend_stats: Mapped[dict | None] = mapped_column(JSON)
    # promotion runs: the ASINs skipped because their restocks leave them nearly out anyway, each with the reorder
    # level that would let a promotion through (`optimize.promotions.Skip.restock` + asin, marketplace_id, country)
    restock_hints: Mapped[list | None] = mapped_column(JSON)


# The review page's orders, as SQL over the row (no NULLs, so DESC sorts alike on PostgreSQL and SQLite). Each
# reads only columns of `ix_suggestions_review_campaign`, so a page's ids are sorted from that index alone and only
# the page's rows are read whole (`suggestions.queries.review_page`): an index per order cost every run's 66,000
# new rows ~1 s, each row going to a random place in each. Ranks are floats: sorting 100,000 numerics took twice
# as long.
_FLOAT = "cast({} AS double precision)"
CHANGE_RANK = (f"coalesce(abs({_FLOAT.format('coalesce(approved_value, proposed_value)')} - "
               f"{_FLOAT.format('current_value')}) / nullif({_FLOAT.format('current_value')}, 0), -1)")
SPEND_RANK = f"coalesce(abs({_FLOAT.format('expected_spend_delta')}), -1)"
SALES_RANK = f"coalesce(abs({_FLOAT.format('expected_sales_delta')}), -1)"
REVIEW_INCLUDE = ["expected_spend_delta", "expected_sales_delta", "kind", "reason", "marketplace", "direction",
                  "current_value", "proposed_value", "approved_value"]


class Suggestion(Base):
    __tablename__ = "suggestions"
    __table_args__ = (
        # One foreign key, on the run and its seller: the row's seller is its run's, and a run's 100,000 rows pay one
        # check each instead of two (~0.5 s). A seller's deletion reaches its suggestions through its runs.
        ForeignKeyConstraint(["run_id", "seller_id"], ["suggestion_runs.id", "suggestion_runs.seller_id"],
                             ondelete="CASCADE"),
        # The review page's counts per kind, status, reason and currency, its per-campaign sums and its orders
        # (every column a filter or an order reads): index-only scans on PostgreSQL, from one index; its
        # (seller_id, status) prefix serves every other lookup by status.
        Index("ix_suggestions_review_campaign", "seller_id", "status", "campaign_id", "id",
              postgresql_include=REVIEW_INCLUDE),
        # A target's decided suggestions (in flight, applied, measured); pending rows, the bulk of every run's
        # writes, are left out of it.
        Index("ix_suggestions_entity", "profile_id", "entity_id", postgresql_where=text("status <> 'pending'"),
              sqlite_where=text("status <> 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # Kind
    entity_kind: Mapped[str] = mapped_column(String(8))  # keyword | target (bids); asin (promotions)
    entity_ref: Mapped[str] = mapped_column(String(64))  # the entity's id at Amazon, as text
    marketplace: Mapped[str | None] = mapped_column(String(32))  # Amazon marketplace id (ATVPDKIKX0DER)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)  # kind-specific values (none for bids)
    profile_id: Mapped[int | None] = mapped_column(BigInteger)  # kinds acting on an Ads entity: its profile …
    entity_id: Mapped[int | None] = mapped_column(BigInteger)  # … and its Ads id (= entity_ref as a number)
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)
    ad_group_id: Mapped[int | None] = mapped_column(BigInteger)
    label: Mapped[str | None] = mapped_column(Text)  # keyword text or targeting expression, for people

    current_value: Mapped[Decimal]  # what we believed Amazon had when the engine ran
    proposed_value: Mapped[Decimal]
    approved_value: Mapped[Decimal | None]  # the proposal, or the reviewer's edit of it
    direction: Mapped[str] = mapped_column(String(8))  # Direction
    status: Mapped[str] = mapped_column(String(16), default="pending")  # suggestions.lifecycle.Status
    reason: Mapped[str] = mapped_column(String(48))
    explanation: Mapped[str] = mapped_column(Text, default="")
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)  # the evidence: clicks, orders, posterior, …
    expected_spend_delta: Mapped[Decimal | None]  # per day
    expected_sales_delta: Mapped[Decimal | None]

    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(254))  # the user's email, or "system" (auto-apply)
    applied_at: Mapped[dt.datetime | None]
    changed_on: Mapped[dt.date | None]  # business date (clock.today) of our last write: the engine's cooldown
    previous_value: Mapped[Decimal | None]  # Amazon's value just before we wrote ours
    undo_requested_by: Mapped[str | None] = mapped_column(String(254))
    undone_at: Mapped[dt.datetime | None]
    amazon_response: Mapped[dict | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)

    run: Mapped[SuggestionRun] = relationship()

    @property
    def value_to_apply(self) -> Decimal:
        return self.approved_value if self.approved_value is not None else self.proposed_value

    @property
    def change_pct(self) -> float | None:
        if not self.current_value:
            return None
        return float((self.value_to_apply - self.current_value) / self.current_value * 100)
