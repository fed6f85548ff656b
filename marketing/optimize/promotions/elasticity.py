"""Promotional price elasticity per ASIN from its measured promotions, shrunk seller → prior.

Each measurable promotion gives ln(units ÷ counterfactual, over its in-stock days) = ε · ln(1 − effective
discount) + noise (the log form of MARKET_AND_ALGORITHMS.md §4.2). ε is the precision-weighted slope through the
origin, its precision I = Σ x²/v (x = ln(1 − d), v = the variance of the log lift, from measure's lift_se). The seller's
pooled slope is shrunk toward the prior (−3.6) with `prior_sd`; each ASIN's toward that with `between_sd`:
ε = (I·ε̂ + ε₀/σ²) / (I + 1/σ²). An ASIN with one shallow, noisy promotion stays near the seller's value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.optimize.promotions.economics import PRIOR_ELASTICITY

MIN_DISCOUNT = 0.01  # a smaller price drop says nothing about elasticity (and is often rounding)
LOG_LIFT_FLOOR = 0.01  # variance no promotion's log lift goes below: demand moves for reasons no baseline sees


def elasticities(measured: pd.DataFrame, *, prior: float = PRIOR_ELASTICITY, prior_sd: float = 1.5,
                 between_sd: float = 1.0, asins=None, with_sd: bool = False) -> pd.Series | pd.DataFrame:
    """asin → elasticity (negative) for every ASIN in `measured` (and in `asins`, which get the seller's value).
    `with_sd`: a frame with the posterior standard deviation too (column sd), which `suggest` takes for the
    interval instead of its setting, so an ASIN with a deep history gets a tighter one."""
    if not (prior_sd > 0 and between_sd > 0 and np.isfinite(prior)):
        raise ValueError("elasticities needs a finite prior and positive spreads.")
    names = pd.Index([] if measured is None or measured.empty else measured["asin"].astype(str).unique())
    if asins is not None:
        names = names.union(pd.Index(pd.Series(list(asins), dtype=object).astype(str)))
    x, y, v, asin = _observations(measured)
    precision = x * x / v
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled_info = precision.sum()
        pooled = (x * y / v).sum() / pooled_info if pooled_info > 0 else prior
    seller = (pooled_info * pooled + prior / prior_sd ** 2) / (pooled_info + 1 / prior_sd ** 2)
    frame = pd.DataFrame({"asin": asin, "xy": x * y / v, "info": precision})
    sums = frame.groupby("asin")[["xy", "info"]].sum().reindex(names, fill_value=0.0)
    own = (sums["xy"] + seller / between_sd ** 2) / (sums["info"] + 1 / between_sd ** 2)
    own = own.rename("elasticity").rename_axis("asin").astype(float)
    if not with_sd:
        return own
    # the ASIN's posterior variance, plus the seller value's own uncertainty by the weight the ASIN puts on it
    borrowed = (1 / between_sd ** 2) / (sums["info"] + 1 / between_sd ** 2)
    variance = 1 / (sums["info"] + 1 / between_sd ** 2) + borrowed ** 2 / (pooled_info + 1 / prior_sd ** 2)
    return pd.DataFrame({"elasticity": own, "sd": np.sqrt(variance).astype(float)})


def _observations(measured: pd.DataFrame):
    empty = np.array([])
    if measured is None or measured.empty:
        return empty, empty, empty, empty
    m = measured[measured["measurable"].fillna(False).astype(bool)]
    discount = pd.to_numeric(m["effective_discount"], errors="coerce").to_numpy(dtype=float)
    lift = pd.to_numeric(m["lift"], errors="coerce").to_numpy(dtype=float)
    expected = pd.to_numeric(m["expected_units"], errors="coerce").to_numpy(dtype=float)
    lift_se = pd.to_numeric(m["lift_se"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.log1p(-np.clip(discount, 0, 0.95))
        # measure's lift is over the in-stock days; half a unit keeps a promotion that sold nothing finite
        ratio = (expected * (1 + lift) + 0.5) / (expected + 0.5)
        y = np.log(ratio)
        v = (lift_se / np.maximum(ratio, 0.5)) ** 2 + LOG_LIFT_FLOOR
    keep = (discount >= MIN_DISCOUNT) & np.isfinite(x) & np.isfinite(y) & np.isfinite(v) & (v > 0)
    return x[keep], y[keep], v[keep], m["asin"].astype(str).to_numpy()[keep]
