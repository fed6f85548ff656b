"""Per-seller bid settings, validated once with messages a seller can act on."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal

OBJECTIVES = ("profit", "growth")


@dataclass(frozen=True)
class BidSettings:
    """Thresholds of the bid engine; money is in the marketplace's currency (one profile per run).

    Defaults follow the practice collected in MARKET_AND_ALGORITHMS.md §3: 30% target ACoS, 30-day
    look-back minus 3 attribution days, ±5% dead band, ±25% step cap, 3-day cooldown.
    """

    target_acos: float = 0.30  # fraction: 0.30 = 30%
    lookback_days: int = 30  # complete days before today, including the excluded ones
    exclude_recent_days: int = 3  # attribution still arriving
    dead_band: float = 0.05  # no suggestion within ±5% of the current bid
    max_step: float = 0.25  # at most ±25% per change
    min_bid: float | None = None  # the seller's own floor / ceiling, inside the marketplace's range
    max_bid: float | None = None
    marketplace_min_bid: float = 0.02  # Amazon's legal range and increment (US defaults; JP: 2 / 100000 / 1)
    marketplace_max_bid: float = 1000.0
    bid_increment: float = 0.01
    cooldown_days: int = 3  # no new suggestion this soon after an applied change
    min_clicks_for_no_order_cut: int = 10
    confidence: float = 0.95  # one-sided; the reported interval is the central 2·confidence − 1
    visibility_impressions: int = 100  # fewer impressions in the window → too few to learn from
    visibility_step: float = 0.15
    elasticity: float = 0.5  # clicks ∝ bid^elasticity, for the expected-change estimate only
    prior_cvr: float = 0.10  # seller-level CVR before the seller has data
    min_prior_strength: float = 10.0  # pseudo-clicks a target borrows from its ad group, at least …
    max_prior_strength: float = 300.0  # … and at most
    aov_prior_orders: float = 3.0  # pseudo-orders at the ad group's order value in a target's own
    prior_cpc_ratio: float = 0.8  # cost per click / bid before there are clicks (second-price auctions)
    min_cpc_ratio: float = 0.5  # bid at most 2× a click's worth at the target ACoS, whatever the discount
    cpc_ratio_strength: float = 20.0  # pseudo-clicks a target's CPC/bid ratio borrows from its ad group
    currency_symbol: str = "$"
    objective: str = "profit"  # profit: most profit at ACoS ≤ target (needs unit costs) | growth: most sales
    budget_bound_share: float = 0.95  # a day at this share of the campaign's budget counts as budget-capped
    budget_step: float = 0.20  # share of a budget-capped campaign's expected spend its bids give up per run
    min_days_after_change: int = 7  # days of data after a change before another step the same way
    measure_days: int = 14  # an applied change is judged on this many days after it
    marginal_prior_changes: float = 3.0  # bid changes' weight of the prior marginal-cost factor (pseudo-changes)

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("currency_symbol", "objective") or (value is None and f.name in ("min_bid", "max_bid")):
                continue
            number = _number(f.name.replace("_", " ").capitalize(), value)
            object.__setattr__(self, f.name, int(number) if f.type == "int" else number)
        validate_target_acos(self.target_acos)
        _require(self.objective in OBJECTIVES, f"The objective must be one of {', '.join(OBJECTIVES)}.")
        _require(0 < self.budget_bound_share <= 1, "The budget-capped share must be between 0% and 100%.")
        _require(0 < self.budget_step <= self.max_step, "The budget step must be between 0% and the step cap.")
        _require(self.min_days_after_change >= 0 and self.marginal_prior_changes > 0 and self.measure_days > 0,
                 "Counts can't be negative.")
        _require(
            self.lookback_days > self.exclude_recent_days >= 0, "The look-back must be longer than the excluded days."
        )
        _require(0 <= self.dead_band < self.max_step < 1, "Dead band must be below the step cap, which is below 100%.")
        _require(0 < self.visibility_step <= self.max_step, "The visibility step must be between 0% and the step cap.")
        _require(0 < self.marketplace_min_bid <= self.marketplace_max_bid, "The marketplace bid range is invalid.")
        _require(self.bid_increment > 0, "The bid increment must be positive.")
        if self.min_bid is not None:
            _require(
                self.min_bid >= self.marketplace_min_bid,
                f"Minimum bid {self.min_bid:g} is below the marketplace minimum of {self.marketplace_min_bid:g}.",
            )
        if self.max_bid is not None:
            _require(
                self.max_bid <= self.marketplace_max_bid,
                f"Maximum bid {self.max_bid:g} is above the marketplace maximum of {self.marketplace_max_bid:g}.",
            )
        _require(self.floor <= self.ceiling, f"Minimum bid {self.floor:g} is above the maximum bid {self.ceiling:g}.")
        _require(self.cooldown_days >= 0 and self.min_clicks_for_no_order_cut >= 0, "Counts can't be negative.")
        _require(0.5 < self.confidence < 1, "Confidence must be between 50% and 100%.")
        _require(self.elasticity >= 0, "Elasticity can't be negative.")
        _require(0 < self.prior_cvr < 1, "The prior conversion rate must be between 0% and 100%.")
        _require(0 < self.min_prior_strength <= self.max_prior_strength, "Prior strengths must be 0 < min ≤ max.")
        _require(self.aov_prior_orders >= 0 and self.cpc_ratio_strength > 0, "Prior strengths can't be negative.")
        _require(0 < self.min_cpc_ratio <= self.prior_cpc_ratio <= 1, "CPC/bid ratios must be 0 < minimum ≤ prior ≤ 1.")

    @property
    def floor(self) -> float:
        return max(self.min_bid or 0.0, self.marketplace_min_bid)

    @property
    def ceiling(self) -> float:
        return min(self.max_bid or math.inf, self.marketplace_max_bid)

    @property
    def window_days(self) -> int:
        return self.lookback_days - self.exclude_recent_days


def validate_target_acos(value, name: str = "Target ACoS") -> float:
    """A target ACoS as a fraction in (0, 1]; rejects 0, negatives, 30 meant as 30%, and text."""
    acos = _number(name, value)
    _require(acos > 0, f"{name} must be above 0% (got {acos:.0%}).")
    hint = f" — enter {acos:g}% as {acos / 100:g}" if acos <= 100 else ""
    _require(acos <= 1, f"{name} can't be above 100% (got {acos:g}{hint}).")
    return acos


def lookback_window(today: date, days: int = 30, exclude_recent: int = 3) -> tuple[date, date]:
    """First and last day (inclusive) of the data to use: the `days` complete days before today
    minus the most recent `exclude_recent`, whose attributed orders are still arriving.
    With the defaults, on 31 May: 1 May – 27 May (27 days)."""
    _require(days > exclude_recent >= 0, "The look-back must be longer than the excluded days.")
    return today - timedelta(days=days), today - timedelta(days=exclude_recent + 1)


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    number = float(value)
    _require(math.isfinite(number), f"{name} must be a finite number.")
    return number


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
