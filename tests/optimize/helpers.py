"""A small account to run the engine on: one ad group of steady siblings plus the targets under test."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from marketing.optimize.bids import suggest_bids
from marketing.optimize.settings import BidSettings

TODAY = date(2025, 6, 1)


def target(target_id, *, bid=1.0, impressions=5000, clicks=0, orders=0, cost=None, sales=None, **extra) -> dict:
    row = {
        "target_id": target_id,
        "kind": "keyword",
        "campaign_id": "c1",
        "ad_group_id": "g1",
        "current_bid": bid,
        "ad_group_default_bid": 0.50,
        "impressions": impressions,
        "clicks": clicks,
        "orders": orders,
        "cost": clicks * (bid if bid == bid else 0.5) * 0.8 if cost is None else cost,
        "sales": orders * 30.0 if sales is None else sales,
        "price": 30.0,
        "state": "enabled",
        "manual": True,
    }
    return row | extra


def account(*rows: dict, siblings: int = 20) -> pd.DataFrame:
    """Siblings convert at 2–18% (10% overall) with $30 orders: the ad group's prior is ~10% CVR, AOV $30."""
    orders = [1, 9, 5, 2, 8]
    background = [target(f"sib{i}", clicks=50, orders=orders[i % 5], impressions=6000) for i in range(siblings)]
    return pd.DataFrame(background + list(rows))


def suggest(*rows: dict, settings: BidSettings | None = None, **kwargs) -> pd.DataFrame:
    out = suggest_bids(account(*rows), settings or BidSettings(), today=TODAY, **kwargs)
    return out[~out["target_id"].str.startswith("sib")].set_index("target_id")


def random_account(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 60, n)
    impressions = np.floor(rng.lognormal(5, 2, n)).astype(int)
    clicks = rng.binomial(impressions, 0.01)
    orders = rng.binomial(clicks, rng.beta(2, 18, 60)[group])
    bid = np.round(rng.lognormal(np.log(0.8), 0.7, n), 2).clip(0.02, 50)
    return pd.DataFrame(
        {
            "target_id": [f"t{i}" for i in range(n)],
            "kind": "keyword",
            "campaign_id": group // 6,
            "ad_group_id": group,
            "current_bid": np.where(rng.random(n) < 0.1, np.nan, bid),
            "ad_group_default_bid": 0.6,
            "impressions": impressions,
            "clicks": clicks,
            "orders": orders,
            "cost": np.round(clicks * bid * rng.uniform(0.4, 1.0, n), 2),
            "sales": np.round(orders * rng.lognormal(np.log(30), 0.3, n), 2),
            "price": 30.0,
            "state": "enabled",
            "manual": True,
        }
    )


def sentence(explanation: str) -> str:
    """An explanation without its closing "Objective: …" sentence (tested on its own in test_market_fit)."""
    return explanation.split(" Objective: ")[0]
