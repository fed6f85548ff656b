"""What the seller's Promotions page shows: measured past promotions (sortable), one ASIN's timeline, the latest
run's suggestions and what it skipped, and the plans with predicted vs actual."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from marketing.clock import today
from marketing.extensions import db
from marketing.models import InventoryDaily, PromotionPlan, SalesTrafficAsinDaily, Suggestion
from marketing.models.suggestions import Kind
from marketing.promotions import history, measuring, service
from marketing.suggestions import lifecycle, queries

SORTS = {  # ?sort= → the past promotion's value sorted on
    "start": lambda p: p.promotion.starts_at.isoformat(),
    "units": lambda p: p.outcome.get("incremental_units"),
    "profit": lambda p: p.outcome.get("incremental_profit"),
    "lift": lambda p: p.outcome.get("lift"),
}
CSV_HEADER = ["id", "type", "start", "end", "asins", "incremental_units", "incremental_profit", "currency", "lift",
              "measurable", "reasons"]
TIMELINE_DAYS = 180
COVER_DAYS = 30  # average daily units of this many days divide the stock into days of cover


def sorted_past(past: list[measuring.Past], sort: str, descending: bool) -> list[measuring.Past]:
    """Sorted on `sort` (unknown: start), rows without a value last either way."""
    key = SORTS.get(sort, SORTS["start"])
    known = [p for p in past if key(p) is not None]
    return sorted(known, key=key, reverse=descending) + [p for p in past if key(p) is None]


def csv_rows(past: list[measuring.Past]):
    for p in past:
        row = p.row
        yield [row["id"], row["type"], row["start"], row["end"], " ".join(row["asins"]), row["incremental_units"],
               row["incremental_profit"], row["currency"], p.outcome.get("lift"), p.outcome.get("measurable"),
               "; ".join(p.outcome.get("reasons", []))]


def pending(seller_id: int) -> list[Suggestion]:
    return list(db.session.scalars(select(Suggestion).where(
        Suggestion.seller_id == seller_id, Suggestion.kind == Kind.PROMOTION,
        Suggestion.status.in_(lifecycle.APPROVABLE)).order_by(Suggestion.id)))


def enter_unit_cost(seller_id: int) -> list[str]:
    """ASINs the latest run skipped for want of a unit cost."""
    run = queries.latest_run(seller_id, Kind.PROMOTION)
    return service.skipped_asins(run.notice if run else None, service.ENTER_UNIT_COST)


def plan_list(seller_id: int) -> list[PromotionPlan]:
    """Newest first: those in flight, then the ended ones."""
    return list(db.session.scalars(select(PromotionPlan).where(PromotionPlan.seller_id == seller_id)
                                   .order_by(PromotionPlan.id.desc())))


def asins(seller_id: int) -> list[str]:
    """The ASINs with by-ASIN history (the timeline's choices), best sellers of the last 30 days first."""
    s = SalesTrafficAsinDaily
    since = today() - dt.timedelta(days=COVER_DAYS)
    ranked = db.session.execute(select(s.asin, func.sum(s.units_ordered)).where(
        s.seller_id == seller_id).group_by(s.asin).order_by(
        func.sum(s.units_ordered).filter(s.date >= since).desc().nulls_last(), s.asin)).all()
    return [asin for asin, _ in ranked]


@dataclass(frozen=True)
class Timeline:
    asin: str
    marketplace_id: str
    currency: str | None
    days: list[tuple[dt.date, float, float | None, int | None]]  # day, units, price paid, sellable stock
    windows: list[dict]  # label, start, end, baseline (units per day) or None
    cover_days: float | None  # stock ÷ average daily units of the last COVER_DAYS days; None when unknown


def timeline(seller_id: int, asin: str) -> Timeline | None:
    """One ASIN's daily units and price paid, its promotions and plans as windows with their baselines, and its
    stock cover; None when the seller has no history for it."""
    for market_id in history.marketplaces(seller_id):
        end = today() - dt.timedelta(days=1)
        daily = history.daily(seller_id, market_id, end - dt.timedelta(days=TIMELINE_DAYS), end, asins=[asin])
        if daily.empty:
            continue
        currency = history.currency(seller_id, market_id)
        economics = history.economics(seller_id, currency)
        measured = measuring.measure_reported(seller_id, market_id, history.daily(
            seller_id, market_id, end - dt.timedelta(days=TIMELINE_DAYS + measuring.BASELINE_DAYS), end,
            asins=[asin]), economics)
        baselines = {r.key: r.baseline_units for r in measured.itertuples() if r.asin == asin and r.measurable}
        windows = [{"label": f"{p.type.replace('_', ' ').title()} {p.amazon_id}", "start": p.starts_at.date(),
                    "end": p.ends_at.date(), "baseline": baselines.get(history.promotion_key(p))}
                   for p in history.reported(seller_id, market_id, end - dt.timedelta(days=TIMELINE_DAYS))
                   if asin in {a.asin for a in p.asins}]
        windows += [{"label": f"Plan #{plan.id} ({plan.state})", "start": plan.start_date, "end": plan.end_date,
                     "baseline": (plan.predicted or {}).get("baseline_units")}
                    for plan in plan_list(seller_id) if asin in plan.asins and plan.marketplace_id == market_id]
        stock = _stock(seller_id, market_id, asin)
        days = [(r.date, float(r.units), float(r.sales) / float(r.units) if r.units else None, stock.get(r.date))
                for r in daily.itertuples()]
        return Timeline(asin, market_id, currency, days, windows, _cover(days, stock))
    return None


def _stock(seller_id: int, marketplace_id: str, asin: str) -> dict[dt.date, int]:
    i = InventoryDaily
    return dict(db.session.execute(select(i.date, i.fulfillable).where(
        i.seller_id == seller_id, i.marketplace_id == marketplace_id, i.asin == asin)).all())


def _cover(days: list, stock: dict[dt.date, int]) -> float | None:
    if not stock:
        return None
    recent = [units for _, units, _, _ in days[-COVER_DAYS:]]
    rate = sum(recent) / len(recent) if recent else 0
    latest = stock[max(stock)]
    return None if rate <= 0 else round(latest / rate, 1)
