"""Unit economics → ACoS: what a sale can afford to spend on ads."""

from __future__ import annotations

from decimal import Decimal

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


def fees_per_unit(price: Decimal | float | None, referral_fee_pct: Decimal | float | None,
                  fba_fee: Decimal | float | None) -> float:
    """Referral fee (percent of the price) plus the FBA fee, per unit sold; a fee not entered counts as 0 (the
    seller's unit cost may already include it)."""
    return float(price or 0) * float(referral_fee_pct or 0) / 100 + float(fba_fee or 0)
