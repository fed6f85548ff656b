"""What a promotion costs and earns per unit: Amazon's fee for it and the margins before and after the discount.

Margins follow MARKET_AND_ALGORITHMS.md §4.2: m₀ = P − COGS − referral(P) − FBA before, m₁ the same at the
discounted price P(1 − d). The referral and FBA fees are `optimize.margin.fees_per_unit` (one place per rule);
the promotion's own fee is `promotion_fee`, charged on the whole promotion rather than per unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketing.optimize.margin import fees_per_unit

# The values of models.promotions.PromotionType and DiscountType (this package may not import the models).
COUPON, LIGHTNING_DEAL, BEST_DEAL = "COUPON", "LIGHTNING_DEAL", "BEST_DEAL"
PERCENT, AMOUNT = "PERCENT_OFF_LIST_PRICE", "AMOUNT_OFF_LIST_PRICE"

PRIOR_ELASTICITY = -3.6  # meta-analytic short-term promotional price elasticity (Bijmolt et al. 2005, guide §4.2)


@dataclass(frozen=True)
class Fee:
    """One PromotionFee row as floats: fixed (+ per_day × days) + variable_pct of the promotion's sales (capped
    at variable_cap) + per_redemption × redemptions. variable_pct is a fraction (0.025 = 2.5 %)."""

    fixed: float = 0.0
    per_day: float = 0.0
    per_redemption: float = 0.0
    variable_pct: float = 0.0
    variable_cap: float | None = None

    def __post_init__(self):
        """Numbers from the table (Decimal) become floats; a fee can't be negative."""
        for name in ("fixed", "per_day", "per_redemption", "variable_pct", "variable_cap"):
            value = getattr(self, name)
            if value is None and name == "variable_cap":
                continue
            number = float(value)
            if not number >= 0:
                raise ValueError(f"A promotion fee's {name.replace('_', ' ')} must be a number ≥ 0, got {value!r}.")
            object.__setattr__(self, name, number)


def promotion_fee(fee: Fee, *, days, sales, redemptions):
    """Amazon's charge for one promotion (arrays broadcast, so every candidate is priced at once)."""
    cap = np.inf if fee.variable_cap is None else fee.variable_cap
    variable = np.minimum(fee.variable_pct * np.asarray(sales, dtype=float), cap)
    total = fee.fixed + fee.per_day * np.asarray(days, dtype=float) + variable \
        + fee.per_redemption * np.asarray(redemptions, dtype=float)
    return float(total) if np.ndim(total) == 0 else total


def fixed_fee(fee: Fee, days):
    """The part of the fee that does not grow with sales: the F of the break-even lift."""
    return fee.fixed + fee.per_day * np.asarray(days, dtype=float)


def break_even_lift(m0: float, m1: float, q0: float, fixed: float):
    """L* = (m₀·Q₀ + F) / (m₁·Q₀): how many times the baseline units Q₀ the promotion must sell to earn what the
    same days earn without it. NaN where m₁ ≤ 0 or Q₀ ≤ 0 (no lift breaks even)."""
    m0, m1, q0, fixed = (np.asarray(v, dtype=float) for v in (m0, m1, q0, fixed))
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where((m1 > 0) & (q0 > 0), (m0 * q0 + fixed) / (m1 * q0), np.nan)
    return float(lift) if lift.ndim == 0 else lift


def discount_share(discount_type: str, discount, price=None, *, floor: bool = False):
    """The share of the list price a discount takes off (the net price is price × (1 − share)): the one rule for
    how a discount type applies to a price. PERCENT takes `discount` percent (20 → 0.2) whatever the price; AMOUNT
    takes `discount` money ÷ the price. Decimal in, Decimal out (floats too). Cases: NaN for an amount off without
    a price (None, NaN or 0): it is no share of a price nobody knows (a past coupon's window then reads the
    observed price drop); `floor` caps the share at 1, so the net price never goes below 0 (what a running
    promotion sells at, for the bid margin), where a plan's check wants a discount past the price to show."""
    if discount_type == AMOUNT:
        if price is None or price != price or not price:
            return np.nan
        share = discount / price
    else:
        share = discount / 100
    return min(share, 1) if floor else share


def unit_margin(price, unit_cost, referral_pct, fba_fee, discount=0.0):
    """Profit per unit sold at price × (1 − discount) after the unit cost, referral fee (a fraction of the price
    paid) and FBA fee; NaN where the unit cost or price is unknown."""
    net = np.asarray(price, dtype=float) * (1 - np.asarray(discount, dtype=float))
    return net - np.asarray(unit_cost, dtype=float) - fees_per_unit(net, np.asarray(referral_pct, dtype=float) * 100,
                                                                      fba_fee)
