"""Bid suggestions: the most a click is worth under the target ACoS (or the margin), with guardrails.

`suggest_bids(targets, settings, today=…)` takes one row per keyword / product target, aggregated over
`lookback_window(today, …)` (the caller loads and windows the data), and returns one row per enabled
manual-bid target with a suggestion or a hold, each with its reason, inputs and a sentence.

The model. A click is worth value_per_click = CVR × AOV in sales, where CVR is the posterior mean of a
hierarchical Beta model (target → ad group → campaign → seller, `bayes.py`) and AOV the target's order value
shrunk toward its ad group's (one product per ad group; `aov_prior_orders` pseudo-orders). Amazon's auction is
second-price: a click costs less than the bid, CPC ≈ cpc_ratio × bid, with cpc_ratio = cost / (clicks × bid)
shrunk seller → campaign → ad group → target (`cpc_ratio_strength` pseudo-clicks, `prior_cpc_ratio` before any
click) and floored at `min_cpc_ratio`. The bid is value_per_click × share, where share is the smaller of

* target ACoS / cpc_ratio — the bid whose expected CPC spends the target ACoS of a click's sales
  (ACoS = CPC / value_per_click); and
* the break-even ACoS (price − unit cost − fees) / price, where the price and unit cost are known — in a
  second-price auction the most profitable bid is what a click earns before ads (bid higher and the extra
  clicks cost more than they earn), so the ACoS target is a ceiling, not a goal, for a thin-margin product.

The floor on cpc_ratio (default 0.5: a bid at most 2× a click's worth at the target ACoS) is there because the
ratio is measured at the current bid: above it the extra clicks are bought at close to the bid, and a low
ratio (a bid far above the competition) does not hold as the bid rises. The ratio is also measured against
today's bid over a window that may have run at older bids, so it lags a change by a few weeks.

Evidence. CVR and AOV don't depend on the bid, so they use `history_clicks`, `history_orders`,
`history_sales` (a longer history, e.g. 90 days) where given; cost, impressions, ACoS and the CPC ratio use
the look-back window. A target without orders is still valued at its posterior CVR (mostly its ad group's
until it has clicks of its own), so a promising keyword whose bid is too low to be seen gets raised instead of
waiting for an order it can't get.

Input columns (money in the profile's currency):
    target_id, kind ("keyword" | "target"), campaign_id, ad_group_id
    current_bid            NaN → the target inherits ad_group_default_bid
    ad_group_default_bid   NaN if unknown
    impressions, clicks, orders, cost, sales   over the look-back window
    state                  only "enabled" rows get a suggestion (all rows inform the priors)
    manual                 bool: the bid is set by hand, not by Amazon
  optional:
    history_clicks, history_orders, history_sales   over a longer history ending with the window (NaN → the
                           window's): conversion evidence only
    price                  the advertised product's price: the last order-value fallback, and the margin's base
    unit_cost, fees        per unit (fees default 0): with the price, the break-even ACoS that caps the bid
    target_acos            per-row override (fraction); NaN → campaign_acos[campaign_id] → settings
    min_bid, max_bid, bid_increment   the marketplace's legal range per row (default: settings)
    last_change_date       date of the last applied bid change (NaT if none)
    budget_days, budget_capped_days, campaign_budget, campaign_spend   the campaign's recent days with data, those
                           it spent ≥ `budget_bound_share` of its daily budget, that budget and its mean daily spend
    anything else          (profile_id, keyword text, …) is passed through to the output unchanged

Output columns:
    target_id, kind, campaign_id, ad_group_id
    reason (categorical, marketing.optimize.reasons.Reason), direction ("up" | "down" | "hold")
    current_bid (float), suggested_bid (str for Decimal, e.g. "0.90"; missing on holds), inherited_bid (bool:
        applying it sets an explicit keyword bid), change_pct, limited_by ("" | "step_cap" | "min_bid" |
        "max_bid" | "budget"), explanation
    window_start, window_end, clicks, orders, impressions, cost, sales, acos
    evidence_clicks, evidence_orders (what the CVR rests on: the history where given, else the window)
    prior_alpha, prior_beta, cvr, cvr_low, cvr_high (central 2·confidence − 1 interval), aov,
    target_acos, cpc_ratio, break_even_acos (NaN if unknown), value_per_click, ideal_bid (before guardrails),
    break_even_cvr (the CVR at which the current bid is the ideal bid)
    expected_spend_delta_per_day, expected_sales_delta_per_day
    objective, budget_bound, campaign_budget, campaign_spend, marginal_factor, and the last
        change's measurement (measured, change_paid, measured_*)

Decision order per target: out of the allowed range → CLAMPED_*; changed within cooldown → hold;
no orders, enough clicks (`min_clicks_for_no_order_cut`) and upper CVR bound below break-even →
LOWER_NO_ORDERS; too few impressions → RAISE_VISIBILITY (only while the optimistic CVR could pay for the
higher bid); no order value → hold; ideal bid above the current one → RAISE_PROFITABLE; no orders and too few
clicks to lower on → HOLD_LEARNING; observed ACoS at or under the ACoS the ideal bid aims for →
HOLD_PROFITABLE (never lowered); otherwise LOWER_UNPROFITABLE. Then each campaign's budget (`_fit_budgets`): a
budget-bound campaign gets no raises and gives up its least profitable clicks first (LOWER_BUDGET_BOUND), and in
any other campaign raises shrink to what keeps it within its budget (HOLD_BUDGET_ROOM where none is left). Then
the step cap, the floor/ceiling, the increment and the dead band.

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
from marketing.optimize.margin import break_even_acos
from marketing.optimize.reasons import REASONS, Reason
from marketing.optimize.settings import OBJECTIVES, BidSettings, lookback_window, validate_target_acos
from marketing.optimize.special import beta_quantile

_CODE = {reason: np.int8(i) for i, reason in enumerate(REASONS)}
_HOLDS = np.array([reason.is_hold for reason in REASONS])
_VALUE_MOVES = (Reason.RAISE_PROFITABLE, Reason.LOWER_UNPROFITABLE, Reason.LOWER_NO_ORDERS)
_RAISES = (Reason.RAISE_PROFITABLE, Reason.RAISE_VISIBILITY)
_EPS = 1e-9


def warm(settings: BidSettings | None = None) -> None:
    """Build the quantile tables the engine interpolates at `settings.confidence` (~0.3 s, once per process):
    `marketing worker` does it before it forks, so each run's work horse starts with them."""
    confidence = (settings or BidSettings()).confidence
    for prob in (confidence, 1 - confidence):
        beta_quantile(prob, np.ones(1), np.ones(1))


def suggest_bids(
    targets: pd.DataFrame,
    settings: BidSettings,
    *,
    today: date,
    campaign_acos: Mapping[object, float] | None = None,
    campaign_objective: Mapping[object, str] | None = None,
    include_holds: bool = True,
) -> pd.DataFrame:
    """Suggestions (and, unless `include_holds=False`, holds) for every enabled manual-bid target.
    `campaign_acos` and `campaign_objective` are campaigns' own target ACoS and objective (else the settings')."""
    start, end = lookback_window(today, settings.lookback_days, settings.exclude_recent_days)
    col = _Columns(targets)
    clicks, orders, sales = col.num("clicks"), col.num("orders"), col.num("sales")
    # Conversion evidence: the longer history where given (CVR and order value don't depend on the bid).
    ev_clicks, ev_orders, ev_sales = (
        _history(col, name, window) for name, window in (("clicks", clicks), ("orders", orders), ("sales", sales))
    )
    ad_group, campaign = pd.factorize(targets["ad_group_id"])[0], pd.factorize(targets["campaign_id"])[0]
    post = conversion_posterior(
        ev_clicks,
        ev_orders,
        ad_group,
        campaign,
        prior_cvr=settings.prior_cvr,
        min_strength=settings.min_prior_strength,
        max_strength=settings.max_prior_strength,
        confidence=settings.confidence,
    )
    dud = _unlike_parent(post, ev_clicks, ev_orders, settings)
    price = col.num("price", np.nan)
    aov = _order_value(ev_sales, ev_orders, ad_group, campaign, price, settings.aov_prior_orders)
    tacos = _target_acos(targets, col, settings, campaign_acos)

    current = col.num("current_bid")
    bid = np.where(np.isnan(current), col.num("ad_group_default_bid", np.nan), current)
    ratio = _cpc_ratio(col.num("cost"), clicks, bid, col.num("bid_clicks", np.nan), ad_group, campaign, settings)
    margin = break_even_acos(price, col.num("unit_cost", np.nan), col.num("fees", 0.0))
    margin = np.where(margin > 0, margin, np.nan)  # loses money before ads: a launch? the ACoS target decides
    objective = _objective(targets, settings, campaign_objective)
    margin = np.where(objective == "growth", np.nan, margin)
    budget_bound = (col.num("budget_days", 0.0) >= 3) & (2 * col.num("budget_capped_days", 0.0) > col.num(
        "budget_days", 0.0))
    live = (targets["state"].to_numpy() == "enabled") & targets["manual"].to_numpy(bool) & (bid > 0)
    at = np.flatnonzero(live)
    change = _last_change(col, today, at)

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
        "evidence_clicks": ev_clicks[at],
        "evidence_orders": ev_orders[at],
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
        "cpc_ratio": ratio[at],
        "break_even_acos": margin[at],
        "floor": np.maximum(col.num("min_bid", settings.marketplace_min_bid)[at], settings.min_bid or 0.0),
        "ceiling": np.minimum(col.num("max_bid", settings.marketplace_max_bid)[at], settings.max_bid or np.inf),
        "increment": col.num("bid_increment", settings.bid_increment)[at],
        "last_change_date": col.dates("last_change_date")[at],
        "dud": dud[at],
        "marginal_factor": _marginal_factor(change, ratio[at], settings),
        "budget_bound": budget_bound[at],
        "campaign_budget": col.num("campaign_budget", np.nan)[at],
        "campaign_spend": col.num("campaign_spend", np.nan)[at],
        **change,
    }
    passthrough = [name for name in targets.columns if name not in _INPUTS and name not in _OUTPUT]
    r |= {name: targets[name].to_numpy()[at] for name in passthrough}
    if np.any(r["floor"] > r["ceiling"]):
        raise ValueError("The minimum bid is above the marketplace's maximum bid for some targets.")
    with np.errstate(divide="ignore", invalid="ignore"):
        r["acos"] = r["cost"] / r["sales"]
        r["value_per_click"] = r["cvr"] * r["aov"]
        # Bid per $ of value per click: the ACoS cap on the expected CPC, or the pre-ad margin if lower.
        by_acos = r["target_acos"] / r["cpc_ratio"]
        # Profit peaks where the next click's cost (CPC × the marginal factor: clicks get dearer as the bid
        # rises) equals what it earns before ads (value × margin).
        by_margin = r["break_even_acos"] / (r["cpc_ratio"] * r["marginal_factor"])
        r["margin_limited"] = by_margin < by_acos
        r["bid_share"] = np.where(r["margin_limited"], np.maximum(by_margin, 0.0), by_acos)
        r["objective"] = np.where(np.isnan(r["break_even_acos"]), "growth", "profit").astype(object)
        r["objective_reason"] = np.where(
            objective[at] == "growth", "growth", np.where(r["objective"] == "profit", "profit", "growth_no_costs"))
        r["ideal_bid"] = r["value_per_click"] * r["bid_share"]
        r["break_even_cvr"] = r["current_bid"] / (r["aov"] * r["bid_share"])
        # The ACoS the ideal bid is expected to run at: the target, or lower where the margin limits the bid.
        r["acos_ceiling"] = np.minimum(r["bid_share"] * r["cpc_ratio"], r["target_acos"])
    r["decimals"] = np.maximum(0, np.ceil(-np.log10(r["increment"]) - _EPS)).astype(np.int64)

    _measure(r, settings)
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
    bid, orders, high, aov, share = r["current_bid"], r["evidence_orders"], r["cvr_high"], r["aov"], r["bid_share"]
    visible_bid = bid * (1 + settings.visibility_step)
    evidence = r["evidence_clicks"] >= settings.min_clicks_for_no_order_cut
    with np.errstate(invalid="ignore"):
        rules = [  # first match wins
            (Reason.CLAMPED_MIN, bid < r["floor"] - _EPS),
            (Reason.CLAMPED_MAX, bid > r["ceiling"] + _EPS),
            (Reason.HOLD_COOLDOWN, today - r["last_change_date"] < np.timedelta64(settings.cooldown_days, "D")),
            (Reason.LOWER_NO_ORDERS, (orders == 0) & evidence & (high < r["break_even_cvr"])),
            (
                Reason.RAISE_VISIBILITY,
                (r["impressions"] < settings.visibility_impressions)
                & (np.isnan(aov) | (visible_bid <= high * aov * share)),
            ),
            (Reason.HOLD_NO_VALUE, np.isnan(aov)),
            (Reason.RAISE_PROFITABLE, r["ideal_bid"] > bid),
            (Reason.HOLD_LEARNING, (orders == 0) & ~evidence),
            (Reason.HOLD_PROFITABLE, r["acos"] <= r["acos_ceiling"]),
        ]
        reason = np.select([c for _, c in rules], [_CODE[x] for x, _ in rules], _CODE[Reason.LOWER_UNPROFITABLE])
    reason = reason.astype(np.int8)
    # A campaign that runs out of budget buys dearer clicks, not more, with a higher bid: no raises.
    bound = r["budget_bound"]
    reason[bound & np.isin(reason, [_CODE[x] for x in _RAISES])] = _CODE[Reason.HOLD_BUDGET_BOUND]
    proposal = np.select(
        [reason == _CODE[Reason.RAISE_VISIBILITY], np.isin(reason, [_CODE[x] for x in _VALUE_MOVES])],
        [visible_bid, r["ideal_bid"]],
        bid,
    )
    # A measured change that did not pay is not repeated: where the engine would go on the same way (or hold),
    # it steps back toward the bid before the change.
    clamped_or_dud = np.isin(reason, [_CODE[Reason.CLAMPED_MIN], _CODE[Reason.CLAMPED_MAX]]) | r["dud"]
    onward = np.sign(proposal - bid) != -r["change_sign"]
    back = r["measured"] & ~r["change_paid"] & onward & ~clamped_or_dud & ~bound & (bid == r["change_bid_after"])
    reason[back] = _CODE[Reason.BACK_OFF]
    proposal = np.where(back, r["change_bid_before"], proposal)
    proposal, budget_limited = _fit_budgets(r, reason, proposal, settings)

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
    over, under = proposal - proposed > inc / 2 + _EPS, proposed - proposal > inc / 2 + _EPS  # not rounding
    r["limited_by"] = np.select(
        [clamped, over & (ticks == ceil_t), under & (ticks == floor_t), over | under],
        ["", "max_bid", "min_bid", "step_cap"],
        "",
    )
    r["limited_by"] = np.where(budget_limited & (r["limited_by"] == ""), "budget", r["limited_by"])
    moves = ~_HOLDS[reason] & ~clamped
    small = np.abs(proposed - bid) < np.maximum(settings.dead_band * bid, inc / 2)
    reason[moves & small] = _CODE[Reason.HOLD_DEAD_BAND]

    # No double steps: the same way again only once the last step has had its days of data (duds excepted:
    # their evidence, clicks without orders, doesn't depend on the bid).
    moves = ~_HOLDS[reason] & ~clamped
    again = np.sign(proposed - bid) == r["change_sign"]  # NaN (a change before the history) never matches
    early = r["days_since_change"] < settings.min_days_after_change
    reason[moves & again & early & ~r["dud"] & (reason != _CODE[Reason.BACK_OFF])] = _CODE[Reason.HOLD_SAME_STEP]

    hold = _HOLDS[reason]
    r["reason"], r["proposed_bid"], r["ticks"] = reason, proposed, ticks
    r["change_pct"] = np.where(hold, 0.0, proposed / bid - 1)
    r["direction"] = np.where(hold, "hold", np.where(proposed > bid, "up", "down"))


def _fit_budgets(r, reason, proposal, settings: BidSettings) -> tuple[np.ndarray, np.ndarray]:
    """Each campaign's bids within its daily budget; changes `reason` in place, returns the proposals and where
    the budget limited a raise.

    A budget-bound campaign stops early in the day, so its budget, not the bids, sets its spend: it earns most by
    spending that budget on the clicks that earn most per dollar, all day. So its spend comes down each run until
    it fits, and the clicks given up are the least profitable ones: its bids go to k × their ideal bid (never up),
    with k one factor per campaign, the largest that lowers the campaign's expected spend by `budget_step` — the
    targets bid furthest above what their clicks are worth are cut most, those well below it not at all (the
    engine's own cuts count toward the step): a profit-maximiser paying a shadow price for the budget.
    In a campaign that is not bound, raises shrink (one factor per campaign on their steps) to what keeps its
    expected spend within `budget_bound_share` of its budget: a raise that would run it out of budget buys dearer
    clicks for part of the day, and drives it back into the cuts above.
    Expected spend: each target's daily spend in the window × (bid after ÷ bid)^(1 + elasticity), as in the
    expected change, and the campaign's recent daily spend (`campaign_spend`) for the room left under its budget."""
    bid = r["current_bid"]
    limited = np.zeros(bid.size, dtype=bool)
    if not bid.size:
        return proposal, limited
    camp = pd.factorize(r["campaign_id"])[0]
    spend = np.where(r["cost"] > 0, r["cost"], 0.0)
    spends = np.bincount(camp, spend)[camp] > 0
    power = 1 + settings.elasticity
    step = np.clip(proposal / bid, 1 - settings.max_step, 1 + settings.max_step)

    def largest(rows, step_at, limit, lo, hi):
        """Per row of `rows`, its campaign's largest x in [lo, hi] whose steps `step_at(x, rows)` keep the
        campaign's expected spend after ÷ before ≤ `limit` (a row's, the same for its campaign); lo where none."""
        ids, local = np.unique(camp[rows], return_inverse=True)
        w, most = spend[rows], np.empty(ids.size)
        most[local] = limit[rows]
        base = np.bincount(local, w, ids.size)

        def ok(x):
            return np.bincount(local, w * step_at(x[local], rows) ** power, ids.size) <= (most + _EPS) * base

        lo, hi = np.full(ids.size, lo, dtype=float), np.full(ids.size, hi, dtype=float)
        fits = ok(hi)
        for _ in range(30):
            mid = (lo + hi) / 2
            good = ok(mid)
            lo, hi = np.where(good, mid, lo), np.where(good, hi, mid)
        return np.where(fits, hi, lo)[local]

    fixed = np.isin(reason, [_CODE[x] for x in (Reason.CLAMPED_MIN, Reason.CLAMPED_MAX, Reason.HOLD_COOLDOWN)])
    with np.errstate(divide="ignore", invalid="ignore"):
        worth = r["ideal_bid"] / bid
    cut = r["budget_bound"] & ~fixed & np.isfinite(worth) & spends
    if cut.any():
        rows = np.flatnonzero(r["budget_bound"] & spends)

        def bound_step(log_k, at):  # bids toward k × ideal, never up, within the step cap
            down = np.clip(np.minimum(step[at], np.exp(log_k) * worth[at]), 1 - settings.max_step, 1.0)
            return np.where(cut[at], down, step[at])

        aim = np.full(bid.size, 1 - settings.budget_step)
        fitted = bound_step(largest(rows, bound_step, aim, -10.0, 10.0), rows)
        deeper = np.zeros(bid.size, dtype=bool)
        deeper[rows] = cut[rows] & (fitted < step[rows] - _EPS)
        reason[deeper] = _CODE[Reason.LOWER_BUDGET_BOUND]
        step[rows] = fitted
        proposal = np.where(deeper, bid * step, proposal)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = settings.budget_bound_share * r["campaign_budget"] / r["campaign_spend"]
    up = ~r["budget_bound"] & np.isfinite(room) & (room > 0) & (step > 1) & spends
    if up.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.bincount(camp, spend * step**power) / np.bincount(camp, spend)
        rows = np.flatnonzero(np.isin(camp, np.unique(camp[up & (ratio[camp] > room + _EPS)])))

        def room_step(t, at):  # raises' steps shrunk to step^t
            return np.where(up[at], step[at] ** t, step[at])

        scaled = room_step(largest(rows, room_step, room, 0.0, 1.0), rows)
        limited[rows] = up[rows] & (scaled < step[rows] - _EPS)
        none_left = np.zeros(bid.size, dtype=bool)
        none_left[rows] = limited[rows] & (scaled < 1 + settings.dead_band)
        proposal = proposal.copy()
        proposal[rows] = np.where(limited[rows], bid[rows] * scaled, proposal[rows])
        proposal[none_left] = bid[none_left]
        reason[none_left] = _CODE[Reason.HOLD_BUDGET_ROOM]
        limited &= ~none_left
    return proposal, limited


def _expected_change(r, settings: BidSettings) -> None:
    growth = np.where(r["direction"] == "hold", 1.0, r["proposed_bid"] / r["current_bid"])
    days = settings.window_days
    r["expected_spend_delta_per_day"] = r["cost"] / days * (growth ** (1 + settings.elasticity) - 1)
    more_clicks = r["clicks"] / days * (growth**settings.elasticity - 1)
    r["expected_sales_delta_per_day"] = np.nan_to_num(more_clicks * r["value_per_click"])


def _history(col, name, window):
    """`history_<name>` where given (never less than the window's own count), else the window's."""
    history = col.num(f"history_{name}", np.nan)
    return np.where(np.isnan(history), window, np.maximum(history, window))


def _order_value(sales, orders, ad_group, campaign, price, prior_orders):
    """Average order value per target, shrunk toward its ad group's (else campaign's, else the price).

    An ad group advertises one product, so its pooled AOV is the better estimate for a target with one or two
    orders (one of which may be another product's): (sales + k·pooled) / (orders + k), k = `prior_orders`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        parent = np.full(sales.size, np.nan)
        for group in (ad_group, campaign):
            pooled = np.bincount(group, sales) / np.bincount(group, orders)
            parent = np.where(np.isnan(parent) | (parent <= 0), pooled[group], parent)
        parent = np.where(np.isnan(parent) | (parent <= 0), price, parent)
        own = np.where(orders > 0, sales / orders, np.nan)
        shrunk = (sales + prior_orders * parent) / (orders + prior_orders)
        aov = np.where(np.isnan(parent), own, np.where(orders > 0, shrunk, parent))
    return np.where(aov > 0, aov, np.nan)


def _cpc_ratio(cost, clicks, bid, bid_clicks, ad_group, campaign, settings):
    """Cost per click as a share of the bid (second-price auctions charge less than the bid), per target.

    Click-weighted cost / Σ(clicks × the bid in force when they were bought) — `bid_clicks` from the bid
    history, else clicks × today's bid — shrunk seller → campaign → ad group → target with `cpc_ratio_strength`
    pseudo-clicks at each level, starting from `prior_cpc_ratio`; bounded to [`min_cpc_ratio`, 1]. Measured
    against the bid in force, a raise does not make the older, cheaper clicks look like a discount (no ratchet)."""
    k, prior = settings.cpc_ratio_strength, settings.prior_cpc_ratio
    has = (clicks > 0) & (bid > 0)
    paid = np.where(np.isfinite(bid_clicks) & (bid_clicks > 0), bid_clicks, clicks * bid)
    c, b = np.where(has, cost, 0.0), np.where(has, paid, 0.0)
    mean_bid = b.sum() / max(float((clicks * has).sum()), 1.0) or 1.0
    ratio = np.full(cost.size, (c.sum() + k * mean_bid * prior) / (b.sum() + k * mean_bid))
    for group in (campaign, ad_group):
        g_cost, g_bid, g_clicks = np.bincount(group, c), np.bincount(group, b), np.bincount(group, clicks * has)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_bid_mean = np.where(g_clicks > 0, g_bid / g_clicks, 1.0)
        parent = ratio
        ratio = (g_cost[group] + k * g_bid_mean[group] * parent) / (g_bid[group] + k * g_bid_mean[group])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (c + k * bid * ratio) / (b + k * bid)
    ratio = np.where(np.isfinite(ratio), ratio, prior)
    return np.clip(ratio, settings.min_cpc_ratio, 1.0)


def _unlike_parent(post, clicks, orders, settings) -> np.ndarray:
    """Duds: no orders in more clicks than the ad group's rate makes believable (P(0 orders) below 1 −
    confidence). Their posterior is refitted on a weak prior (`min_prior_strength`), so clicks piling up
    without orders cut the bid now instead of shrinking toward the ad group for weeks. Changes `post` in place."""
    kappa = post.prior_alpha + post.prior_beta
    parent = post.prior_alpha / kappa
    with np.errstate(divide="ignore", invalid="ignore"):
        unlikely = clicks * np.log1p(-parent) < np.log(1 - settings.confidence)
    dud = (orders == 0) & (clicks >= settings.min_clicks_for_no_order_cut) & unlikely
    if dud.any():
        a = settings.min_prior_strength * parent[dud]
        b = settings.min_prior_strength - a + clicks[dud]
        post.prior_alpha[dud], post.prior_beta[dud] = a, settings.min_prior_strength - a
        post.mean[dud] = a / (a + b)
        post.low[dud] = beta_quantile(1 - settings.confidence, a, b)
        post.high[dud] = beta_quantile(settings.confidence, a, b)
    return dud


def _last_change(col, today, at) -> dict[str, np.ndarray]:
    """The last bid change of the targets `at` (from the bid history): its direction, the days since (clicks and
    cost show at once; only orders lag), and the daily clicks, spend and sales before and after it (NaN where
    unknown)."""
    last = col.dates("last_change_date")[at]
    days = (np.datetime64(today, "D") - last).astype("timedelta64[D]").astype(float)
    days = np.where(np.isnat(last), np.inf, np.maximum(days, 0.0))
    if "bid_before" not in col or "bid_after" not in col:  # no change history: one shared NaN column (memory)
        unknown = np.full(at.size, np.nan)
        unknown.setflags(write=False)
        names = [f"{w}_{m}_per_day" for w in ("before", "after") for m in ("clicks", "cost", "orders", "sales")]
        return {"days_since_change": days, "change_sign": unknown, "change_bid_before": unknown,
                "change_bid_after": unknown, **dict.fromkeys(names, unknown),
                **{f"control_{m}": np.ones(at.size) for m in ("clicks", "cost", "sales")}}
    before, after = col.num("bid_before", np.nan, at), col.num("bid_after", np.nan, at)
    out = {"days_since_change": days, "change_sign": np.sign(after - before), "change_bid_before": before,
           "change_bid_after": after}
    for window in ("before", "after"):
        n = col.num(f"{window}_days", np.nan, at)
        with np.errstate(divide="ignore", invalid="ignore"):
            for m in ("clicks", "cost", "orders", "sales"):
                out[f"{window}_{m}_per_day"] = np.where(n > 0, col.num(f"{window}_{m}", np.nan, at) / n, np.nan)
    for m in ("clicks", "cost", "sales"):  # the untouched targets' drift over the same days (1: none known)
        drift = col.num(f"control_{m}", np.nan, at)
        out[f"control_{m}"] = np.where(np.isfinite(drift) & (drift > 0), drift, 1.0)
    return out


def _measure(r, settings: BidSettings) -> None:
    """What each target's last change did, `measure_days` after it: clicks, CPC, spend and sales per day after
    vs before, as a difference-in-differences against the profile's untouched targets over the same days; the
    marginal ACoS (extra spend ÷ extra sales) and the profit per day it added (at the margin where known, else
    at the target ACoS). `change_paid`: a raise paid if its extra sales came at a marginal ACoS within the
    objective's allowance; a cut paid if it saved more than the sales it lost were worth."""
    b0, b1 = r["change_bid_before"], r["change_bid_after"]
    if not b0.flags.writeable:  # no change history (see _last_change): nothing to measure
        names = ("change_pct_last", "measured_clicks_pct", "measured_cpc_pct", "measured_spend_delta",
                 "measured_sales_delta", "measured_marginal_acos", "measured_profit_delta")
        r.update(dict.fromkeys(names, b0))
        r["measured"] = r["change_paid"] = np.zeros(b0.size, dtype=bool)
        return
    c0, c1 = r["before_clicks_per_day"], r["after_clicks_per_day"]
    s0, s1 = r["before_cost_per_day"], r["after_cost_per_day"]
    v0, v1 = r["before_sales_per_day"], r["after_sales_per_day"]
    with np.errstate(divide="ignore", invalid="ignore"):
        r["change_pct_last"] = b1 / b0 - 1
        r["measured_clicks_pct"] = c1 / (c0 * r["control_clicks"]) - 1
        r["measured_cpc_pct"] = (s1 / c1) / ((s0 / c0) * r["control_cost"] / r["control_clicks"]) - 1
        r["measured_spend_delta"] = s1 - s0 * r["control_cost"]
        r["measured_sales_delta"] = v1 - v0 * r["control_sales"]
        r["measured_marginal_acos"] = r["measured_spend_delta"] / r["measured_sales_delta"]
        allowance = np.where(np.isnan(r["break_even_acos"]), r["target_acos"], r["break_even_acos"])
        r["measured_profit_delta"] = r["measured_sales_delta"] * allowance - r["measured_spend_delta"]
    r["measured"] = (
        (r["days_since_change"] >= settings.measure_days) & np.isfinite(r["change_pct_last"])
        & (c0 * settings.measure_days >= settings.min_clicks_for_no_order_cut) & np.isfinite(r["measured_spend_delta"])
        & np.isfinite(r["measured_sales_delta"])
    )
    r["change_paid"] = r["measured"] & (r["measured_profit_delta"] >= 0)


def _marginal_factor(change, ratio, settings) -> np.ndarray:
    """Cost of the next click ÷ the average CPC: 1 + (CPC elasticity ÷ click elasticity) to the bid.

    Estimated, pooled over the profile's bid changes (each a natural experiment), as the instrumental-variable
    slope of log spend on log clicks with the log bid change as instrument: Σ w·Δs·Δb ÷ Σ w·Δc·Δb, w = the
    smaller click count, each change needing ≥ 3 days after it. Before there is enough evidence it is 1 ÷ CPC
    ratio (a second-price auction: the last click costs about the bid), blended in with
    `marginal_prior_changes` pseudo-changes. At least 1."""
    prior = 1.0 / ratio
    b0, b1 = change["change_bid_before"], change["change_bid_after"]
    c0, c1 = change["before_clicks_per_day"], change["after_clicks_per_day"]
    s0, s1 = change["before_cost_per_day"], change["after_cost_per_day"]
    with np.errstate(divide="ignore", invalid="ignore"):
        db, dc, ds = np.log(b1 / b0), np.log(c1 / c0), np.log(s1 / s0)
        weight = np.minimum(c0, c1) * np.minimum(change["days_since_change"], 14.0)
    use = np.isfinite(db) & np.isfinite(dc) & np.isfinite(ds) & (np.abs(db) > 0.02) & (weight > 0) & (
        change["days_since_change"] >= 3)
    if use.sum() < 3:
        return prior
    w, db, dc, ds = weight[use], db[use], dc[use], ds[use]
    num, den = float((w * ds * db).sum()), float((w * dc * db).sum())
    if den <= 0:  # clicks did not follow the bid: no evidence about the slope
        return prior
    per_change = den / use.sum()
    strength = settings.marginal_prior_changes * per_change
    pooled = (num + strength * float(np.median(prior))) / (den + strength)
    return np.full_like(prior, max(pooled, 1.0))


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


def _objective(targets, settings, campaign_objective) -> np.ndarray:
    """Each row's objective: its campaign's own where set, else the seller's."""
    if not campaign_objective:
        return np.full(len(targets), settings.objective, dtype=object)
    for campaign, chosen in campaign_objective.items():
        if chosen not in OBJECTIVES:
            raise ValueError(f"The objective of campaign {campaign} must be one of {', '.join(OBJECTIVES)}.")
    return targets["campaign_id"].map(campaign_objective).fillna(settings.objective).to_numpy(object)


class _Columns:
    """Typed access to input columns, with defaults for the optional ones."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame

    def __contains__(self, name) -> bool:
        return name in self._frame

    def num(self, name, default=None, at=None) -> np.ndarray:
        """The column as floats (the rows `at` only, if given); `default` where the frame has no such column."""
        if name not in self._frame and default is not None:
            return np.full(len(self._frame) if at is None else at.size, default, dtype=float)
        values = self._frame[name].to_numpy(dtype=float, na_value=np.nan)
        return values if at is None else values[at]

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
    *("bid_increment", "last_change_date", "unit_cost", "fees", "history_clicks", "history_orders"),
    *("history_sales", "bid_clicks", "control_clicks", "control_cost", "control_sales", "budget_days"),
    *("budget_capped_days", "campaign_budget", "campaign_spend", "bid_before", "bid_after"),
    *(f"{w}_{m}" for w in ("before", "after") for m in ("days", "clicks", "cost", "orders", "sales")),
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
    "evidence_clicks",
    "evidence_orders",
    "prior_alpha",
    "prior_beta",
    "cvr",
    "cvr_low",
    "cvr_high",
    "aov",
    "target_acos",
    "cpc_ratio",
    "break_even_acos",
    "value_per_click",
    "ideal_bid",
    "break_even_cvr",
    "expected_spend_delta_per_day",
    "expected_sales_delta_per_day",
    "objective",
    "budget_bound",
    "campaign_budget",
    "campaign_spend",
    "marginal_factor",
    "last_change_date",
    "change_pct_last",
    "measured",
    "change_paid",
    "measured_clicks_pct",
    "measured_cpc_pct",
    "measured_spend_delta",
    "measured_sales_delta",
    "measured_marginal_acos",
    "measured_profit_delta",
]


def _frame(r, include_holds: bool, passthrough: list[str]) -> pd.DataFrame:
    keep = slice(None) if include_holds else r["direction"] != "hold"
    r["inherited_bid"] = r["inherited_bid"] & (r["direction"] != "hold")
    r["suggested_bid"] = _money_text(r["ticks"] * r["increment"], r["decimals"], r["direction"] == "hold")
    r["reason"] = pd.Categorical.from_codes(r["reason"], categories=[x.value for x in REASONS])
    for name in ("clicks", "orders", "impressions", "evidence_clicks", "evidence_orders"):
        r[name] = r[name].astype(np.int64)
    return pd.DataFrame({name: r[name][keep] for name in _OUTPUT + passthrough})


def _money_text(amount, decimals, missing):
    """Exact decimal strings ("0.90", "120") for Decimal(...): the caller's money never passes through a float."""
    out = decimal_text(amount, decimals)
    out[missing] = None
    return out
