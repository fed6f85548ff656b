"""Lift of past promotions: per (promotion, ASIN), what it sold beyond the baseline and what that earned.

The counterfactual of a day is the ASIN's baseline level × its weekday factor. The level is the mean of the
weekday-adjusted units on the `baseline_days` clean days nearest before the start (no other promotion, in stock,
units known; looked for over at most twice as many calendar days). Where fewer exist the promotion is not
measurable and says why.

    gross        = Σ during (units − counterfactual)
    dip          = Σ post (counterfactual − units), over the watched days of the `post_days` after the end
                   (clean, the day's own figures and its stock known: `panel`); where `baseline_days` ÷ 2 clean
                   days after those show the level again, the post days' level is the mean of that one and the
                   one before (a level that drifts for reasons of its own is not read as a dip)
    cannibalised = Σ siblings, during (counterfactual − units), siblings = the other ASINs of the same parent,
                   over their watched days (so not a sibling's days in this or another promotion); split over
                   the promotion's ASINs of that parent by their counterfactual units
    incremental  = gross − dip − cannibalised          (MARKET_AND_ALGORITHMS.md §4.3)

One promotion's dip or sibling loss over 28 noisy days is mostly noise, so each is shrunk toward the seller's
pooled share of the gross (Σ dip ÷ Σ gross over the promotions measured together), by how much its own noise
exceeds the spread between promotions (empirical Bayes, the same idea as the bid engine's `bayes`).

Profit: units during × m₁ − counterfactual × m₀ (so the discount given on units that would have sold anyway
counts), − (dip + cannibalised) × m₀, − the promotion's fee (split over its ASINs by counterfactual revenue),
− the change in ad spend. m₀, m₁ from `economics.unit_margin`; the discount is the effective one: a deal's
observed drop in price paid, a coupon's stated discount × `redemption_share` (only some buyers clip it).

Interval: the residual spread s of the weekday-adjusted baseline gives the variance of each day's units
(s² × factor², × the lift during the promotion: variance grows with the mean) and of the level (s² ÷ n); summed
over the window, plus the level's drift (`panel.level_drift`: how far the seller's levels move from one baseline
stretch to the next, beyond daily noise) for the window's and the post days' counterfactual, plus the (shrunk)
dip and sibling terms, it gives a normal interval at `level`. The drift also tells the dip's and siblings'
shrinkage how much of their spread is noise. Profit's
interval values the same unit uncertainty at m₀ (it is the counterfactual units that are uncertain).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from marketing.optimize.promotions.economics import COUPON, unit_margin
from marketing.optimize.promotions.panel import NO_DAY, Panel, baseline, build_panel, gather, level_drift, to_days

COLUMNS = [
    "key", "asin", "type", "start", "end", "measurable", "reason", "baseline_units", "days", "units",
    "expected_units", "gross_sd", "incremental_units", "incremental_lo", "incremental_hi", "dip_units", "dip_read",
    "dip_sd", "dip_gross_cov", "post_days", "cannibalised_units", "cannibalised_read", "cannibalised_sd",
    "incremental_revenue", "incremental_profit", "profit_lo", "profit_hi", "observed_discount", "effective_discount",
    "lift", "lift_se", "baseline_price", "fee", "ad_spend_change",
]


def measure(daily: pd.DataFrame, windows: pd.DataFrame, economics: pd.DataFrame, *, baseline_days: int = 28,
            post_days: int = 28, level: float = 0.9, redemption_share: float = 0.5) -> pd.DataFrame:
    """One row per (key, asin) of `windows`.

    daily: asin, parent_asin, date, units, sales, in_stock (bool; missing where unknown: in stock for the
        baseline, no dip or sibling loss read there), ad_spend (optional), exact (optional bool; False where the
        row is a share of a weekly total: no dip or sibling loss read there either)
    windows: key, type (PromotionType value), asin, start, end (inclusive), discount (fraction; NaN for deals:
        the observed price drop is used), fee (the key's total, split over its ASINs by baseline revenue)
    economics: asin, price (NaN → median price paid), unit_cost (NaN → no profit), referral_pct (fraction),
        fba_fee
    → key, asin, type, start, end, measurable, reason ('' when measurable), baseline_units (per day, over the
      window's weekdays), days, units, expected_units (counterfactual over the window), gross_sd (the noise of
      units − expected_units), incremental_units, incremental_lo, incremental_hi (interval at `level`), dip_units,
      dip_read (the dip as read from this promotion alone, before its shrinkage), dip_sd (its noise),
      dip_gross_cov (the covariance of dip_read and the gross through the level both are read against: a level
      read too high makes the gross smaller and the dip larger), post_days (watched days the dip rests on),
      cannibalised_units, cannibalised_read, cannibalised_sd (likewise; the siblings' own levels, so no covariance
      with the gross), incremental_revenue, incremental_profit, profit_lo, profit_hi, observed_discount,
      effective_discount, lift (units ÷ counterfactual − 1 over the window's in-stock days), lift_se (its
      standard error from the baseline's spread), baseline_price (price paid per unit over the baseline), fee
      (this ASIN's share), ad_spend_change.
    """
    if not (0 < level < 1 and baseline_days >= 2 and post_days >= 0 and 0 < redemption_share <= 1):
        raise ValueError("measure needs 0 < level < 1, baseline_days ≥ 2, post_days ≥ 0 and a redemption share "
                         "in (0, 1].")
    w = _windows(windows)
    if w.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS})
    panel = build_panel(daily, w["asin"], w["start_day"].to_numpy(), w["end_day"].to_numpy())
    rows = panel.rows(w["asin"])
    start, end = w["start_day"].to_numpy(), w["end_day"].to_numpy()
    base = baseline(panel, rows, start, days=baseline_days, search=2 * baseline_days)
    last_day = panel.day0 + panel.days - 1
    stated = w["discount"].to_numpy(dtype=float)
    reason = np.select(
        [(start == NO_DAY) | (end == NO_DAY), end < start, (stated < 0) | (stated >= 1), rows < 0, end > last_day,
         base.days < baseline_days],
        ["no start or end date", "ends before it starts", "the discount must be a fraction below 1 (0.2 = 20 %)",
         "no sales history", "not over yet (the history ends before its last day)",
         pd.Series(base.days).map(lambda n: f"only {n} clean baseline days (needs {baseline_days})").to_numpy()],
        "",
    )
    ok = reason == ""

    first, last = start - panel.day0, end - panel.day0
    during = _sums(panel, rows, first, last - first + 1, days="known")
    units, f_during, f2_during = during["units"], during["factor"], during["factor2"]
    sales, ad, days_known = during["sales"], during["ad"], during["days"]
    expected = base.level * f_during
    gross = units - expected

    post = _sums(panel, rows, last + 1, np.full(len(rows), post_days), days="watched")
    post_units, f_post, f2_post, post_count = post["units"], post["factor"], post["factor2"], post["days"]
    s2 = base.spread ** 2
    drift = level_drift(panel, baseline_days)
    # the dip's counterfactual: where the clean days after the dip show the level again, the mean of the levels
    # before and after (a level drifting down for reasons of its own would read as a dip against the one before)
    after = baseline(panel, rows, end + post_days + baseline_days + 1, days=baseline_days, search=baseline_days)
    before_weight = np.where(after.days >= baseline_days // 2, 0.5, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dip_level = before_weight * base.level + (1 - before_weight) * np.nan_to_num(after.level)
        level_var = before_weight ** 2 * s2 / base.days \
            + (1 - before_weight) ** 2 * np.nan_to_num(after.spread ** 2 / after.days)
        raw_dip = dip_level * f_post - post_units
        var_dip = s2 * f2_post + level_var * f_post ** 2 + drift * (dip_level * f_post) ** 2
        # a day's variance grows with its mean (Poisson-like), so the promotion's days vary more by its lift
        var_during = s2 * (f2_during * np.maximum(units / expected, 1.0) + f_during ** 2 / base.days) \
            + drift * expected ** 2
        dip_gross_cov = -before_weight * (s2 / base.days + drift * base.level ** 2) * f_during * f_post

    econ = _economics(economics, w["asin"])
    list_price = np.where(np.isfinite(econ["price"]), econ["price"], base.median_price)
    loss, loss_var, loss_revenue = _cannibalised(panel, w, rows, expected, ok, base_days=baseline_days, drift=drift)

    dip, dip_weight, dip_slope = _shrink(raw_dip, var_dip, gross, ok)
    cannibalised, can_weight, can_slope = _shrink(loss, loss_var, gross, ok)
    incremental = gross - dip - cannibalised
    # the pooled shares take part of gross back out, and with it part of its noise
    se = np.sqrt((1 - dip_slope - can_slope) ** 2 * var_during + dip_weight * var_dip + can_weight * loss_var)
    z = NormalDist().inv_cdf(0.5 + level / 2)

    with np.errstate(invalid="ignore", divide="ignore"):
        paid = sales / units
        observed = np.where(units > 0, 1 - paid / base.price, np.nan)
    effective = np.where(np.isnan(stated), observed,
                         np.where(w["type"].to_numpy() == COUPON, stated * redemption_share, stated))
    m0 = unit_margin(list_price, econ["unit_cost"], econ["referral_pct"], econ["fba_fee"])
    m1 = unit_margin(list_price, econ["unit_cost"], econ["referral_pct"], econ["fba_fee"],
                     np.nan_to_num(np.maximum(effective, 0.0)))
    fee = _fee_share(w, expected * np.nan_to_num(base.price))
    ad_change = ad - base.ad_per_day * days_known
    dip_revenue = dip * base.price
    can_revenue = np.where(loss != 0, loss_revenue * np.divide(cannibalised, loss, where=loss != 0,
                                                               out=np.ones_like(loss)), 0.0)
    profit = units * m1 - expected * m0 - (dip + cannibalised) * m0 - fee - ad_change

    # the lift (what elasticities learn from) over the days the ASIN could be bought all day, as the baseline's: a
    # stock-out during the promotion, and the day that ends in one (it sold what was left), cut units for want of
    # stock, not of demand
    supplied = _sums(panel, rows, first, last - first + 1, days="supplied")
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_supplied = base.level * supplied["factor"]
        lift = supplied["units"] / expected_supplied - 1
        lift_se = np.sqrt(s2 * (supplied["factor2"] * np.maximum(lift + 1, 1.0)
                                + supplied["factor"] ** 2 / base.days)) / expected_supplied

    def measured(values):
        return np.where(ok, values, np.nan)

    out = pd.DataFrame({
        "key": w["key"].to_numpy(), "asin": w["asin"].to_numpy(), "type": w["type"].to_numpy(),
        "start": w["start"].to_numpy(), "end": w["end"].to_numpy(), "measurable": ok, "reason": reason,
        "baseline_units": measured(expected / np.maximum(days_known, 1)), "days": (end - start + 1),
        "units": units, "expected_units": measured(expected),
        "gross_sd": measured(np.sqrt(var_during)), "incremental_units": measured(incremental),
        "incremental_lo": measured(incremental - z * se), "incremental_hi": measured(incremental + z * se),
        "dip_units": measured(dip), "dip_read": measured(raw_dip), "dip_sd": measured(np.sqrt(var_dip)),
        "dip_gross_cov": measured(dip_gross_cov), "post_days": post_count.astype(int),
        "cannibalised_units": measured(cannibalised), "cannibalised_read": measured(loss),
        "cannibalised_sd": measured(np.sqrt(loss_var)),
        "incremental_revenue": measured(sales - expected * base.price - dip_revenue - can_revenue),
        "incremental_profit": measured(profit), "profit_lo": measured(profit - z * se * np.abs(m0)),
        "profit_hi": measured(profit + z * se * np.abs(m0)), "observed_discount": measured(observed),
        "effective_discount": measured(effective), "lift": measured(lift), "lift_se": measured(lift_se),
        "baseline_price": measured(base.price), "fee": fee, "ad_spend_change": measured(ad_change),
    })
    return out[COLUMNS]


def _windows(windows: pd.DataFrame) -> pd.DataFrame:
    if windows is None or windows.empty:
        return pd.DataFrame()
    w = windows.reset_index(drop=True).copy()
    w = w[~w["asin"].isna()].reset_index(drop=True)
    w["key"], w["asin"] = w["key"].astype(str), w["asin"].astype(str)
    w["type"] = w["type"].astype(str) if "type" in w else ""
    w["start_day"], w["end_day"] = to_days(w["start"]), to_days(w["end"])
    w["discount"] = pd.to_numeric(w["discount"], errors="coerce") if "discount" in w else np.nan
    w["fee"] = pd.to_numeric(w["fee"], errors="coerce").fillna(0.0) if "fee" in w else 0.0
    return w.drop_duplicates(["key", "asin"]).reset_index(drop=True)


def _economics(economics: pd.DataFrame, asins: pd.Series) -> dict[str, np.ndarray]:
    columns = ("price", "unit_cost", "referral_pct", "fba_fee")
    if economics is None or economics.empty:
        return {c: np.full(len(asins), np.nan) for c in columns}
    table = economics.assign(asin=economics["asin"].astype(str)).drop_duplicates("asin").set_index("asin")
    return {c: (pd.to_numeric(table[c], errors="coerce").reindex(asins).to_numpy(dtype=float) if c in table
                else np.full(len(asins), np.nan)) for c in columns}


def _fee_share(w: pd.DataFrame, baseline_revenue: np.ndarray) -> np.ndarray:
    """A promotion's fee over its ASINs by counterfactual revenue (equally where none has any)."""
    revenue = pd.Series(baseline_revenue, index=w.index)
    total = revenue.groupby(w["key"]).transform("sum")
    count = w.groupby("key")["asin"].transform("size")
    share = np.where(total > 0, revenue / total.where(total > 0, 1.0), 1 / count)
    fee = w.groupby("key")["fee"].transform("first")
    return (fee * share).to_numpy(dtype=float)


def _cannibalised(panel: Panel, w: pd.DataFrame, rows: np.ndarray, expected: np.ndarray, ok: np.ndarray, *,
                  base_days: int, drift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Units (and their variance and revenue) the promotion's siblings lost while it ran, per window row."""
    n = len(w)
    zero = np.zeros(n)
    parent = np.where(rows >= 0, panel.parent[np.maximum(rows, 0)], -1)
    take = ok & (parent >= 0)
    if not take.any():
        return zero, zero, zero
    family = pd.DataFrame({"parent": panel.parent, "sibling": np.arange(len(panel.parent))})
    family = family[family["parent"] >= 0]
    own = pd.DataFrame({"i": np.flatnonzero(take), "parent": parent[take], "key": w["key"].to_numpy()[take]})
    pairs = own.merge(family, on="parent")
    pairs = pairs[pairs["sibling"].to_numpy() != rows[pairs["i"].to_numpy()]]
    if pairs.empty:
        return zero, zero, zero
    i, sibling = pairs["i"].to_numpy(), pairs["sibling"].to_numpy()
    start, end = w["start_day"].to_numpy()[i], w["end_day"].to_numpy()[i]
    base = baseline(panel, sibling, start, days=base_days, search=2 * base_days)
    good = base.days >= base_days
    first, last = start - panel.day0, end - panel.day0
    sums = _sums(panel, sibling, first, last - first + 1, days="watched")
    clean_units, f, f2 = sums["units"], sums["factor"], sums["factor2"]
    with np.errstate(invalid="ignore", divide="ignore"):
        lost = np.where(good, base.level * f - clean_units, 0.0)
        var = np.where(good, base.spread ** 2 * (f2 + f ** 2 / base.days) + drift * (base.level * f) ** 2, 0.0)
        revenue = np.where(good, lost * np.nan_to_num(base.price), 0.0)
    # one family's loss is shared by the promotion's ASINs of that family, by their counterfactual units
    groups = pd.Series(expected[i]).groupby([pairs["key"].to_numpy(), pairs["parent"].to_numpy(), sibling])
    total, count = groups.transform("sum").to_numpy(), groups.transform("size").to_numpy()
    weight = np.where(total > 0, expected[i] / np.where(total > 0, total, 1.0), 1 / count)
    return (np.bincount(i, lost * weight, minlength=n), np.bincount(i, var * weight ** 2, minlength=n),
            np.bincount(i, revenue * weight, minlength=n))


def _sums(panel: Panel, rows: np.ndarray, first: np.ndarray, length: np.ndarray, *, days: str) -> dict:
    """Units, weekday factors (and their squares), days, sales and ad spend summed over each window's days whose
    units are known (`days`: "known"), that were in stock that day and the next too ("supplied") or watched
    ("watched": what a dip or a sibling's loss is read from)."""
    r, c, inside = gather(panel, rows, first, length)
    units = panel.units[r, c]
    use = inside & {"known": ~np.isnan(units), "supplied": panel.supplied[r, c], "watched": panel.watched[r, c]}[days]
    factor = np.where(use, panel.factors[r, panel.weekday[c]], 0.0)
    return {"units": np.where(use, units, 0.0).sum(axis=1), "factor": factor.sum(axis=1),
            "factor2": (factor ** 2).sum(axis=1), "days": use.sum(axis=1).astype(float),
            "sales": np.where(use, panel.sales[r, c], 0.0).sum(axis=1),
            "ad": np.where(use, panel.ad[r, c], 0.0).sum(axis=1)}


def _shrink(raw: np.ndarray, var: np.ndarray, gross: np.ndarray, ok: np.ndarray):
    """raw shrunk toward the pooled share of gross: the estimate, its weight on raw (0–1), and how much of gross
    it moves with (∂ estimate / ∂ gross)."""
    use = ok & np.isfinite(raw) & np.isfinite(var)
    estimate, weight, slope = np.where(use, raw, 0.0), np.where(use, 1.0, 0.0), np.zeros(len(raw))
    positive = use & (gross > 0)
    if positive.sum() < 3:
        return estimate, weight, slope
    share = float(np.clip(raw[positive].sum() / gross[positive].sum(), 0.0, 1.0))
    prior = share * np.maximum(gross, 0.0)
    spread = max(float(np.mean((raw[use] - prior[use]) ** 2) - np.mean(var[use])), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(use, np.where(var > 0, spread / (spread + var), 1.0), 0.0)
    slope = np.where(use & (gross > 0), share * (1 - weight), 0.0)
    return np.where(use, prior + weight * (raw - prior), 0.0), weight, slope


def _dtype(column: str):
    if column in ("key", "asin", "type", "reason", "start", "end"):
        return object
    return bool if column == "measurable" else float
