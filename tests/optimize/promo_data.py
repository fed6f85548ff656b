"""Synthetic daily histories with planted promotions, so the estimators can be checked against a known truth."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

START = date(2026, 1, 5)  # a Monday
WEEKLY = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.0])  # Monday … Sunday, mean 1


def history(rate=10.0, *, days=120, price=20.0, asins=("A1",), parent=None, weekly=WEEKLY, seed=0,
            noise=True) -> pd.DataFrame:
    """Poisson units at `rate` × weekday factor per day for each ASIN, paying `price`."""
    rng = np.random.default_rng(seed)
    dates = [START + timedelta(days=i) for i in range(days)]
    frames = []
    for n, asin in enumerate(asins):
        mean = np.array([rate * weekly[d.weekday()] for d in dates])
        units = rng.poisson(mean).astype(float) if noise else mean.copy()
        frames.append(pd.DataFrame({"asin": asin, "parent_asin": parent, "date": dates, "units": units,
                                    "sales": units * price, "in_stock": True, "ad_spend": 0.0, "_mean": mean,
                                    "_n": n}))
    return pd.concat(frames, ignore_index=True)


def plant(daily: pd.DataFrame, asin: str, start: date, end: date, *, multiplier=1.0, price_factor=1.0,
          seed=1, noise=True) -> pd.DataFrame:
    """Redraw `asin`'s units on [start, end] at multiplier × its mean (and price paid × price_factor)."""
    rng = np.random.default_rng(seed)
    daily = daily.copy()
    rows = (daily["asin"] == asin) & (daily["date"] >= start) & (daily["date"] <= end)
    mean = daily.loc[rows, "_mean"].to_numpy() * multiplier
    units = rng.poisson(mean).astype(float) if noise else mean
    price = daily.loc[rows, "sales"].sum() / max(daily.loc[rows, "units"].sum(), 1)
    daily.loc[rows, "units"] = units
    daily.loc[rows, "sales"] = units * price * price_factor
    return daily


def window(key="p1", asin="A1", start=date(2026, 3, 2), days=7, *, type="COUPON", discount=0.2, fee=0.0):
    return {"key": key, "type": type, "asin": asin, "start": start, "end": start + timedelta(days=days - 1),
            "discount": discount, "fee": fee}


def economics(*asins, price=20.0, unit_cost=8.0, referral_pct=0.15, fba_fee=3.0) -> pd.DataFrame:
    return pd.DataFrame({"asin": list(asins), "price": price, "unit_cost": unit_cost, "referral_pct": referral_pct,
                         "fba_fee": fba_fee})


def fba_inventory(rate=10.0, *, days=120, lead=12, reorder=200.0, order=450.0, stock=400.0, asin="A1", drain=None,
                  first=START) -> pd.DataFrame:
    """Daily fulfillable and inbound units of an ASIN whose stock falls `drain` (default `rate`) a day under a
    reorder policy: when stock falls below `reorder` with nothing inbound, `order` units are inbound from the next
    day and land `lead` days after that. The sandbox's order of events: inbound clears on the landing day,
    fulfillable rises the day after."""
    drain = rate if drain is None else drain
    rows, level, pending, qty = [], stock, None, 0.0
    for k in range(days):
        inbound = qty if pending is not None and pending > k else 0.0
        rows.append((asin, first + timedelta(days=k), level, inbound))
        if pending == k:
            level, pending = level + qty, None
        level = max(level - drain, 0.0)
        if pending is None and level < reorder:
            pending, qty = k + lead, order
    return pd.DataFrame(rows, columns=["asin", "date", "fulfillable", "inbound"])
