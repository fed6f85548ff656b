"""Market shapes: the rules of the simulated ad market, chosen per run (`marketing sandbox --market NAME`).

A product tuned on one market can fail on another, so the sandbox offers several. Each shape changes one
mechanism of the default `second-price` market and keeps everything else (catalog, demand, seasonality,
promotions, stock):

* `second-price` — today's market, bit for bit: log-normal competition, the winner pays the expected
  competing bid plus a tick; a campaign over budget loses a share of its traffic (floored); the oracle
  ignores budgets.
* `bid-share` — the price paid is a hidden per-target share (55–90 %) of the bid: CPC rises in
  proportion to the bid, so the last clicks bought cost far more than the average.
* `logistic` — impression share is a logistic curve of the bid (linear scale), steep around the going
  rate and saturating below 100 % (55–95 %); the winner pays the expected competing bid under it.
* `duds` — heavy-tailed conversion: 30 % of targets are true duds (CVR 0.1 %), the rest spread with a
  log-normal σ = 0.9 around their archetype; duds sit in ad groups beside good targets.
* `slow-lag` — most orders arrive days after the click (7 % the same day, median 4 days).
* `budget-bound` — half the campaigns that spend have a daily budget below what their starting bids
  would spend: they stop serving when the budget is spent, most days.

Every shape but `second-price` stops a campaign's traffic exactly when its budget is spent (the click
that crosses the budget is the last one charged) and gives the other campaigns roomy budgets (3–6× their
spend at the starting bids), and its oracle takes budgets into account. The product sees none of this:
reports, entities and budgets look like Amazon's whatever the shape; only `/_sandbox/` names the shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .auction import cost_per_click, ctr_at, logistic_cpc, logistic_win, share_cpc, win_rate

LAG_P = np.array([0.52, 0.14, 0.08, 0.05, 0.04, 0.03, 0.02] + [0.012] * 7 + [0.002] * 16, dtype=np.float64)
LAG_P /= LAG_P.sum()
SLOW_LAG_P = np.array(
    [0.07, 0.08, 0.1, 0.13, 0.14, 0.13, 0.1, 0.07, 0.05, 0.04, 0.03, 0.02, 0.015, 0.01] + [0.0025] * 16,
    dtype=np.float64,
)
SLOW_LAG_P /= SLOW_LAG_P.sum()


@dataclass(frozen=True)
class Shape:
    name: str
    summary: str
    auction: str = "second-price"  # second-price | bid-share | logistic
    lag: np.ndarray = field(default_factory=lambda: LAG_P)  # P(purchase d days after the click), 30 days
    duds: float = 0.0  # share of targets that (almost) never convert
    cvr_spread: float = 0.0  # extra log-normal σ of conversion rates (mean-preserving)
    capped: float = 0.0  # share of spending campaigns whose budget binds at the starting bids
    classic: bool = False  # today's market kept bit for bit (floored budget cut, oracle without budgets)

    # -- hidden parameters --------------------------------------------------------------------------
    def hide(self, cat, rng: np.random.Generator, min_bid: float, fx: float) -> None:
        """Draw this shape's hidden parameters into the catalog (after it is built, from its own stream,
        so the shared draws stay those of `second-price`)."""
        if self.classic:
            return
        n = len(cat.t_id)
        cat.t_share = rng.uniform(0.55, 0.9, n)
        cat.t_steep = rng.uniform(3.0, 9.0, n)
        cat.t_top = rng.uniform(0.55, 0.95, n)
        if self.duds or self.cvr_spread:
            s = self.cvr_spread
            cvr = cat.t_cvr * rng.lognormal(-0.5 * s * s, s, n)
            dud = rng.random(n) < self.duds
            cat.t_cvr = np.where(dud, 0.001, np.clip(cvr, 0.002, 0.6))
        # budgets: spend at the starting bids under this shape's auction, then roomy or binding
        bids = np.where(np.isnan(cat.t_bid), cat.g_bid[cat.t_group], cat.t_bid)
        w = self.win(cat, bids)
        spend = cat.t_demand * w * ctr_at(cat.t_ctr, w) * self.cpc(cat, bids, min_bid, 0.01 * fx)
        c_spend = np.bincount(cat.t_campaign, weights=spend, minlength=len(cat.c_id))
        bound = rng.random(len(cat.c_id)) < self.capped
        factor = np.where(bound, rng.uniform(0.4, 0.75, len(cat.c_id)), rng.uniform(3.0, 6.0, len(cat.c_id)))
        cat.c_budget = np.maximum(1.0 * fx, np.round(c_spend * factor, 0 if fx >= 100 else 2))

    # -- the auction ----------------------------------------------------------------------------------
    def win(self, cat, bids: np.ndarray) -> np.ndarray:
        """Win rate (impression share) per target at `bids` (a column, or a targets × grid matrix)."""
        mu, sigma = _col(cat.t_mu, bids), _col(cat.t_sigma, bids)
        if self.auction == "logistic":
            return logistic_win(bids, np.exp(mu), _col(cat.t_steep, bids), _col(cat.t_top, bids))
        return win_rate(bids, mu, sigma)

    def cpc(self, cat, bids: np.ndarray, min_bid: float, tick: float) -> np.ndarray:
        """Expected cost per click at `bids`, never above the bid."""
        if self.auction == "bid-share":
            return share_cpc(bids, _col(cat.t_share, bids), min_bid)
        if self.auction == "logistic":
            return logistic_cpc(bids, np.exp(_col(cat.t_mu, bids)), _col(cat.t_steep, bids), min_bid, tick)
        return cost_per_click(bids, _col(cat.t_mu, bids), _col(cat.t_sigma, bids), min_bid, tick)


def _col(v: np.ndarray, like: np.ndarray) -> np.ndarray:
    return v[:, None] if np.ndim(like) == 2 else v


SHAPES = {
    s.name: s
    for s in (
        Shape("second-price", "today's market: second-price auction, log-normal competition", classic=True),
        Shape("bid-share", "the price paid is a hidden share of the bid: CPC rises with the bid", "bid-share"),
        Shape("logistic", "impression share a steep logistic curve of the bid, saturating below 100 %", "logistic"),
        Shape("duds", "heavy-tailed conversion: 30 % of targets are true duds", duds=0.3, cvr_spread=0.9),
        Shape("slow-lag", "most orders arrive days after the click (median 4 days)", lag=SLOW_LAG_P),
        Shape("budget-bound", "half the spending campaigns are stopped by their daily budget most days", capped=0.5),
    )
}
DEFAULT = "second-price"


def shape(name: str) -> Shape:
    try:
        return SHAPES[name]
    except KeyError:
        raise ValueError(f"unknown market {name!r}; choose one of {', '.join(SHAPES)}") from None
