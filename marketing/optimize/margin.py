"""Unit economics → ACoS: what a sale can afford to spend on ads."""

from __future__ import annotations

import numpy as np


def break_even_acos(price, unit_cost, fees=0.0) -> np.ndarray:
    """(price − unit cost − fees) / price: the ACoS at which ads eat the whole pre-ad profit.

    Vectorised; NaN where the price is missing or not positive. Negative means the product loses
    money before any ad spend."""
    price, cost, fees = (np.asarray(v, dtype=float) for v in (price, unit_cost, fees))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(price > 0, (price - cost - fees) / price, np.nan)


def target_acos_from_margin(price, unit_cost, fees=0.0, profit_margin=0.0) -> np.ndarray:
    """Target ACoS that keeps `profit_margin` (fraction of price) after ads: break-even ACoS − margin.

    NaN where no positive target exists (unprofitable product, unknown price): the caller then
    falls back to the seller's or campaign's target rather than bidding toward a loss."""
    target = break_even_acos(price, unit_cost, fees) - np.asarray(profit_margin, dtype=float)
    return np.where(target > 0, np.minimum(target, 1.0), np.nan)


# Amazon's referral fee for most categories in every marketplace (some take 8–12 %): what a referral fee not
# entered counts as. A seller whose unit cost already includes it enters 0.
DEFAULT_REFERRAL_FEE_PCT = 15.0


def fees_per_unit(price, referral_fee_pct, fba_fee):
    """Referral fee (percent of the price) plus the FBA fee, per unit sold. A referral fee not entered (None or
    NaN) counts as `DEFAULT_REFERRAL_FEE_PCT`; an FBA fee not entered as 0 (it depends on size and weight, which
    we do not know). Scalars give a float; arrays give an array (the promotion engines price every candidate
    discount at once)."""
    price, fba = (np.nan_to_num(np.asarray(0 if v is None else v, dtype=float)) for v in (price, fba_fee))
    pct = np.asarray(np.nan if referral_fee_pct is None else referral_fee_pct, dtype=float)
    pct = np.where(np.isnan(pct), DEFAULT_REFERRAL_FEE_PCT, pct)
    fees = price * pct / 100 + fba
    return float(fees) if fees.ndim == 0 else fees
