"""The naive rule the engine is benchmarked against: ±20% by last week's ACoS versus target.

What many sellers do by hand and simple rule tools automate (Sellics-style fixed steps, see
MARKET_AND_ALGORITHMS.md §3.5): no smoothing, no evidence threshold, no value per click.
"""

from __future__ import annotations

import numpy as np


def naive_bids(current_bid, cost, sales, target_acos, *, step: float = 0.20) -> np.ndarray:
    """Last week's aggregates → new bids: spend without sales or ACoS above target → −step,
    ACoS below target → +step, no spend → unchanged. Unrounded; the caller applies increments."""
    bid, cost, sales = (np.asarray(v, dtype=float) for v in (current_bid, cost, sales))
    with np.errstate(divide="ignore", invalid="ignore"):
        acos = np.where(sales > 0, cost / sales, np.inf)
    factor = np.select([cost <= 0, acos > target_acos, acos < target_acos], [1.0, 1 - step, 1 + step], 1.0)
    return bid * factor
