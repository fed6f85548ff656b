"""A small stand-in for `marketing.optimize.promotions` (spec §1) so the feature's tests do not depend on the
engine's numbers: the same names and shapes, with arithmetic simple enough to check by hand.

measure: baseline = mean units per day over the 28 days before the window; incremental = units during it −
baseline × days; profit = incremental × promoted margin − baseline × days × discount × price − fee.
suggest: a 20 % coupon for 7 days from tomorrow (after the ASIN's busy windows) for every ASIN with sales and a
unit cost; "enter unit cost" otherwise; one with a unit cost but under a week of its mean daily units in stock today
is skipped for its restocks, told to reorder at (20-day lead + 3) × that mean. dip_fit: Σ dip ÷ Σ incremental units
of the measurable rows, variance 0.01. bend_stats: the number of rows.
"""

from __future__ import annotations

import datetime as dt
import sys
import types
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# The real engine's value types, fee and discount arithmetic: only measure and suggest are stood in for.
from marketing.optimize.promotions.economics import (  # noqa: F401
    PRIOR_ELASTICITY,
    Fee,
    break_even_lift,
    discount_share,
    promotion_fee,
)
from marketing.optimize.promotions.suggest import Proposal, Skip


@dataclass(frozen=True)
class PromotionSettings:
    coupon_min_pct: float = 0.05
    coupon_max_pct: float = 0.50
    min_margin_after: float = 0.05
    horizon_days: int = 56
    lead_days: dict = field(default_factory=lambda: {"COUPON": 1, "BEST_DEAL": 14, "LIGHTNING_DEAL": 14})
    baseline_days: int = 28
    currency_symbol: str = "$"


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


def measure(daily, windows, economics, *, baseline_days=28, post_days=28, level=0.9):
    out = []
    econ = economics.set_index("asin") if len(economics) else pd.DataFrame()
    days_of = daily.assign(day=[_date(d) for d in daily["date"]]) if len(daily) else daily.assign(day=[])
    for w in windows.itertuples(index=False):
        start, end = _date(w.start), _date(w.end)
        rows = days_of[days_of["asin"] == w.asin]
        base = rows[(rows["day"] >= start - dt.timedelta(days=baseline_days)) & (rows["day"] < start)]
        during = rows[(rows["day"] >= start) & (rows["day"] <= end)]
        days = (end - start).days + 1
        if len(base) < baseline_days:
            out.append({"key": w.key, "asin": w.asin, "start": w.start, "end": w.end, "measurable": False,
                        "reason": "fewer than 28 baseline days", "days": days})
            continue
        q0 = float(base["units"].mean())
        units = float(during["units"].sum())
        inc = units - q0 * days
        price = float(econ.loc[w.asin, "price"]) if w.asin in econ.index else np.nan
        cost = float(econ.loc[w.asin, "unit_cost"]) if w.asin in econ.index else np.nan
        d = 0.0 if np.isnan(w.discount) else float(w.discount)
        profit = inc * (price * (1 - d) - cost) - q0 * days * price * d - float(w.fee)
        out.append({"key": w.key, "asin": w.asin, "start": w.start, "end": w.end, "measurable": True, "reason": "",
                    "baseline_units": q0, "days": days, "units": units, "incremental_units": inc,
                    "incremental_lo": inc - 5, "incremental_hi": inc + 5, "dip_units": 0.0, "cannibalised_units": 0.0,
                    "incremental_revenue": inc * price * (1 - d), "incremental_profit": profit,
                    "profit_lo": profit - 10, "profit_hi": profit + 10, "observed_discount": d,
                    "lift": units / (q0 * days) - 1 if q0 else np.nan})
    columns = ["key", "asin", "start", "end", "measurable", "reason", "baseline_units", "days", "units",
               "incremental_units", "incremental_lo", "incremental_hi", "dip_units", "cannibalised_units",
               "incremental_revenue", "incremental_profit", "profit_lo", "profit_hi", "observed_discount", "lift"]
    return pd.DataFrame(out, columns=columns)


def bend_stats(frames, *, between_sd=1.0):
    rows = sum(len(f) for f in frames if f is not None)
    return {"promotions": float(rows)} if rows else None


def elasticities(measured, *, prior=PRIOR_ELASTICITY, with_sd=False, elsewhere=None, peers=()):
    own = pd.Series(prior, index=sorted(set(measured["asin"])) if len(measured) else [], dtype=float)
    return pd.DataFrame({"elasticity": own, "sd": 1.0}) if with_sd else own


def dip_fit(measured, elsewhere=None, settings=None):
    rows = measured[measured["measurable"].astype(bool)] if measured is not None and len(measured) else None
    if rows is None or not len(rows) or rows["incremental_units"].sum() <= 0:
        return None
    return float(rows["dip_units"].sum() / rows["incremental_units"].sum()), 0.01


def suggest(daily, economics, *, inventory, busy, fees, elasticity, today, deal_types,
            settings=PromotionSettings(), promotions=None, measured=None, inventory_history=None,
            measured_elsewhere=None, peers=()):
    proposals, skips = [], []
    econ = economics.set_index("asin") if len(economics) else pd.DataFrame(columns=["price", "unit_cost"])
    for asin, rows in daily.groupby("asin"):
        if asin not in econ.index or np.isnan(econ.loc[asin, "unit_cost"]):
            skips.append(Skip(asin, "enter unit cost"))
            continue
        q0 = float(rows["units"].tail(28).mean())
        stock = float(inventory.get(asin, np.nan)) if inventory is not None else np.nan
        if stock < 7 * q0:
            skips.append(Skip(asin, "restocks leave it nearly out already (reorder earlier)",
                              {"lead_days": 20.0, "reorder_units": stock, "daily_units": q0, "reorder_at": 23 * q0}))
            continue
        start = today + dt.timedelta(days=settings.lead_days["COUPON"])
        for b in busy[busy["asin"] == asin].itertuples(index=False) if len(busy) else ():
            if _date(b.start) <= start + dt.timedelta(days=6) and _date(b.end) >= start:
                start = _date(b.end) + dt.timedelta(days=1)
        price, cost = float(econ.loc[asin, "price"]), float(econ.loc[asin, "unit_cost"])
        net = round(price * 0.8, 2)
        proposals.append(Proposal(
            asin=asin, type="COUPON", discount_type="PERCENT_OFF_LIST_PRICE", discount=0.2, start=start,
            end=start + dt.timedelta(days=6), budget=500.0, price=price, was_price=price, net_price=net,
            margin_before=price - cost, margin_after=net - cost, baseline_units=q0, expected_lift=0.5,
            break_even_lift=break_even_lift(price - cost, net - cost, q0, 5.0), expected_units=q0 * 7 * 0.5,
            units_lo=q0, units_hi=q0 * 7, expected_profit=12.5, profit_lo=1.0, profit_hi=30.0, fee=5.0,
            cover_days=None, elasticity=-3.6,
            explanation=f"A 20% coupon on {asin} for 7 days is expected to earn {settings.currency_symbol}12.50 more.",
            inputs={"baseline_units": q0, "price": price, "unit_cost": cost}))
    return proposals, skips


def install(monkeypatch) -> types.ModuleType:
    """Make this module `marketing.optimize.promotions` for the test."""
    module = sys.modules[__name__]
    monkeypatch.setitem(sys.modules, "marketing.optimize.promotions", module)
    import marketing.optimize

    monkeypatch.setattr(marketing.optimize, "promotions", module, raising=False)
    return module
