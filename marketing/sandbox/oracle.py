"""The oracle: what a perfect bidder would do, for benchmarks only (served under /_sandbox/).

Expected values use the simulator's own formulas at average seasonality, without noise, promotions
or campaign budget caps. For a profile:

* sales = orders × units/order × price × P(purchase within the attribution window) — 7 days for
  seller profiles, 14 for vendor profiles — i.e. what the advertiser's report will credit;
* profit = Σ sales × pre-ad margin − ad cost, margin = (price − unit cost − fees) / price;
* the oracle maximises profit subject to the profile's aggregate ACoS (cost / sales) ≤ the target,
  over a per-target grid of bids (Lagrangian relaxation, bisection on the multiplier), among the
  targets that serve today. Targets that cannot be profitable under the constraint get the minimum bid.
"""

from __future__ import annotations

import numpy as np

from .auction import cost_per_click, ctr_at, win_rate
from .market import LAG_P, Book

GRID = 48
UNITS_PER_ORDER = 1.15


def window_share(book: Book) -> float:
    window = 14 if book.profile.account_type == "vendor" else 7
    return float(LAG_P[:window].sum())


def expected(book: Book, bids: np.ndarray) -> dict[str, np.ndarray]:
    """Expected daily impressions, clicks, cost, orders, sales and profit per target at `bids`."""
    c = book.cat
    serving = book.serving(book.market.today_ordinal)
    mu, sigma = _col(c.t_mu, bids), _col(c.t_sigma, bids)
    w = win_rate(bids, mu, sigma)
    impressions = _col(c.t_demand * serving, bids) * w
    clicks = impressions * ctr_at(_col(c.t_ctr, bids), w)
    cost = clicks * cost_per_click(bids, mu, sigma, book.min_bid, book.tick) * 0.95
    orders = clicks * _col(c.t_cvr, bids)
    price = c.price[c.t_product]
    sales = orders * UNITS_PER_ORDER * _col(price, bids) * window_share(book)
    profit = sales * _col(c.margin[c.t_product], bids) - cost
    return {
        "impressions": impressions,
        "clicks": clicks,
        "cost": cost,
        "orders": orders,
        "sales": sales,
        "profit": profit,
    }


def _col(v: np.ndarray, like: np.ndarray) -> np.ndarray:
    return v[:, None] if np.ndim(like) == 2 else v


def summary(book: Book, bids: np.ndarray) -> dict[str, float]:
    e = expected(book, bids)
    out = {k: float(v.sum()) for k, v in e.items()}
    out["acos"] = out["cost"] / out["sales"] if out["sales"] > 0 else None
    return out


def optimal_bids(book: Book, target_acos: float) -> np.ndarray:
    """The profit-maximising bid per target with aggregate ACoS ≤ target_acos."""
    c = book.cat
    n = book.n
    hi = np.minimum(book.max_bid, np.maximum(book.min_bid * 2, np.exp(c.t_mu + 2.5 * c.t_sigma)))
    steps = np.linspace(0.0, 1.0, GRID)
    grid = np.exp(np.log(book.min_bid) + np.outer(np.log(hi / book.min_bid), steps))
    grid = np.clip(np.round(grid, 0 if book.tick >= 1 else 2), book.min_bid, book.max_bid)
    e = expected(book, grid)
    sales, cost, margin = e["sales"], e["cost"], c.margin[c.t_product][:, None]
    rows = np.arange(n)

    def choose(lam: float) -> np.ndarray:
        score = sales * (margin + lam * target_acos) - cost * (1.0 + lam)
        return np.argmax(score, axis=1)

    def acos(pick: np.ndarray) -> float:
        s = sales[rows, pick].sum()
        return float(cost[rows, pick].sum() / s) if s > 0 else 0.0

    pick = choose(0.0)
    if acos(pick) > target_acos:
        lo, hi_lam = 0.0, 1.0
        while acos(choose(hi_lam)) > target_acos and hi_lam < 1e6:
            lo, hi_lam = hi_lam, hi_lam * 4
        for _ in range(40):
            mid = (lo + hi_lam) / 2
            if acos(choose(mid)) > target_acos:
                lo = mid
            else:
                hi_lam = mid
        pick = choose(hi_lam)
    return grid[rows, pick]
