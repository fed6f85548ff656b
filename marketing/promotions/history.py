"""The tables as the promotion engine's frames (`marketing.optimize.promotions`, spec §1), per seller and
marketplace: the by-ASIN sales history, the economics the seller entered, stock, fees in force, the windows of
past promotions and plans, and what keeps a new promotion's dates busy.

Daily Sales & Traffic rows are used where they exist; older weeks (`SalesTrafficAsinWeekly`) are spread evenly
over their seven days, which is all a 28-day baseline needs of them (marked `exact` False: the engine reads no dip
or sibling loss from them). Stock is known only for FBA ASINs on the days an inventory row was stored (the
inventory summaries answer for today only, so from the first sync on): elsewhere `in_stock` is unknown (None) and
the engine counts the day as in stock for baselines but reads no dip from it, and the cover is unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from marketing.extensions import db
from marketing.models import (
    InventoryDaily,
    PlanState,
    Product,
    Promotion,
    PromotionFee,
    PromotionPlan,
    PromotionType,
    SalesTrafficAsinDaily,
    SalesTrafficAsinWeekly,
)
from marketing.models.promotions import DiscountType

HISTORY_DAYS = 400  # what the ingest keeps of reported promotions, and the history read for them
DEAL_TYPE_DAYS = 365  # deal types the seller ran this recently may be suggested
IN_FLIGHT = (PlanState.PLANNED, PlanState.ENTERED, PlanState.RUNNING)  # plans that keep their ASINs' dates busy
DAILY_COLUMNS = ["asin", "parent_asin", "date", "units", "sales", "in_stock", "exact"]
WINDOW_COLUMNS = ["key", "type", "asin", "start", "end", "discount", "fee"]


def engine():
    """The promotion engine (numpy/pandas); imported where it is used so that pages without it stay light."""
    import marketing.optimize.promotions as promotions  # why: the engine loads only in the jobs/pages using it

    return promotions


def marketplaces(seller_id: int) -> list[str]:
    """The marketplaces with by-ASIN sales history for the seller, in a stable order."""
    found = set(db.session.scalars(select(SalesTrafficAsinDaily.marketplace_id).distinct()
                                   .where(SalesTrafficAsinDaily.seller_id == seller_id)))
    found |= set(db.session.scalars(select(SalesTrafficAsinWeekly.marketplace_id).distinct()
                                    .where(SalesTrafficAsinWeekly.seller_id == seller_id)))
    return sorted(found)


def currency(seller_id: int, marketplace_id: str) -> str | None:
    """The marketplace's currency as the seller's history reports it."""
    return db.session.scalar(select(SalesTrafficAsinDaily.currency_code).where(
        SalesTrafficAsinDaily.seller_id == seller_id, SalesTrafficAsinDaily.marketplace_id == marketplace_id
    ).limit(1)) or db.session.scalar(select(SalesTrafficAsinWeekly.currency_code).where(
        SalesTrafficAsinWeekly.seller_id == seller_id, SalesTrafficAsinWeekly.marketplace_id == marketplace_id
    ).limit(1))


def daily(seller_id: int, marketplace_id: str, start: dt.date, end: dt.date,
          asins: list[str] | None = None) -> pd.DataFrame:
    """Units, sales and stock per ASIN and day from `start` to `end` (the engine's `daily`)."""
    s = SalesTrafficAsinDaily
    query = select(s.asin, s.parent_asin, s.date, s.units_ordered, s.ordered_sales).where(
        s.seller_id == seller_id, s.marketplace_id == marketplace_id, s.date >= start, s.date <= end)
    if asins is not None:
        query = query.where(s.asin.in_(asins))
    rows = [(asin, parent or asin, day, int(units), float(sales), True)
            for asin, parent, day, units, sales in db.session.execute(query)]
    seen = {(asin, day) for asin, _, day, _, _, _ in rows}
    w = SalesTrafficAsinWeekly
    weekly = select(w.asin, w.parent_asin, w.week_start, w.units_ordered, w.ordered_sales).where(
        w.seller_id == seller_id, w.marketplace_id == marketplace_id, w.week_start >= start - dt.timedelta(days=6),
        w.week_start <= end)
    if asins is not None:
        weekly = weekly.where(w.asin.in_(asins))
    for asin, parent, week, units, sales in db.session.execute(weekly):
        for offset in range(7):
            day = week + dt.timedelta(days=offset)
            if start <= day <= end and (asin, day) not in seen:
                rows.append((asin, parent or asin, day, int(units) / 7, float(sales) / 7, False))
    # An ASIN without a parent (rows stored before Amazon's parentAsin was kept) is its own: no siblings known.
    frame = pd.DataFrame(rows, columns=["asin", "parent_asin", "date", "units", "sales", "exact"]).astype(
        {"units": float, "sales": float, "exact": bool})
    stock = _stock_days(seller_id, marketplace_id, start, end)
    frame["in_stock"] = pd.Series([stock.get((a, d)) for a, d in zip(frame["asin"], frame["date"], strict=True)],
                                  dtype=object)
    return frame.sort_values(["asin", "date"], ignore_index=True)[DAILY_COLUMNS]


def last_day(seller_id: int, marketplace_id: str, asins: list[str]) -> dt.date | None:
    """The last day the daily by-ASIN history holds for any of `asins` (the back-fill stores it after a sync)."""
    s = SalesTrafficAsinDaily
    return db.session.scalar(select(func.max(s.date)).where(
        s.seller_id == seller_id, s.marketplace_id == marketplace_id, s.asin.in_(asins)))


def _stock_days(seller_id: int, marketplace_id: str, start: dt.date, end: dt.date) -> dict[tuple[str, dt.date], bool]:
    """(ASIN, day) → whether the FBA inventory stored that day showed anything sellable."""
    i = InventoryDaily
    return {(asin, day): fulfillable > 0 for asin, day, fulfillable in db.session.execute(
        select(i.asin, i.date, i.fulfillable).where(i.seller_id == seller_id, i.marketplace_id == marketplace_id,
                                                    i.date >= start, i.date <= end))}


def economics(seller_id: int, currency_code: str | None) -> pd.DataFrame:
    """Price, unit cost, referral fee (a fraction; NaN where not entered: `fees_per_unit`'s default) and FBA fee
    per ASIN the seller entered; values entered in another currency than the marketplace's are not used."""
    rows = []
    for p in db.session.scalars(select(Product).where(Product.seller_id == seller_id, Product.archived.is_(False))):
        if p.currency_code not in (None, currency_code):
            continue
        rows.append((p.asin, _float(p.price), _float(p.unit_cost), _float(p.referral_fee_pct) / 100,
                     _float(p.fba_fee, 0.0)))
    return pd.DataFrame(rows, columns=["asin", "price", "unit_cost", "referral_pct", "fba_fee"]).astype(
        {"price": float, "unit_cost": float, "referral_pct": float, "fba_fee": float})


def _float(value, missing=np.nan) -> float:
    return missing if value is None else float(value)


def inventory(seller_id: int, marketplace_id: str) -> pd.Series:
    """Sellable FBA units per ASIN on the latest inventory day (ASINs without a row are unknown: absent)."""
    i = InventoryDaily
    latest = select(func.max(i.date)).where(i.seller_id == seller_id, i.marketplace_id == marketplace_id)
    rows = db.session.execute(select(i.asin, i.fulfillable).where(
        i.seller_id == seller_id, i.marketplace_id == marketplace_id, i.date == latest.scalar_subquery())).all()
    return pd.Series({asin: float(units) for asin, units in rows}, dtype=float)


def inventory_history(seller_id: int, marketplace_id: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Fulfillable and inbound FBA units per ASIN and stored day in [start, end]: what the engine learns each ASIN's
    restocks from (lead time, reorder level, order size)."""
    i = InventoryDaily
    rows = db.session.execute(select(i.asin, i.date, i.fulfillable, i.inbound).where(
        i.seller_id == seller_id, i.marketplace_id == marketplace_id, i.date >= start, i.date <= end)).all()
    return pd.DataFrame(rows, columns=["asin", "date", "fulfillable", "inbound"]).astype(
        {"fulfillable": float, "inbound": float})


def fee_rows(marketplace_id: str, day: dt.date) -> dict[str, PromotionFee]:
    """Per promotion type, the fee row in force on `day` in the marketplace."""
    rows = db.session.scalars(select(PromotionFee).where(
        PromotionFee.marketplace_id == marketplace_id, PromotionFee.effective_from <= day
    ).order_by(PromotionFee.effective_from))
    return {row.type: row for row in rows}  # the latest start per type wins


def fees(marketplace_id: str, day: dt.date) -> dict:
    """Per promotion type, the engine's `Fee` in force on `day`."""
    return {kind: as_fee(row) for kind, row in fee_rows(marketplace_id, day).items()}


def as_fee(row: PromotionFee):
    return engine().Fee(fixed=float(row.fixed), per_day=float(row.per_day), per_redemption=float(row.per_redemption),
                        variable_pct=float(row.variable_pct) / 100, variable_cap=_float(row.variable_cap, None))


def reported(seller_id: int, marketplace_id: str, since: dt.date) -> list[Promotion]:
    """The marketplace's reported promotions that started on or after `since`, with their ASINs."""
    return list(db.session.scalars(select(Promotion).where(
        Promotion.seller_id == seller_id, Promotion.marketplace_id == marketplace_id,
        Promotion.starts_at >= dt.datetime.combine(since, dt.time(), dt.UTC)).order_by(Promotion.starts_at)))


def promotion_key(promotion: Promotion) -> str:
    return f"promotion-{promotion.id}"


def plan_key(plan: PromotionPlan) -> str:
    return f"plan-{plan.id}"


def promotion_window(promotion: Promotion, prices: dict[str, float]) -> list[tuple]:
    """A reported promotion as the engine's window rows (one per ASIN): a coupon's discount as a fraction of the
    price (an amount off needs the ASIN's price), a deal's unknown (the engine reads the observed price drop);
    its fee from the table in force on its start."""
    start, end = promotion.starts_at.date(), promotion.ends_at.date()
    fee_row = fee_rows(promotion.marketplace_id, start).get(promotion.type)
    fee = 0.0
    if fee_row is not None:
        fee = engine().promotion_fee(as_fee(fee_row), days=(end - start).days + 1,
                                     sales=float(promotion.revenue or 0), redemptions=float(promotion.redemptions or 0))
    rows = []
    for item in promotion.asins:
        rows.append((promotion_key(promotion), promotion.type, item.asin, start, end,
                     _fraction(promotion.discount_type, promotion.discount_amount, prices.get(item.asin)), fee))
    return rows


def plan_window(plan: PromotionPlan, prices: dict[str, float]) -> list[tuple]:
    """A plan measured over its own dates (not found in the reports), with its fee estimated from the table."""
    fee_row = fee_rows(plan.marketplace_id, plan.start_date).get(plan.type)
    days = (plan.end_date - plan.start_date).days + 1
    fee = 0.0 if fee_row is None else engine().promotion_fee(as_fee(fee_row), days=days, sales=0.0, redemptions=0.0)
    return [(plan_key(plan), plan.type, asin, plan.start_date, plan.end_date,
             _fraction(plan.discount_type, plan.discount_amount, prices.get(asin)), fee) for asin in plan.asins]


def _fraction(discount_type: str | None, amount: Decimal | None, price: float | None) -> float:
    """The discount as a share of the price (`discount_share`); NaN without an amount."""
    return np.nan if amount is None else float(engine().discount_share(discount_type, float(amount), price))


def windows(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS).astype({"discount": float, "fee": float})


def busy(seller_id: int, marketplace_id: str, day: dt.date, *, except_plan: int | None = None,
         prices: dict[str, float] | None = None) -> pd.DataFrame:
    """(asin, start, end, type, discount) of promotions running or starting from `day` on, and of plans in flight;
    discount as a fraction of the price (an amount off needs the ASIN's price from `prices`; a deal's is unknown
    until reported: NaN), so the engine can run the stock forward at their pace."""
    rows, prices = [], prices or {}
    since = dt.datetime.combine(day, dt.time(), dt.UTC)
    for promotion in db.session.scalars(select(Promotion).where(
            Promotion.seller_id == seller_id, Promotion.marketplace_id == marketplace_id, Promotion.ends_at >= since)):
        rows += [(a.asin, promotion.starts_at.date(), promotion.ends_at.date(), promotion.type,
                  _fraction(promotion.discount_type, promotion.discount_amount, prices.get(a.asin)))
                 for a in promotion.asins]
    for plan in db.session.scalars(select(PromotionPlan).where(
            PromotionPlan.seller_id == seller_id, PromotionPlan.marketplace_id == marketplace_id,
            PromotionPlan.state.in_(IN_FLIGHT), PromotionPlan.end_date >= day)):
        if plan.id != except_plan:
            rows += [(asin, plan.start_date, plan.end_date, plan.type,
                      _fraction(plan.discount_type, plan.discount_amount, prices.get(asin))) for asin in plan.asins]
    return pd.DataFrame(rows, columns=["asin", "start", "end", "type", "discount"]).astype({"discount": float})


def deal_types(seller_id: int, marketplace_id: str, day: dt.date) -> set[str]:
    """The deal types the seller ran in the marketplace in the last `DEAL_TYPE_DAYS` days."""
    since = dt.datetime.combine(day - dt.timedelta(days=DEAL_TYPE_DAYS), dt.time(), dt.UTC)
    return set(db.session.scalars(select(Promotion.type).distinct().where(
        Promotion.seller_id == seller_id, Promotion.marketplace_id == marketplace_id,
        Promotion.type != PromotionType.COUPON, Promotion.starts_at >= since)))


@dataclass(frozen=True)
class Running:
    """A promotion in force on an ASIN: what the bid engine's margin uses instead of the full price."""

    type: str
    discount_type: str
    discount: Decimal  # percent or money, per discount_type
    end: dt.date

    def net_price(self, price: Decimal) -> Decimal:
        """What buyers pay while it runs: never below 0, even for an amount off past the price."""
        return price * (1 - engine().discount_share(self.discount_type, self.discount, price, floor=True))

    def describe(self, currency: str | None) -> str:
        off = (f"{self.discount.normalize():f}%" if self.discount_type != DiscountType.AMOUNT
               else f"{self.discount.normalize():f} {currency or ''}".strip())
        return f"{self.type.replace('_', ' ').lower()} ({off} off) until {self.end.isoformat()}"


def in_force(seller_id: int, day: dt.date) -> dict[str, Running]:
    """Per ASIN, the promotion with a known discount running on `day`: a reported coupon, or a plan marked
    entered whose dates cover the day (a reported deal's discount is only known once measured)."""
    found: dict[str, Running] = {}
    moment = dt.datetime.combine(day, dt.time(12), dt.UTC)
    for promotion in db.session.scalars(select(Promotion).where(
            Promotion.seller_id == seller_id, Promotion.starts_at <= moment, Promotion.ends_at >= moment,
            Promotion.discount_amount.is_not(None))):
        for item in promotion.asins:
            found[item.asin] = Running(promotion.type, promotion.discount_type or DiscountType.PERCENT,
                                       promotion.discount_amount, promotion.ends_at.date())
    for plan in db.session.scalars(select(PromotionPlan).where(
            PromotionPlan.seller_id == seller_id, PromotionPlan.state.in_((PlanState.ENTERED, PlanState.RUNNING)),
            PromotionPlan.start_date <= day, PromotionPlan.end_date >= day)):
        for asin in plan.asins:
            found.setdefault(asin, Running(plan.type, plan.discount_type, plan.discount_amount, plan.end_date))
    return found

