"""Bid suggestions toward a target ACoS: bid = posterior CVR × order value × target ACoS, with guardrails.

`suggest_bids(targets, settings, today=…)` takes one row per keyword / product target, aggregated over
`lookback_window(today, …)` (the caller loads and windows the data), and returns one row per enabled
manual-bid target with a suggestion or a hold, each with its reason, inputs and a sentence.

Input columns (money in the profile's currency):
    target_id, kind ("keyword" | "target"), campaign_id, ad_group_id
    current_bid            NaN → the target inherits ad_group_default_bid
    ad_group_default_bid   NaN if unknown
    impressions, clicks, orders, cost, sales
    state                  only "enabled" rows get a suggestion (all rows inform the priors)
    manual                 bool: the bid is set by hand, not by Amazon
  optional:
    price                  the advertised product's price: the last order-value fallback
    target_acos            per-row override (fraction); NaN → campaign_acos[campaign_id] → settings
    min_bid, max_bid, bid_increment   the marketplace's legal range per row (default: settings)
    last_change_date       date of the last applied bid change (NaT if none)
    anything else          (profile_id, keyword text, …) is passed through to the output unchanged

Output columns:
    target_id, kind, campaign_id, ad_group_id
    reason (categorical, marketing.optimize.reasons.Reason), direction ("up" | "down" | "hold")
    current_bid (float), suggested_bid (str for Decimal, e.g. "0.90"; missing on holds), inherited_bid (bool:
        applying it sets an explicit keyword bid), change_pct, limited_by ("" | "step_cap" | "min_bid" |
        "max_bid"), explanation
    window_start, window_end, clicks, orders, impressions, cost, sales, acos
    prior_alpha, prior_beta, cvr, cvr_low, cvr_high (central 2·confidence − 1 interval), aov,
    target_acos, value_per_click, ideal_bid (before guardrails), break_even_cvr
    expected_spend_delta_per_day, expected_sales_delta_per_day

Decision order per target: out of the allowed range → CLAMPED_*; changed within cooldown → hold;
no orders and upper CVR bound below break-even → LOWER_NO_ORDERS; too few impressions → RAISE_VISIBILITY
(only while the optimistic CVR could pay for the higher bid); no order value → hold; no orders →
HOLD_LEARNING; otherwise raise/lower toward the ideal bid, except that a target whose observed ACoS
meets the target is never lowered. Then the step cap, the floor/ceiling, the increment and the dead band.

Expected change per day (a deliberately simple model): clicks scale with bid^elasticity and the
cost per click keeps its observed ratio to the bid, so spend scales with bid^(1 + elasticity) and each
extra click brings the value per click in sales. Targets without clicks in the window get no estimate (0).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from marketing.optimize.bayes import conversion_posterior
from marketing.optimize.explain import decimal_text, explain
from marketing.optimize.reasons import REASONS, Reason
from marketing.optimize.settings import BidSettings, lookback_window, validate_target_acos

_CODE = {reason: np.int8(i) for i, reason in enumerate(REASONS)}
_HOLDS = np.array([reason.is_hold for reason in REASONS])
_VALUE_MOVES = (Reason.RAISE_PROFITABLE, Reason.LOWER_UNPROFITABLE, Reason.LOWER_NO_ORDERS)
_EPS = 1e-9


def suggest_bids(
    targets: pd.DataFrame,
    settings: BidSettings,
    *,
    today: date,
    campaign_acos: Mapping[object, float] | None = None,
    include_holds: bool = True,
) -> pd.DataFrame:
    """Suggestions (and, unless `include_holds=False`, holds) for every enabled manual-bid target."""
    start, end = lookback_window(today, settings.lookback_days, settings.exclude_recent_days)
    col = _Columns(targets)
    clicks, orders, sales = col.num("clicks"), col.num("orders"), col.num("sales")
    ad_group, campaign = pd.factorize(targets["ad_group_id"])[0], pd.factorize(targets["campaign_id"])[0]
    post = conversion_posterior(
        clicks,
        orders,
        ad_group,
        campaign,
        prior_cvr=settings.prior_cvr,
        min_strength=settings.min_prior_strength,
        max_strength=settings.max_prior_strength,
        confidence=settings.confidence,
    )
    aov = _order_value(sales, orders, ad_group, campaign, col.num("price", np.nan))
    tacos = _target_acos(targets, col, settings, campaign_acos)

    current = col.num("current_bid")
    bid = np.where(np.isnan(current), col.num("ad_group_default_bid", np.nan), current)
    live = (targets["state"].to_numpy() == "enabled") & targets["manual"].to_numpy(bool) & (bid > 0)
    at = np.flatnonzero(live)

    r = {
        "target_id": targets["target_id"].to_numpy()[at],
        "kind": col.text("kind", "target")[at],
        "campaign_id": targets["campaign_id"].to_numpy()[at],
        "ad_group_id": targets["ad_group_id"].to_numpy()[at],
        "current_bid": bid[at],
        "inherited_bid": np.isnan(current[at]),
        "window_start": np.full(at.size, np.datetime64(start, "D")),
        "window_end": np.full(at.size, np.datetime64(end, "D")),
        "clicks": clicks[at],
        "orders": orders[at],
        "impressions": col.num("impressions")[at],
        "cost": col.num("cost")[at],
        "sales": sales[at],
        "prior_alpha": post.prior_alpha[at],
        "prior_beta": post.prior_beta[at],
        "cvr": post.mean[at],
        "cvr_low": post.low[at],
        "cvr_high": post.high[at],
        "aov": aov[at],
        "target_acos": tacos[at],
        "floor": np.maximum(col.num("min_bid", settings.marketplace_min_bid)[at], settings.min_bid or 0.0),
        "ceiling": np.minimum(col.num("max_bid", settings.marketplace_max_bid)[at], settings.max_bid or np.inf),
        "increment": col.num("bid_increment", settings.bid_increment)[at],
        "last_change_date": col.dates("last_change_date")[at],
    }
    passthrough = [name for name in targets.columns if name not in _INPUTS and name not in _OUTPUT]
    r |= {name: targets[name].to_numpy()[at] for name in passthrough}
    if np.any(r["floor"] > r["ceiling"]):
        raise ValueError("The minimum bid is above the marketplace's maximum bid for some targets.")
    with np.errstate(divide="ignore", invalid="ignore"):
        r["acos"] = r["cost"] / r["sales"]
        r["value_per_click"] = r["cvr"] * r["aov"]
        r["ideal_bid"] = r["value_per_click"] * r["target_acos"]
        r["break_even_cvr"] = r["current_bid"] / (r["aov"] * r["target_acos"])
    r["decimals"] = np.maximum(0, np.ceil(-np.log10(r["increment"]) - _EPS)).astype(np.int64)

    _decide(r, settings, np.datetime64(today, "D"))
    _expected_change(r, settings)
    r["explanation"] = explain(
        r,
        days=settings.window_days,
        dead_band=settings.dead_band,
        cooldown_days=settings.cooldown_days,
        currency=settings.currency_symbol,
    )
    return _frame(r, include_holds, passthrough)


def _decide(r, settings: BidSettings, today: np.datetime64) -> None:
    """Reason, proposed and suggested bid per row (adds columns to `r`)."""
    bid, orders, high, aov, tacos = r["current_bid"], r["orders"], r["cvr_high"], r["aov"], r["target_acos"]
    visible_bid = bid * (1 + settings.visibility_step)
    with np.errstate(invalid="ignore"):
        rules = [  # first match wins
            (Reason.CLAMPED_MIN, bid < r["floor"] - _EPS),
            (Reason.CLAMPED_MAX, bid > r["ceiling"] + _EPS),
            (Reason.HOLD_COOLDOWN, today - r["last_change_date"] < np.timedelta64(settings.cooldown_days, "D")),
            (
                Reason.LOWER_NO_ORDERS,
                (orders == 0) & (r["clicks"] >= settings.min_clicks_for_no_order_cut) & (high < r["break_even_cvr"]),
            ),
            (
                Reason.RAISE_VISIBILITY,
                (r["impressions"] < settings.visibility_impressions)
                & (np.isnan(aov) | (visible_bid <= high * aov * tacos)),
            ),
            (Reason.HOLD_NO_VALUE, np.isnan(aov)),
            (Reason.HOLD_LEARNING, orders == 0),
            (Reason.RAISE_PROFITABLE, r["ideal_bid"] > bid),
            (Reason.HOLD_PROFITABLE, r["acos"] <= tacos),
        ]
        reason = np.select([c for _, c in rules], [_CODE[x] for x, _ in rules], _CODE[Reason.LOWER_UNPROFITABLE])
    reason = reason.astype(np.int8)
    proposal = np.select(
        [reason == _CODE[Reason.RAISE_VISIBILITY], np.isin(reason, [_CODE[x] for x in _VALUE_MOVES])],
        [visible_bid, r["ideal_bid"]],
        bid,
    )

    # Guardrails, in ticks of the bid increment so that the cap and the range hold after rounding.
    inc = r["increment"]
    floor_t, ceil_t = np.ceil(r["floor"] / inc - _EPS), np.floor(r["ceiling"] / inc + _EPS)
    cap_lo_t = np.maximum(np.ceil(bid * (1 - settings.max_step) / inc - _EPS), floor_t)
    cap_hi_t = np.minimum(np.floor(bid * (1 + settings.max_step) / inc + _EPS), ceil_t)
    ticks = np.clip(np.floor(proposal / inc + 0.5 + _EPS), cap_lo_t, cap_hi_t)
    ticks = np.select(
        [reason == _CODE[Reason.CLAMPED_MIN], reason == _CODE[Reason.CLAMPED_MAX]], [floor_t, ceil_t], ticks
    )
    proposed = ticks * inc
    clamped = np.isin(reason, [_CODE[Reason.CLAMPED_MIN], _CODE[Reason.CLAMPED_MAX]])
    over, under = proposal - proposed > inc / 2, proposed - proposal > inc / 2
    r["limited_by"] = np.select(
        [clamped, over & (ticks == ceil_t), under & (ticks == floor_t), over | under],
        ["", "max_bid", "min_bid", "step_cap"],
        "",
    )
    moves = ~_HOLDS[reason] & ~clamped
    small = np.abs(proposed - bid) < np.maximum(settings.dead_band * bid, inc / 2)
    reason[moves & small] = _CODE[Reason.HOLD_DEAD_BAND]

    hold = _HOLDS[reason]
    r["reason"], r["proposed_bid"], r["ticks"] = reason, proposed, ticks
    r["change_pct"] = np.where(hold, 0.0, proposed / bid - 1)
    r["direction"] = np.where(hold, "hold", np.where(proposed > bid, "up", "down"))


def _expected_change(r, settings: BidSettings) -> None:
    growth = np.where(r["direction"] == "hold", 1.0, r["proposed_bid"] / r["current_bid"])
    days = settings.window_days
    r["expected_spend_delta_per_day"] = r["cost"] / days * (growth ** (1 + settings.elasticity) - 1)
    more_clicks = r["clicks"] / days * (growth**settings.elasticity - 1)
    r["expected_sales_delta_per_day"] = np.nan_to_num(more_clicks * r["value_per_click"])


def _order_value(sales, orders, ad_group, campaign, price):
    """Average order value: the target's own, else its ad group's, else its campaign's, else the price."""
    with np.errstate(divide="ignore", invalid="ignore"):
        aov = np.where(orders > 0, sales / orders, np.nan)
        for group in (ad_group, campaign):
            pooled = np.bincount(group, sales) / np.bincount(group, orders)
            aov = np.where(np.isnan(aov), pooled[group], aov)
    aov = np.where(np.isnan(aov) | (aov <= 0), price, aov)
    return np.where(aov > 0, aov, np.nan)


def _target_acos(targets, col, settings, campaign_acos):
    tacos = col.num("target_acos", np.nan)
    bad = ~np.isnan(tacos) & ~((tacos > 0) & (tacos <= 1))
    if bad.any():
        first = np.flatnonzero(bad)[0]
        validate_target_acos(tacos[first], f"Target ACoS of target {targets['target_id'].iloc[first]}")
    if campaign_acos:
        checked = {k: validate_target_acos(v, f"Target ACoS of campaign {k}") for k, v in campaign_acos.items()}
        by_campaign = targets["campaign_id"].map(checked).to_numpy(float, na_value=np.nan)
        tacos = np.where(np.isnan(tacos), by_campaign, tacos)
    return np.where(np.isnan(tacos), settings.target_acos, tacos)


class _Columns:
    """Typed access to input columns, with defaults for the optional ones."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame

    def num(self, name, default=None) -> np.ndarray:
        if name not in self._frame and default is not None:
            return np.full(len(self._frame), default, dtype=float)
        return self._frame[name].to_numpy(dtype=float, na_value=np.nan)

    def text(self, name, default) -> np.ndarray:
        if name not in self._frame:
            return np.full(len(self._frame), default, dtype=object)
        return self._frame[name].fillna(default).to_numpy(dtype=object)

    def dates(self, name) -> np.ndarray:
        if name not in self._frame:
            return np.full(len(self._frame), np.datetime64("NaT"), dtype="datetime64[D]")
        stamps = pd.to_datetime(self._frame[name])
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return stamps.to_numpy(dtype="datetime64[D]")


_INPUTS = {
    *("target_id", "kind", "campaign_id", "ad_group_id", "current_bid", "ad_group_default_bid", "impressions"),
    *("clicks", "orders", "cost", "sales", "state", "manual", "price", "target_acos", "min_bid", "max_bid"),
    *("bid_increment", "last_change_date"),
}
_OUTPUT = [
    "target_id",
    "kind",
    "campaign_id",
    "ad_group_id",
    "reason",
    "direction",
    "current_bid",
    "suggested_bid",
    "inherited_bid",
    "change_pct",
    "limited_by",
    "explanation",
    "window_start",
    "window_end",
    "clicks",
    "orders",
    "impressions",
    "cost",
    "sales",
    "acos",
    "prior_alpha",
    "prior_beta",
    "cvr",
    "cvr_low",
    "cvr_high",
    "aov",
    "target_acos",
    "value_per_click",
    "ideal_bid",
    "break_even_cvr",
    "expected_spend_delta_per_day",
    "expected_sales_delta_per_day",
]


def _frame(r, include_holds: bool, passthrough: list[str]) -> pd.DataFrame:
    keep = slice(None) if include_holds else r["direction"] != "hold"
    r["inherited_bid"] = r["inherited_bid"] & (r["direction"] != "hold")
    r["suggested_bid"] = _money_text(r["ticks"] * r["increment"], r["decimals"], r["direction"] == "hold")
    r["reason"] = pd.Categorical.from_codes(r["reason"], categories=[x.value for x in REASONS])
    for name in ("clicks", "orders", "impressions"):
        r[name] = r[name].astype(np.int64)
    return pd.DataFrame({name: r[name][keep] for name in _OUTPUT + passthrough})


def _money_text(amount, decimals, missing):
    """Exact decimal strings ("0.90", "120") for Decimal(...): the caller's money never passes through a float."""
    out = decimal_text(amount, decimals)
    out[missing] = None
    return out
