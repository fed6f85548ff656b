"""Promotional price elasticity per ASIN from its measured promotions, shrunk seller → prior.

Each measurable promotion gives ln(units ÷ counterfactual, over its in-stock days) = ε · ln(1 − effective
discount) + noise (the log form of MARKET_AND_ALGORITHMS.md §4.2). ε is the precision-weighted slope through the
origin, its precision I = Σ x²/v (x = ln(1 − d), v = the variance of the log lift, from measure's lift_se). The seller's
pooled slope is shrunk toward the prior (−3.6) with `prior_sd`; each ASIN's toward that with `between_sd`:
ε = (I·ε̂ + ε₀/σ²) / (I + 1/σ²). An ASIN with one shallow, noisy promotion stays near the seller's value.

A constant elasticity is a straight line in that log form; demand that answers a discount less than in proportion
(linear demand, a market that saturates) bends it: ln(units ÷ counterfactual) = ε·x + κ·x², κ < 0. Fitted as a
line over deep deals it reads ε too small and under-predicts a shallow coupon by a third. The bend κ is the
seller's agency's (one number: an ASIN's few promotions can't show one, a seller's dozens barely), fitted over all
the seller's measured promotions, those of its other marketplaces too (`elsewhere`), and the agency's other sellers'
(`peers`: their `bend_stats`, sums that add up), with every ASIN's own slope; shrunk toward 0 (no bend) with
`curvature_sd`, and never convex (a bend up read from noise would promise deep discounts more than any seen).
Each ASIN's ε is then fitted to its promotions with the bend taken out. `lift` applies both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from marketing.optimize.promotions.economics import PRIOR_ELASTICITY

MIN_DISCOUNT = 0.01  # a smaller price drop says nothing about elasticity (and is often rounding)
LOG_LIFT_FLOOR = 0.01  # variance no promotion's log lift goes below: demand moves for reasons no baseline sees
BEND_STATS = ("x4", "x3x3r", "x3r", "slopes", "r", "x2y", "x3rxy", "rxy")  # what `bend_stats` sums


def elasticities(measured: pd.DataFrame, *, prior: float = PRIOR_ELASTICITY, prior_sd: float = 1.5,
                 between_sd: float = 1.0, curvature_sd: float = 5.0, asins=None, with_sd: bool = False,
                 elsewhere: pd.DataFrame | None = None, peers: Sequence[Mapping[str, float]] = ()
                 ) -> pd.Series | pd.DataFrame:
    """asin → elasticity (negative) for every ASIN in `measured` (and in `asins`, which get the seller's value).
    `with_sd`: a frame with the posterior standard deviation too (column sd), which `suggest` takes for the
    interval instead of its setting, so an ASIN with a deep history gets a tighter one, and the bend (column
    curvature, see the module) fitted over `measured`, `elsewhere` (the seller's other marketplaces' measured
    promotions) and `peers` (the agency's other sellers' `bend_stats`). Either way the slopes are fitted with that
    bend taken out."""
    if not (prior_sd > 0 and between_sd > 0 and curvature_sd >= 0 and np.isfinite(prior)):
        raise ValueError("elasticities needs a finite prior and positive spreads.")
    names = pd.Index([] if measured is None or measured.empty else measured["asin"].astype(str).unique())
    if asins is not None:
        names = names.union(pd.Index(pd.Series(list(asins), dtype=object).astype(str)))
    x, y, v, asin = _observations(measured)
    mine = bend_stats([measured, elsewhere], between_sd=between_sd)
    bend = _curvature([mine, *peers] if mine else list(peers), prior, prior_sd, between_sd, curvature_sd)
    y = y - bend * x * x
    seller = _seller(x, y, v, prior, prior_sd)
    precision = x * x / v
    pooled_info = precision.sum()
    frame = pd.DataFrame({"asin": asin, "xy": x * y / v, "info": precision})
    sums = frame.groupby("asin")[["xy", "info"]].sum().reindex(names, fill_value=0.0)
    own = (sums["xy"] + seller / between_sd ** 2) / (sums["info"] + 1 / between_sd ** 2)
    own = own.rename("elasticity").rename_axis("asin").astype(float)
    if not with_sd:
        return own
    # the ASIN's posterior variance, plus the seller value's own uncertainty by the weight the ASIN puts on it
    borrowed = (1 / between_sd ** 2) / (sums["info"] + 1 / between_sd ** 2)
    variance = 1 / (sums["info"] + 1 / between_sd ** 2) + borrowed ** 2 / (pooled_info + 1 / prior_sd ** 2)
    return pd.DataFrame({"elasticity": own, "sd": np.sqrt(variance).astype(float), "curvature": bend})


def lift(discount, elasticity, curvature=0.0):
    """Units ÷ counterfactual − 1 at an effective `discount`: exp(ε·x + κ·x²) − 1, x = ln(1 − discount), past
    the bend's top (where a deeper discount would start to lift less) held at it."""
    x = np.log1p(-np.asarray(discount, dtype=float))
    e, k = np.asarray(elasticity, dtype=float), np.minimum(np.asarray(curvature, dtype=float), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        top = np.where(k < 0, -e / (2 * k), -np.inf)  # x where the bend's slope turns (ε < 0, κ < 0: negative)
    x = np.maximum(x, np.where(e < 0, top, -np.inf))
    return np.expm1(e * x + k * x * x)


def _seller(x, y, v, prior: float, prior_sd: float) -> float:
    """The seller's slope: all its promotions pooled, shrunk toward the prior."""
    info = float((x * x / v).sum())
    pooled = float((x * y / v).sum()) / info if info > 0 else prior
    return (info * pooled + prior / prior_sd ** 2) / (info + 1 / prior_sd ** 2)


def bend_stats(frames: Sequence[pd.DataFrame | None], *, between_sd: float = 1.0) -> dict[str, float] | None:
    """The sums a seller's bend is solved from, over its measured promotions (`frames`: one per marketplace, each
    ASIN's slope its own in each), with each slope's ε solved out of the normal equations (`_curvature`); None
    without a promotion to read. They add up across sellers, so the agency's other sellers' runs start from them."""
    parts = [f.assign(asin=f"{k}:" + f["asin"].astype(str)) for k, f in enumerate(frames) if f is not None and len(f)]
    x, y, v, key = _observations(pd.concat(parts, ignore_index=True) if parts else None)
    if not len(x):
        return None
    w, ridge = 1 / v, 1 / between_sd ** 2
    g = pd.DataFrame({"k": key, "xx": w * x * x, "x3": w * x ** 3, "xy": w * x * y}).groupby("k").sum()
    r = 1 / (g["xx"].to_numpy() + ridge)
    x3, xy = g["x3"].to_numpy(), g["xy"].to_numpy()
    return {"x4": float((w * x ** 4).sum()), "x3x3r": float((x3 * x3 * r).sum()), "x3r": float((x3 * r).sum()),
            "slopes": float(len(r)), "r": float(r.sum()), "x2y": float((w * x * x * y).sum()),
            "x3rxy": float((x3 * r * xy).sum()), "rxy": float((r * xy).sum())}


def _curvature(stats: Sequence[Mapping[str, float]], prior: float, prior_sd: float, between_sd: float,
               curvature_sd: float) -> float:
    """The bend κ (≤ 0) from `bend_stats` summed: y = εᵢ·x + κ·x² + noise, each slope εᵢ ~ N(c, `between_sd`²)
    around a common c ~ N(prior, `prior_sd`²), κ ~ N(0, `curvature_sd`²); the εᵢ solved out of the normal
    equations leave two in (κ, c)."""
    known = [st for st in stats if st and all(math.isfinite(float(st.get(k, math.nan))) for k in BEND_STATS)]
    if not known or curvature_sd <= 0:
        return 0.0
    t = {k: sum(float(st[k]) for st in known) for k in BEND_STATS}
    ridge = 1 / between_sd ** 2
    system = np.array([[t["x4"] + 1 / curvature_sd ** 2 - t["x3x3r"], ridge * t["x3r"]],
                       [ridge * t["x3r"], t["slopes"] * ridge + 1 / prior_sd ** 2 - ridge ** 2 * t["r"]]])
    right = np.array([t["x2y"] - t["x3rxy"], prior / prior_sd ** 2 + ridge * t["rxy"]])
    try:
        return min(0.0, float(np.linalg.solve(system, right)[0]))
    except np.linalg.LinAlgError:
        return 0.0


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
