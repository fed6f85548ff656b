"""Lift of past promotions and of plans, from the engine's `measure` over the seller's by-ASIN history.

Reported promotions are measured when read (the page, `marketing promotions list`, a suggestion run): nothing is
stored of them but what Amazon reported. A plan's outcome is stored on the plan (`actual`) once it has ended.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from marketing.clock import today
from marketing.extensions import db
from marketing.models import Promotion, PromotionPlan
from marketing.promotions import history

BASELINE_DAYS = 28  # the engine's default baseline and post-promotion windows (spec §1)
POST_DAYS = 28
# The per-key sums kept of the engine's per-ASIN rows.
SUMMED = ("baseline_units", "units", "incremental_units", "incremental_lo", "incremental_hi", "dip_units",
          "cannibalised_units", "incremental_revenue", "incremental_profit", "profit_lo", "profit_hi")


def measure_reported(seller_id: int, marketplace_id: str, daily: pd.DataFrame, economics: pd.DataFrame
                     ) -> pd.DataFrame:
    """The engine's per-(promotion, ASIN) rows for the marketplace's reported promotions over `daily`."""
    since = today() - dt.timedelta(days=history.HISTORY_DAYS)
    prices = economics.set_index("asin")["price"].to_dict() if len(economics) else {}
    rows = [row for promotion in history.reported(seller_id, marketplace_id, since)
            for row in history.promotion_window(promotion, prices)]
    return history.engine().measure(daily, history.windows(rows), economics)


def promoted_asins(seller_id: int, marketplace_id: str) -> list[str]:
    """The ASINs of the marketplace's reported promotions: the only history their lift is read from."""
    since = today() - dt.timedelta(days=history.HISTORY_DAYS)
    return sorted({a.asin for p in history.reported(seller_id, marketplace_id, since) for a in p.asins})


def totals(rows: pd.DataFrame) -> dict:
    """One key's outcome: the per-ASIN figures summed over its measurable ASINs, and why others were not."""
    ok = rows[rows["measurable"].astype(bool)]
    out = {name: _number(ok[name].sum()) if len(ok) else None for name in SUMMED}
    out["lift"] = (_number(ok["units"].sum() / ok["baseline_units"].mul(ok["days"]).sum() - 1)
                   if len(ok) and ok["baseline_units"].mul(ok["days"]).sum() > 0 else None)
    out["measurable"] = bool(len(ok))
    out["reasons"] = sorted({str(r) for r in rows.loc[~rows["measurable"].astype(bool), "reason"] if r})
    return out


def _number(value) -> float | None:
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None


@dataclass(frozen=True)
class Past:
    """A reported promotion with its measured lift (the page's table, `marketing promotions list`)."""

    promotion: Promotion
    outcome: dict

    @property
    def row(self) -> dict:
        p = self.promotion
        return {"id": p.amazon_id, "type": p.type, "start": p.starts_at.date().isoformat(),
                "end": p.ends_at.date().isoformat(), "asins": [a.asin for a in p.asins],
                "incremental_units": self.outcome.get("incremental_units"),
                "incremental_profit": self.outcome.get("incremental_profit"), "currency": p.currency_code}


def past(seller_id: int) -> list[Past]:
    """Every reported promotion of the seller in the history's span, newest first, with its measured lift."""
    found = []
    for market_id in _promotion_marketplaces(seller_id):
        currency = history.currency(seller_id, market_id)
        economics = history.economics(seller_id, currency)
        day = today()
        daily = history.daily(seller_id, market_id, day - dt.timedelta(days=history.HISTORY_DAYS + BASELINE_DAYS),
                              day - dt.timedelta(days=1), asins=promoted_asins(seller_id, market_id))
        measured = measure_reported(seller_id, market_id, daily, economics)
        by_key = {key: rows for key, rows in measured.groupby("key")} if len(measured) else {}
        since = day - dt.timedelta(days=history.HISTORY_DAYS)
        for promotion in history.reported(seller_id, market_id, since):
            rows = by_key.get(history.promotion_key(promotion))
            found.append(Past(promotion, totals(rows) if rows is not None else {"measurable": False, "reasons": [
                "no sales history for its ASINs"]}))
    return sorted(found, key=lambda p: p.promotion.starts_at, reverse=True)


def _promotion_marketplaces(seller_id: int) -> list[str]:
    return sorted(db.session.scalars(select(Promotion.marketplace_id).distinct().where(
        Promotion.seller_id == seller_id)))


def measure_plan(plan: PromotionPlan, day: dt.date) -> dict:
    """A plan's actual outcome: over the matched promotion's dates and fee where the reports found it, else over
    the plan's own dates from Sales & Traffic; with the history stored up to the day before `day`."""
    currency = history.currency(plan.seller_id, plan.marketplace_id) or plan.currency_code
    economics = history.economics(plan.seller_id, currency)
    prices = economics.set_index("asin")["price"].to_dict() if len(economics) else {}
    if plan.promotion is not None:
        rows, key = history.promotion_window(plan.promotion, prices), history.promotion_key(plan.promotion)
        start, end = plan.promotion.starts_at.date(), plan.promotion.ends_at.date()
    else:
        rows, key = history.plan_window(plan, prices), history.plan_key(plan)
        start, end = plan.start_date, plan.end_date
    daily = history.daily(plan.seller_id, plan.marketplace_id, start - dt.timedelta(days=BASELINE_DAYS + 7),
                          min(end + dt.timedelta(days=POST_DAYS), day - dt.timedelta(days=1)),
                          asins=sorted({row[2] for row in rows}))
    measured = history.engine().measure(daily, history.windows(rows), economics)
    return totals(measured[measured["key"] == key])
