"""The oracle: what a perfect bidder would do, for benchmarks only (served under /_sandbox/).

Expected values use the simulator's own formulas (those of the run's market shape, `shapes.py`) at
average seasonality, without noise or promotions. For a profile:

* sales = orders × units/order × price × P(purchase within the attribution window) — 7 days for
  seller profiles, 14 for vendor profiles — i.e. what the advertiser's report will credit;
* profit = Σ sales × pre-ad margin − ad cost, margin = (price − unit cost − fees) / price;
* campaign budgets: in every shape but `second-price`, a campaign whose expected spend is above its
  daily budget serves only budget / spend of the day (all its figures scale down); `second-price`
  ignores budgets, as it always has;
* the oracle's bids serve one of two objectives under the profile's aggregate ACoS (cost / sales)
  ≤ the target, among the targets that serve today: `profit` (the most profit) or `growth` (the most
  sales). Per-target grid of bids, Lagrangian relaxation with bisection on the ACoS multiplier and,
  where budgets count, on one multiplier per campaign so that no campaign's spend exceeds its budget.
  Targets that cannot pay under the constraint get the minimum bid.
"""

from __future__ import annotations

import numpy as np

from .auction import ctr_at
from .market import Book

GRID = 48
UNITS_PER_ORDER = 1.15
OBJECTIVES = ("profit", "growth")


def window_share(book: Book) -> float:
    window = 14 if book.profile.account_type == "vendor" else 7
    return float(book.shape.lag[:window].sum())


def _per_target(book: Book, bids: np.ndarray) -> dict[str, np.ndarray]:
    """Expected daily figures per target at `bids` (a column, or a targets × grid matrix), budgets aside."""
    c = book.cat
    serving = book.serving(book.market.today_ordinal)
    w = book.shape.win(c, bids)
    impressions = _col(c.t_demand * serving, bids) * w
    clicks = impressions * ctr_at(_col(c.t_ctr, bids), w)
    cost = clicks * book.shape.cpc(c, bids, book.min_bid, book.tick) * 0.95
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


def _budget_share(book: Book, cost: np.ndarray) -> np.ndarray:
    """Per campaign, the share of the day it serves: budget / expected spend where that is below 1."""
    c = book.cat
    spend = np.bincount(c.t_campaign, weights=cost, minlength=len(c.c_id))
    return np.minimum(1.0, c.c_budget / np.maximum(spend, 1e-12))


def expected(book: Book, bids: np.ndarray) -> dict[str, np.ndarray]:
    """Expected daily impressions, clicks, cost, orders, sales and profit per target at `bids`."""
    e = _per_target(book, bids)
    if book.shape.classic:
        return e
    share = _budget_share(book, e["cost"])[book.cat.t_campaign]
    return {k: v * share for k, v in e.items()}


def _col(v: np.ndarray, like: np.ndarray) -> np.ndarray:
    return v[:, None] if np.ndim(like) == 2 else v


def summary(book: Book, bids: np.ndarray) -> dict[str, float]:
    e = expected(book, bids)
    out = {k: float(v.sum()) for k, v in e.items()}
    out["acos"] = out["cost"] / out["sales"] if out["sales"] > 0 else None
    # campaigns whose expected spend at these bids (before any cut) reaches their daily budget
    out["budget_bound_campaigns"] = int((_budget_share(book, _per_target(book, bids)["cost"]) < 1.0).sum())
    return out


def optimal_bids(book: Book, target_acos: float, objective: str = "profit") -> np.ndarray:
    """The bid per target that maximises `objective` ("profit" or "growth") with aggregate ACoS ≤ target_acos
    (and, where the shape counts budgets, every campaign's spend ≤ its budget)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}")
    c = book.cat
    n = book.n
    hi = np.minimum(book.max_bid, np.maximum(book.min_bid * 2, np.exp(c.t_mu + 2.5 * c.t_sigma)))
    if not book.shape.classic:  # the going rate may not be log-normal: search up to 3x the starting bids too
        start = np.where(np.isnan(c.t_bid), c.g_bid[c.t_group], c.t_bid)
        hi = np.minimum(book.max_bid, np.maximum(hi, 3 * start))
    steps = np.linspace(0.0, 1.0, GRID)
    grid = np.exp(np.log(book.min_bid) + np.outer(np.log(hi / book.min_bid), steps))
    grid = np.clip(np.round(grid, 0 if book.tick >= 1 else 2), book.min_bid, book.max_bid)
    e = _per_target(book, grid)
    sales, cost = e["sales"], e["cost"]
    value = c.margin[c.t_product][:, None] if objective == "profit" else np.ones((n, 1))
    own_cost = 1.0 if objective == "profit" else 0.0  # profit pays for its clicks; growth only through the cap
    rows = np.arange(n)
    camp, n_c = c.t_campaign, len(c.c_id)
    budget = c.c_budget

    def spend(pick: np.ndarray) -> np.ndarray:
        return np.bincount(camp, weights=cost[rows, pick], minlength=n_c)

    def choose(lam: float, nu: np.ndarray) -> np.ndarray:
        score = sales * (value + lam * target_acos) - cost * (own_cost + lam + nu[camp][:, None])
        return np.argmax(score, axis=1)

    def within_budgets(lam: float) -> np.ndarray:
        nu = np.zeros(n_c)
        pick = choose(lam, nu)
        if book.shape.classic:
            return pick
        over = spend(pick) > budget
        if not over.any():
            return pick
        lo, hi_nu = np.zeros(n_c), np.where(over, 1.0, 0.0)
        for _ in range(30):  # grow the multiplier of campaigns still over budget
            still = spend(choose(lam, hi_nu)) > budget
            if not (still & (hi_nu < 1e6)).any():
                break
            lo, hi_nu = np.where(still, hi_nu, lo), np.where(still, hi_nu * 4, hi_nu)
        for _ in range(30):
            mid = (lo + hi_nu) / 2
            too_much = spend(choose(lam, mid)) > budget
            lo, hi_nu = np.where(too_much, mid, lo), np.where(too_much, hi_nu, mid)
        return choose(lam, hi_nu)

    def acos(pick: np.ndarray) -> float:
        s = sales[rows, pick].sum()
        return float(cost[rows, pick].sum() / s) if s > 0 else 0.0

    pick = within_budgets(0.0)
    if acos(pick) > target_acos:
        lo, hi_lam = 0.0, 1.0
        while acos(within_budgets(hi_lam)) > target_acos and hi_lam < 1e6:
            lo, hi_lam = hi_lam, hi_lam * 4
        for _ in range(40):
            mid = (lo + hi_lam) / 2
            if acos(within_budgets(mid)) > target_acos:
                lo = mid
            else:
                hi_lam = mid
        pick = within_budgets(hi_lam)
    return grid[rows, pick]
