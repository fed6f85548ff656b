"""The next promotion per ASIN: type, depth and dates with the money behind them, or why none.

Candidates per ASIN: coupons (percent off each depth of the grid, and the same depths as whole-currency amounts
off) and the deal types the seller ran in the last 12 months, each in its next free window. For each:

    Q₀      baseline units over the window: the weekday-adjusted level of the last `baseline_days` clean days
            (looked for over `baseline_search_days`: an ASIN on promotion most weeks keeps the level it had
            before) × the window's weekday factors (a Lightning Deal covers `lightning_hours` of its day)
    d_eff   the discount the average buyer gets: a coupon's × `redemption_share` (only some buyers clip it),
            a deal's in full
    lift    exp(ε·x + κ·x²) − 1, x = ln(1 − d_eff), ε the ASIN's elasticity, κ ≤ 0 the demand curve's bend (0: a
            constant elasticity; `elasticity.lift`); its interval from ε ± z·`elasticity_sd`
    units   Q₀·lift × (1 − p): some of the extra units are sales pulled from the weeks after or taken from
            sibling ASINs; p is learned from `measured` (the seller's past promotions, in every marketplace:
            `measured_elsewhere`): the dip's share fitted over those whose dip was watched `pull_forward_post_days`,
            each weighted by its own noise and corrected for the gross's (`_share_fit`), from the prior
            `pull_forward` ± `pull_forward_sd`, or where the agency's other sellers' own fits are given (`peers`,
            `dip_fit`), from the share they show ± `pull_forward_between_sd` (`_dip_prior`); a dip read over
            part of its `dip_days` counts for that part; plus, for an ASIN with siblings, the siblings' share
            fitted the same way over the promotions of ASINs with siblings (in every marketplace: the families
            are the same products), from 0; each with its standard error
    profit  Q₁·m̄ − Q₀·m₀ − Q₀·lift × (dip share × m₀ + siblings' share × the siblings' m₀) − fee, m̄ the
            per-unit margin blended over clippers (m₁) and the rest (m₀), a sibling's unit worth its own margin
            (`_sibling_margin`), the fee Amazon's (`economics.promotion_fee`) for that type and window; its
            lower bound from the elasticity's interval, the baseline's noise (the ASIN's own downside) and p's
            error, in quadrature
    L*      (m₀·Q₀ + F) / (m̄′·Q₀), F the fixed fee, m̄′ the blended margin after the variable fee

Stock: where the ASIN's inventory history shows how it is restocked (`restock.restock_model`: lead time, reorder
level, order size, today's open shipment, the pace stock leaves at), its stock is run forward (`restock.stock_path`)
in whole units (each day's sales rounded up, the history's drain taken as it is) at the baseline pace, running or
planned promotions (`busy`, at their own depth where given) and the candidate's window at the interval's upper lift.
From the candidate's start to `horizon_days` + `cover_after_days` after today it must keep a day's sales without the
promotion (a cycle that runs closer to empty than that can't tell a moved reorder from a stock-out), its reorder
level must cover the lead time's sales and a day's more (the low lies a day's sales lower if the order falls a day
later, wherever the run-forward places it), and with the promotion stay above `safety_days` of baseline units, or,
where the restocks leave less anyway, above that low less a day's sales, and never below a day's sales: a promotion
that only moves the reorder earlier is fine, one that sells while a shipment is on its way must leave what the wait
needs. Without such a history the restocks are unknown: an ASIN out of stock on any of the last `restock_days` is
skipped (its restocks do not keep up with its demand as it is, and a promotion would bring the next stock-out sooner
and make it longer), and the stock on hand must cover the promotion and `cover_after_days` more, as if nothing
arrived.

Rules, in order (a candidate failing one is dropped; an ASIN without a candidate left is skipped with the rule its
best candidate failed): a coupon's depth within `coupon_min_pct`–`coupon_max_pct`; the net price below the Was
Price (≈ the median price paid over `was_price_days`); a margin after the discount of at least `min_margin_after`
of the net price; a free window within `horizon_days` after the type's lead time (no overlap with `busy`; and where
the seller's dips are plainly there, the dip share's interval above 0, none within `dip_days` after the end of the
ASIN's last promotion: a promotion inside a dip lifts demand the dip has thinned, and its own dip thins the next
one's); the stock rule above, its first two parts (the restocks by themselves) named apart (`SKIP_RESTOCKS`: the
seller's reorder level, not the promotion, is what to change); a positive expected profit and a positive
risk-adjusted profit, profit − `risk_aversion` × its own downside (the elasticity's and the baseline's, to the
interval's low end) − `shared_risk_aversion` × the downside of p's error. The two differ because the ASIN's own
errors average out over the many proposals of a seller while p is one number for all of them: a p read too low
makes every proposal lose at once (the quality bench's pull-forward seeds), so the defaults weigh p's downside
(0.75) and not the ASIN's own (0); at 1 both, a proposal makes money at the pessimistic end of its interval. Of
what passes, the highest risk-adjusted profit wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np
import pandas as pd

from marketing.optimize.promotions.economics import (
    AMOUNT,
    BEST_DEAL,
    COUPON,
    LIGHTNING_DEAL,
    PERCENT,
    PRIOR_ELASTICITY,
    Fee,
    break_even_lift,
    fixed_fee,
    promotion_fee,
    unit_margin,
)
from marketing.optimize.promotions.elasticity import lift as demand_lift
from marketing.optimize.promotions.panel import baseline, build_panel, gather, row_medians, to_days, weekday_of
from marketing.optimize.promotions.restock import restock_model, stock_path

DEAL_TYPES = (LIGHTNING_DEAL, BEST_DEAL)

# Days between today and the earliest start Amazon accepts: a coupon can start tomorrow; deals are submitted
# weeks ahead (Seller Central schedules them at least two weeks out).
LEAD_DAYS = {COUPON: 1, LIGHTNING_DEAL: 14, BEST_DEAL: 14}
# A week-long coupon needs half the stock of a fortnight's and can be proposed again the next week.
DURATION_DAYS = {COUPON: 7, LIGHTNING_DEAL: 1, BEST_DEAL: 7}

SKIP_UNIT_COST = "enter unit cost"
SKIP_NO_PRICE = "no price (enter one or wait for sales)"
SKIP_NO_SALES = "no sales in the baseline"
SKIP_NO_FEES = "no promotion fees for this marketplace"
SKIP_RAN_OUT = "ran out of stock recently"
# a restocked ASIN whose cycle, with no new promotion (those running or planned count), comes within a day's sales of
# empty: a higher reorder level would keep it from running out, and let it be promoted
SKIP_RESTOCKS = "restocks leave it nearly out already (reorder earlier)"
# The rules a candidate can fail, in the order they are checked (the last one is the best an ASIN got to).
RULES = ("coupon discount outside Amazon's range", "net price not below the Was Price",
         "margin after the discount too thin", "no free window", SKIP_RESTOCKS, "stock would run out",
         "no profitable depth")


@dataclass(frozen=True)
class PromotionSettings:
    """Defaults the product may override from its settings; fractions, not percents."""

    coupon_min_pct: float = 0.05  # Amazon's coupon range since March 2024 (guide §4.1)
    coupon_max_pct: float = 0.50
    min_margin_after: float = 0.05  # profit per unit after the discount, as a fraction of the net price
    horizon_days: int = 56  # a proposal must end within this many days of today
    lead_days: Mapping[str, int] = field(default_factory=lambda: dict(LEAD_DAYS))
    duration_days: Mapping[str, int] = field(default_factory=lambda: dict(DURATION_DAYS))
    lightning_hours: float = 6.0  # a Lightning Deal runs 4–12 h: the share of its day's demand it sees
    baseline_days: int = 28
    # days back the baseline's clean days are looked for: the proposals of the weeks before fill most recent days,
    # and an ASIN promoted week after week would otherwise lose its baseline and be skipped as if it had no history
    baseline_search_days: int = 112
    depths: tuple[float, ...] = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50)  # to the coupon cap
    cover_after_days: float = 28.0  # stock left at the end must cover this many baseline days (FBA restock time)
    amount_off: bool = True  # also try each coupon depth as a whole-currency amount off
    redemption_share: float = 0.5  # share of a coupon's buyers who clip it
    pull_forward: float = 0.2  # share of the extra units that are later sales pulled forward, before `measured`
    pull_forward_sd: float = 0.2  # how far the shares taken back may be from their priors, before `measured`
    pull_forward_post_days: int = 21  # clean days after a promotion before its dip counts toward the share
    dip_days: int = 28  # days after a promotion its dip lasts (as `measure` reads it)
    # how far one seller's dip share may be from its agency's other sellers' (`peers`): buyers stock up alike
    pull_forward_between_sd: float = 0.05
    # an ASIN out of stock on one of these last days has restocks that do not keep up with its demand as it is:
    # a promotion would only bring its next stock-out sooner and make it longer
    restock_days: int = 60
    # stock the run-forward of a restocked ASIN must keep, in baseline days: the baseline and the lead time are
    # estimates, and the upper lift is not the highest
    safety_days: float = 3.0
    elasticity_sd: float = 1.0  # uncertainty of an ASIN's elasticity where the caller gives none
    level: float = 0.9  # the interval
    # weights of the interval's downside in the score: the ASIN's own (elasticity, baseline), which averages out over
    # a seller's proposals, and that of the share taken back, which all of them share (see the module)
    risk_aversion: float = 0.0
    shared_risk_aversion: float = 0.75
    budget_pull_share: float = 0.8  # Amazon pulls a coupon when this share of its budget is used
    was_price_days: int = 90
    currency_symbol: str = "$"

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and not math.isfinite(value):
                raise ValueError(f"{f.name.replace('_', ' ').capitalize()} must be a finite number.")
        _require(0 < self.coupon_min_pct <= self.coupon_max_pct < 1, "Coupon range must be 0 < min ≤ max < 100%.")
        _require(0 <= self.min_margin_after < 1, "The minimum margin after the discount must be 0–100%.")
        _require(self.horizon_days > 0 and self.baseline_days > 1 and self.was_price_days > 0
                 and self.baseline_search_days >= self.baseline_days, "Day counts must be positive (the baseline's "
                 "search at least its days).")
        _require(all(0 < d < 1 for d in self.depths) and len(self.depths) > 0, "Depths must be between 0 and 100%.")
        _require(0 < self.redemption_share <= 1, "The redemption share must be between 0 and 100%.")
        _require(0 <= self.pull_forward < 1 and 0 <= self.risk_aversion <= 1 and 0 <= self.shared_risk_aversion <= 1,
                 "Shares must be 0–100%.")
        _require(self.restock_days >= 0 and self.safety_days >= 0 and self.dip_days >= 0,
                 "Day counts can't be negative.")
        _require(self.pull_forward_sd >= 0 and self.pull_forward_post_days >= 0 and self.pull_forward_between_sd >= 0,
                 "The spread and days of the pull-forward setting can't be negative.")
        _require(0 < self.level < 1 and self.elasticity_sd >= 0, "The interval level must be between 0 and 100%.")
        _require(0 < self.budget_pull_share <= 1 and 0 < self.lightning_hours <= 24, "Out-of-range setting.")
        _require(self.cover_after_days >= 0, "Days of cover after a promotion can't be negative.")
        _require(all(v >= 0 for v in self.lead_days.values()) and all(v > 0 for v in self.duration_days.values()),
                 "Lead times can't be negative and durations must be positive.")


@dataclass(frozen=True)
class Proposal:
    """One suggested promotion. Lifts are fractions of the baseline units (0.4 = +40 %): expected_lift before the
    pull-forward allowance, break_even_lift = L* − 1. Units and profit are incremental over the window."""

    asin: str
    type: str
    discount_type: str
    discount: float  # fraction for PERCENT_OFF_LIST_PRICE, money for AMOUNT_OFF_LIST_PRICE
    start: date
    end: date  # inclusive
    budget: float | None
    price: float
    was_price: float
    net_price: float
    margin_before: float
    margin_after: float
    baseline_units: float  # per day
    expected_lift: float
    break_even_lift: float
    expected_units: float
    units_lo: float
    units_hi: float
    expected_profit: float
    profit_lo: float
    profit_hi: float
    fee: float
    cover_days: float | None
    elasticity: float
    explanation: str
    inputs: dict


@dataclass(frozen=True)
class Skip:
    """Why an ASIN got no proposal. A `SKIP_RESTOCKS` skip says what to change (`_reorder_hints`): restock holds the
    ASIN's learned lead_days, reorder_units and daily_units (the pace its stock leaves at) and reorder_at, the level
    whose shipment lands with `safety_days` of sales left, where that is over a day's sales above today's."""

    asin: str
    reason: str
    restock: dict | None = None


def suggest(daily: pd.DataFrame, economics: pd.DataFrame, *, inventory: pd.Series, busy: pd.DataFrame,
            fees: Mapping[str, Fee], elasticity: pd.Series, today: date, deal_types=frozenset(),
            settings: PromotionSettings | None = None, promotions: pd.DataFrame | None = None,
            measured: pd.DataFrame | None = None, inventory_history: pd.DataFrame | None = None,
            measured_elsewhere: pd.DataFrame | None = None, peers: Sequence[tuple[float, float]] = ()
            ) -> tuple[list[Proposal], list[Skip]]:
    """A proposal or a skip for every ASIN of `economics`.

    daily, economics: as for `measure`. inventory: asin → sellable units (NaN: unknown, not checked).
    busy: asin, start, end of running or planned promotions and plans (no overlap; their days leave the baseline).
    fees: PromotionType value → the Fee in force on the start date (a type without one is not proposed).
    elasticity: asin → elasticity (missing → the prior), or `elasticities(…, with_sd=True)`'s frame, whose sd
    replaces `settings.elasticity_sd` for the interval. deal_types: the deal types the seller ran in the last
    12 months (coupons are always allowed). promotions (optional): asin, start, end of past promotions, whose
    days the baseline leaves out too. measured (optional): `measure`'s rows for those promotions, from which the
    share of extra units later lost to a dip or taken from siblings is learned. inventory_history (optional):
    asin, date, fulfillable, inbound per day (the FBA inventory summaries), from which each ASIN's restocks are
    learned (`restock.restock_model`); `inventory` stays today's sellable units. measured_elsewhere (optional):
    `measure`'s rows of the seller's other marketplaces: how much of a promotion's extra units a dip takes back is
    how the seller's buyers stock up, so its share is learned over those too (a marketplace's dozen promotions pin
    it down only loosely). peers (optional): the agency's other sellers' `dip_fit`s (share, variance), from which
    that share starts."""
    settings = settings or PromotionSettings()
    if economics is None or economics.empty:
        return [], []
    econ = economics.assign(asin=economics["asin"].astype(str)).drop_duplicates("asin").reset_index(drop=True)
    asins = econ["asin"].to_numpy()
    today_day = int(to_days([today])[0])
    raw_busy, busy = busy, _intervals(busy)
    excluded = pd.concat([busy, _intervals(promotions)], ignore_index=True)
    panel = build_panel(daily if daily is not None else pd.DataFrame(columns=["asin", "date", "units", "sales"]),
                        excluded["asin"], excluded["start"].to_numpy(), excluded["end"].to_numpy())
    rows = panel.rows(asins) if len(panel.asins) else np.full(len(asins), -1)
    base = baseline(panel, rows, np.full(len(asins), today_day), days=settings.baseline_days,
                    search=settings.baseline_search_days)
    was = _was_price(panel, rows, today_day, settings.was_price_days)
    number = {c: pd.to_numeric(econ[c], errors="coerce").to_numpy(dtype=float) if c in econ else
              np.full(len(asins), np.nan) for c in ("price", "unit_cost", "referral_pct", "fba_fee")}
    price = np.where(number["price"] > 0, number["price"], was)
    cost = number["unit_cost"]
    stock = pd.to_numeric(pd.Series(inventory, dtype=float), errors="coerce") if inventory is not None else None
    stock = stock.groupby(stock.index.astype(str)).first().reindex(asins).to_numpy(dtype=float) if stock is not None \
        else np.full(len(asins), np.nan)
    eps, eps_sd, bend = _elasticity(elasticity, asins, settings.elasticity_sd)
    restocks = restock_model(inventory_history).reindex(asins)
    modelled = (restocks["shipments"].fillna(0).to_numpy() >= 1) & np.isfinite(stock)
    types = [t for t in (COUPON, *DEAL_TYPES) if (t == COUPON or t in set(deal_types)) and t in fees]

    skip = np.select(
        [~(cost >= 0), ~(price > 0), base.days < settings.baseline_days, ~(base.level > 0), np.full(len(asins),
                                                                                                    not types),
         ~modelled & (_out_days(panel, rows, today_day, settings.restock_days) > 0)],
        [SKIP_UNIT_COST, SKIP_NO_PRICE,
         pd.Series(base.days).map(lambda n: f"too little clean sales history ({n} of {settings.baseline_days} "
                                            "days)").to_numpy(), SKIP_NO_SALES, SKIP_NO_FEES, SKIP_RAN_OUT], "")
    live = np.flatnonzero(skip == "")
    skips = [Skip(str(asins[i]), str(skip[i])) for i in np.flatnonzero(skip != "")]
    if not len(live):
        return [], skips

    c = _candidates(live, types, price, settings)
    i, t, n = c["i"].to_numpy(), c["t"].to_numpy(), c["days"].to_numpy()
    kinds = np.asarray(types, dtype=object)[t]
    family = pd.Series(panel.parent, index=panel.asins)
    has_siblings = (family >= 0) & family.map(family.value_counts()).gt(1)
    dip_prior = _dip_prior(peers, settings)
    (dip_share, dip_se), (sibling_share, sibling_se) = _pull_forward(measured, settings, has_siblings,
                                                                     measured_elsewhere, dip_prior)
    z = NormalDist().inv_cdf(0.5 + settings.level / 2)
    # where the seller's dips are plainly there, a promotion waits out the last one's dip: starting inside it, its
    # lift meets demand the dip has thinned, and its own dip thins the next
    spaced = busy
    if dip_share - z * dip_se > 0:
        recent = excluded[excluded["end"] >= today_day - settings.dip_days]
        spaced = recent.assign(end=recent["end"] + settings.dip_days)
    start = _free_start(c, asins, spaced, today_day, settings)
    demand_share = np.where(kinds == LIGHTNING_DEAL, settings.lightning_hours / 24, 1.0)
    factor_sum, factor2_sum = _window_factors(panel, rows[i], np.where(start >= 0, start, today_day), n)
    q0 = base.level[i] * factor_sum * demand_share
    share = np.where(kinds == COUPON, settings.redemption_share, 1.0)
    d = c["fraction"].to_numpy()
    d_eff = d * share
    e = eps[i]
    lift = demand_lift(d_eff, e, bend)
    lift_lo = demand_lift(d_eff, np.minimum(e + z * eps_sd[i], 0), bend)
    lift_hi = demand_lift(d_eff, e - z * eps_sd[i], bend)
    m_all = unit_margin(price, cost, number["referral_pct"], number["fba_fee"])  # per ASIN, before any discount
    m0 = m_all[i]
    m1 = unit_margin(price[i], cost[i], number["referral_pct"][i], number["fba_fee"][i], d)
    net = price[i] * (1 - d)
    with_siblings = has_siblings.reindex(asins[i]).fillna(False).to_numpy(dtype=bool)
    taken = dip_share + with_siblings * sibling_share
    pull_forward = np.minimum(taken, 0.9)
    pull_forward_se = np.hypot(dip_se, with_siblings * sibling_se)
    keep = 1 - pull_forward
    # what the units taken back were worth: a dip's at the ASIN's own margin, the siblings' at theirs
    m_sib = _sibling_margin(family, asins, m_all, base.level)[i]
    m_sib = np.where(np.isfinite(m_sib), m_sib, m0)
    with np.errstate(invalid="ignore", divide="ignore"):
        capped = np.where(pull_forward > 0, pull_forward / taken, 1.0)
    taken_margin = capped * (dip_share * m0 + with_siblings * sibling_share * m_sib)

    fee_table = {t: fees[t] for t in types}

    def money(units_lift):
        q1 = q0 * (1 + units_lift)
        redemptions = share * q1
        fee = _fees(fee_table, kinds, n, redemptions * net, redemptions)
        profit = q1 * (share * m1 + (1 - share) * m0) - q0 * m0 - q0 * units_lift * taken_margin - fee
        return profit, fee, redemptions

    profit, fee, redemptions = money(lift)
    profit_lo_el, _, _ = money(lift_lo)
    profit_hi_el, fee_hi, redemptions_hi = money(lift_hi)
    # the baseline's own noise, in quadrature with the elasticity's
    base_sd = base.spread[i] * np.sqrt(factor2_sum * demand_share ** 2 + (factor_sum * demand_share) ** 2
                                       / base.days[i])
    fixed = _fixed_fees(fee_table, kinds, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_baseline_unit = np.where(q0 > 0, (profit + fixed) / q0, 0.0)
    units = q0 * lift * keep
    units_lo = units - np.hypot(units - q0 * lift_lo * keep, z * base_sd * np.abs(lift) * keep)
    units_hi = units + np.hypot(q0 * lift_hi * keep - units, z * base_sd * np.abs(lift) * keep)
    # a larger share taken back costs the units it takes at what they were worth (a dip's at m₀, siblings' at theirs)
    pull_sd = z * q0 * np.abs(lift) * np.hypot(dip_se * m0, with_siblings * sibling_se * m_sib)
    own_sd = np.hypot(profit - profit_lo_el, z * base_sd * per_baseline_unit)
    profit_lo = profit - np.hypot(own_sd, pull_sd)
    profit_hi = profit + np.hypot(profit_hi_el - profit, z * base_sd * np.abs(per_baseline_unit))
    # the ASIN's own errors average out over many proposals; the share taken back is one number for all of them
    score = profit - settings.risk_aversion * own_sd - settings.shared_risk_aversion * pull_sd
    variable = np.array([fees[kind].variable_pct for kind in types])[t]
    per_redemption = np.array([fees[kind].per_redemption for kind in types])[t]
    m_be = share * (m1 - variable * net - per_redemption) + (1 - share) * m0
    be = break_even_lift(m0, m_be, q0, fixed) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        margin_share = m1 / net

    in_range = (kinds != COUPON) | ((d >= settings.coupon_min_pct - 1e-9) & (d <= settings.coupon_max_pct + 1e-9))
    earlier = [~in_range, ~(net < was[i]), ~(margin_share >= settings.min_margin_after - 1e-9), start < 0]
    # the stock rule, only where stock is known and the earlier rules pass (it runs the stock forward)
    check = np.flatnonzero(~np.logical_or.reduce(earlier) & np.isfinite(stock[i]))
    low, cycle, short = np.full(len(i), np.nan), np.zeros(len(i), dtype=bool), np.zeros(len(i), dtype=bool)
    if len(check):
        pace = _busy_pace(raw_busy, asins, eps, eps_sd, bend, z, today_day, settings)
        low[check], cycle[check], short[check] = _stock_check(
            panel, rows, i[check], start[check], n[check], lift_hi[check], demand_share[check], base.level, stock,
            restocks, modelled, pace, today_day, settings)
    failed = np.select(
        [*earlier, cycle, short, ~((profit > 0) & (score > 0))],
        np.arange(len(RULES)), len(RULES))
    amount_off = c["amount_off"].to_numpy()
    order = np.lexsort((d, amount_off, -np.where(failed == len(RULES), score, -np.inf), i))
    _, first_of = np.unique(i[order], return_index=True)
    best = order[first_of]
    chosen = best[failed[best] == len(RULES)]
    furthest = np.full(len(asins), -1)
    np.maximum.at(furthest, i, failed)
    hints = _reorder_hints(restocks, base.level, modelled, settings)
    skips += [Skip(str(asins[a]), RULES[furthest[a]], hints(a) if RULES[furthest[a]] == SKIP_RESTOCKS else None)
              for a in np.unique(i) if furthest[a] < len(RULES)]

    proposals = []
    for k in chosen:
        a = i[k]
        kind, fraction = kinds[k], float(d[k])
        first = date.fromordinal(date(1970, 1, 1).toordinal() + int(start[k]))
        last = first + timedelta(days=int(n[k]) - 1)
        budget = None
        if kind == COUPON:
            spend = redemptions_hi[k] * price[a] * fraction + fee_hi[k]
            budget = float(math.ceil(spend / settings.budget_pull_share))
        values = {
            "asin": str(asins[a]), "type": kind, "discount_type": AMOUNT if amount_off[k] else PERCENT,
            "discount": float(c["amount"].iat[k]) if amount_off[k] else round(fraction, 4),
            "start": first, "end": last, "budget": budget, "price": float(price[a]), "was_price": float(was[a]),
            "net_price": float(net[k]), "margin_before": float(m0[k]), "margin_after": float(m1[k]),
            "baseline_units": float(q0[k] / (n[k] * demand_share[k])), "expected_lift": float(lift[k]),
            "break_even_lift": float(be[k]), "expected_units": float(units[k]), "units_lo": float(units_lo[k]),
            "units_hi": float(units_hi[k]), "expected_profit": float(profit[k]), "profit_lo": float(profit_lo[k]),
            "profit_hi": float(profit_hi[k]), "fee": float(fee[k]),
            "cover_days": float(stock[a] / base.level[a]) if np.isfinite(stock[a]) else None,
            "elasticity": float(e[k]),
        }
        inputs = {
            "today": today.isoformat(), "baseline_days": int(base.days[a]), "baseline_level": float(base.level[a]),
            "baseline_spread": float(base.spread[a]), "window_baseline_units": float(q0[k]),
            "unit_cost": float(cost[a]), "referral_pct": _json(number["referral_pct"][a]),
            "fba_fee": _json(number["fba_fee"][a]), "inventory": _json(stock[a]),
            "redemption_share": float(share[k]), "effective_discount": float(d_eff[k]),
            "pull_forward": float(pull_forward[k]), "pull_forward_se": float(pull_forward_se[k]),
            "dip_prior": [float(dip_prior[0]), float(dip_prior[1])], "peers": len(peers),
            "elasticity_sd": float(eps_sd[a]), "curvature": bend,
            "restock": {c: _json(restocks[c].iat[a]) for c in ("lead_days", "reorder_units", "order_units")}
            if modelled[a] else None, "lowest_stock": _json(low[k]),
            "lead_days": int(settings.lead_days.get(kind, 0)), "fee_schedule": asdict(fee_table[kind]),
            "risk_adjusted_profit": float(score[k]), "level": settings.level,
        }
        values["explanation"] = _sentence(values, inputs, settings.currency_symbol)
        proposals.append(Proposal(**values, inputs=inputs))
    return proposals, skips


def _leaving(level: np.ndarray, restocks: pd.DataFrame, modelled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per ASIN, its history's drain (NaN where its restocks are unknown) and the pace its stock leaves at: its sales
    or that drain, the faster (stock can leave faster than Sales & Traffic's units)."""
    drain = np.where(modelled, restocks["drain_units"].to_numpy(dtype=float), np.nan)
    return drain, np.fmax(level, drain)


def _reorder_hints(restocks: pd.DataFrame, level: np.ndarray, modelled: np.ndarray, settings: PromotionSettings):
    """What a `SKIP_RESTOCKS` ASIN's seller can change, per ASIN index: the reorder level whose shipment lands with
    `safety_days` of sales left at the pace the stock leaves at (`_leaving`), which clears both restock rules and
    leaves a promotion room; None where today's level is within a day's sales of that already (the level is read to
    a day's sales: the order shows on the first day below it), so running or planned promotions, not the level, run
    it low."""
    lead, reorder = restocks["lead_days"].to_numpy(dtype=float), restocks["reorder_units"].to_numpy(dtype=float)
    # rounded: the level's float noise (10.000000000000002 a day) would cost a whole unit
    daily = np.round(_leaving(level, restocks, modelled)[1], 3)
    reorder_at = np.ceil((lead + settings.safety_days) * daily)

    def hint(a: int) -> dict | None:
        if not (reorder_at[a] > reorder[a] + daily[a]):
            return None
        return {"lead_days": float(lead[a]), "reorder_units": float(reorder[a]), "daily_units": float(daily[a]),
                "reorder_at": float(reorder_at[a])}
    return hint


def _sibling_margin(family: pd.Series, asins: np.ndarray, margin: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per ASIN, the unit margin of its siblings (same parent), weighted by their baseline levels: what a unit they
    lose to its promotion was worth; NaN for an ASIN without a sibling whose margin and level are known."""
    parent = family.reindex(asins).fillna(-1).to_numpy(dtype=np.int64)
    weight = np.where(np.isfinite(margin) & np.isfinite(level) & (level > 0) & (parent >= 0), level, 0.0)
    worth = np.where(weight > 0, weight * margin, 0.0)
    total_weight = pd.Series(weight).groupby(parent).transform("sum").to_numpy()
    total_worth = pd.Series(worth).groupby(parent).transform("sum").to_numpy()
    others = total_weight - weight
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((parent >= 0) & (others > 0), (total_worth - worth) / others, np.nan)


def _elasticity(elasticity, asins: np.ndarray, default_sd: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Each ASIN's elasticity (missing → the prior) and its standard deviation (missing → `default_sd`), from a
    Series or from `elasticities(…, with_sd=True)`'s frame."""
    if isinstance(elasticity, pd.DataFrame):
        frame = elasticity
    else:
        frame = pd.DataFrame({"elasticity": pd.Series(elasticity, dtype=float) if elasticity is not None
                              else pd.Series(dtype=float)})
    bends = pd.to_numeric(frame["curvature"], errors="coerce").dropna() if "curvature" in frame else ()
    frame = frame.groupby(frame.index.astype(str)).first().reindex(asins)
    eps = pd.to_numeric(frame["elasticity"], errors="coerce").to_numpy(dtype=float)
    sd = (pd.to_numeric(frame["sd"], errors="coerce").to_numpy(dtype=float) if "sd" in frame
          else np.full(len(asins), np.nan))
    return (np.where(np.isfinite(eps), eps, PRIOR_ELASTICITY), np.where(np.isfinite(sd) & (sd >= 0), sd, default_sd),
            float(bends.iloc[0]) if len(bends) else 0.0)


def _fixed_fees(fee_table: Mapping[str, Fee], kinds: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The fixed part of each candidate's fee (its type's schedule)."""
    out = np.zeros(len(kinds))
    for kind, fee in fee_table.items():
        mask = kinds == kind
        out[mask] = fixed_fee(fee, days[mask])
    return out


def _fees(fee_table, kinds, days, sales, redemptions) -> np.ndarray:
    """Each candidate's whole fee under its type's schedule."""
    out = np.zeros(len(kinds))
    for kind, fee in fee_table.items():
        mask = kinds == kind
        out[mask] = promotion_fee(fee, days=days[mask], sales=sales[mask], redemptions=redemptions[mask])
    return out


def _candidates(live: np.ndarray, types: list[str], price: np.ndarray, settings: PromotionSettings) -> pd.DataFrame:
    """One row per (ASIN, type, discount): percent depths for every type, amounts off for coupons. `t` is the
    type's position in `types`."""
    depths = np.asarray(settings.depths, dtype=float)
    i, fraction = np.repeat(live, len(depths)), np.tile(depths, len(live))
    parts = []
    for t, kind in enumerate(types):
        parts.append(pd.DataFrame({"i": i, "t": t, "amount_off": False, "fraction": fraction, "amount": np.nan}))
        if kind == COUPON and settings.amount_off:
            amount = np.maximum(np.round(fraction * price[i]), 1.0)
            parts.append(pd.DataFrame({"i": i, "t": t, "amount_off": True, "fraction": amount / price[i],
                                       "amount": amount}).drop_duplicates(["i", "amount"]))
    c = pd.concat(parts, ignore_index=True)
    c["days"] = np.array([settings.duration_days[kind] for kind in types], dtype=np.int64)[c["t"].to_numpy()]
    c["lead"] = np.array([settings.lead_days[kind] for kind in types], dtype=np.int64)[c["t"].to_numpy()]
    return c


def _free_start(c: pd.DataFrame, asins: np.ndarray, busy: pd.DataFrame, today: int,
                settings: PromotionSettings) -> np.ndarray:
    """The earliest start ≥ today + lead whose window overlaps none of the ASIN's busy intervals and ends within
    the horizon; −1 where there is none. Candidate starts: the earliest day and the day after each busy end."""
    slots = c[["i", "t", "days", "lead"]].drop_duplicates(["i", "t"]).reset_index(drop=True)
    slots["asin"] = asins[slots["i"].to_numpy()]
    slots["earliest"] = today + slots["lead"]
    starts = slots[["i", "t", "asin", "days", "earliest"]].assign(start=slots["earliest"])
    if len(busy):
        after = slots.merge(busy[["asin", "end"]], on="asin")
        after = after.assign(start=after["end"] + 1)[lambda f: f["start"] > f["earliest"]]
        starts = pd.concat([starts, after[starts.columns]], ignore_index=True)
        check = starts.reset_index().merge(busy[["asin", "start", "end"]].rename(
            columns={"start": "busy_start", "end": "busy_end"}), on="asin")
        clash = check.loc[(check["start"] <= check["busy_end"])
                          & (check["start"] + check["days"] - 1 >= check["busy_start"]), "index"]
        starts = starts.drop(index=clash.unique())
    starts = starts[starts["start"] + starts["days"] - 1 <= today + settings.horizon_days]
    first = starts.groupby(["i", "t"])["start"].min()
    key = pd.MultiIndex.from_arrays([c["i"], c["t"]])
    return first.reindex(key).fillna(-1).to_numpy(dtype=np.int64)


def _pull_forward(measured: pd.DataFrame | None, settings: PromotionSettings, has_siblings: pd.Series,
                  elsewhere: pd.DataFrame | None, dip_prior: tuple[float, float]
                  ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The shares of a promotion's extra units that its dip and (for an ASIN with siblings: `has_siblings`, by ASIN) its
    siblings take back, each with its standard error; the caller adds them per candidate. The dip's share is
    fitted over the seller's measured promotions whose dip was watched for `pull_forward_post_days` clean days (a
    recent one's dip is not over yet), from `dip_prior` (share, sd: `_dip_prior`); the siblings' share only over
    the promotions of ASINs with siblings (an ASIN alone in its family has no sibling to take from, and pooling
    it in would dilute the share of those that have), here and in the seller's other marketplaces (those whose
    siblings `measure` read there), from 0 (each 0–0.9)."""
    siblings = (0.0, settings.pull_forward_sd)
    m = _watched(measured, elsewhere, settings)
    if m is None:
        return dip_prior, siblings
    gross, gross_var = _gross(m)
    dip = _combined(_dip_fit(m, gross, gross_var, settings), dip_prior)
    # the other marketplaces' promotions count where their own siblings were read (their families are not this panel's)
    family = (m["here"] & m["asin"].astype(str).isin(set(has_siblings.index[has_siblings.to_numpy()]))) \
        | (~m["here"] & (_column(m, "cannibalised_sd") > 0))
    fit = _share_fit(gross[family], _column(m, "cannibalised_read", "cannibalised_units")[family],
                     _column(m, "cannibalised_sd")[family] ** 2, pd.Series(0.0, index=gross[family].index),
                     gross_var[family])
    return dip, _combined(fit, siblings)


def dip_fit(measured: pd.DataFrame | None, elsewhere: pd.DataFrame | None = None,
            settings: PromotionSettings | None = None) -> tuple[float, float] | None:
    """The share of a promotion's extra units its dip takes back as the seller's own promotions alone show it (no
    prior), and its variance; None without a promotion whose dip was watched. `suggest` takes other sellers' as
    `peers`: how buyers stock up is much the same across an agency's sellers, and a seller's dozen promotions pin
    it down only loosely."""
    settings = settings or PromotionSettings()
    m = _watched(measured, elsewhere, settings)
    if m is None:
        return None
    return _dip_fit(m, *_gross(m), settings)


def _dip_prior(peers: Sequence[tuple[float, float]], settings: PromotionSettings) -> tuple[float, float]:
    """The dip share a seller's own promotions start from: `settings.pull_forward` ± `pull_forward_sd`, or, with
    other sellers' own fits (`peers`: share, variance), the agency's share those and that prior make, ± its error
    and `pull_forward_between_sd` (how far one seller's buyers may be from the agency's)."""
    prior = (settings.pull_forward, settings.pull_forward_sd)
    known = [(float(share), float(variance)) for share, variance in peers
             if math.isfinite(share) and math.isfinite(variance) and variance > 0]
    if not known or settings.pull_forward_sd <= 0:
        return prior
    precision = sum(1 / v for _, v in known)  # the peers pooled: a fit of their share, then combined as any fit
    share, error = _combined((sum(f / v for f, v in known) / precision, 1 / precision), prior)
    return share, float(np.hypot(error, settings.pull_forward_between_sd))


def _watched(measured: pd.DataFrame | None, elsewhere: pd.DataFrame | None, settings: PromotionSettings
             ) -> pd.DataFrame | None:
    """The measurable rows of `measured` (here) and `elsewhere` (the seller's other marketplaces) whose dip was
    watched for `pull_forward_post_days`; None when there are none to read from."""
    frames = [f.assign(here=here) for f, here in ((measured, True), (elsewhere, False)) if f is not None and len(f)]
    if not frames:
        return None
    m = pd.concat(frames, ignore_index=True)
    m = m[m["measurable"].fillna(False).astype(bool)]
    if "post_days" in m:
        m = m[pd.to_numeric(m["post_days"], errors="coerce").fillna(0) >= settings.pull_forward_post_days]
    return m if len(m) else None


def _column(m: pd.DataFrame, name: str, fallback: str | None = None) -> pd.Series:
    if name in m:
        return pd.to_numeric(m[name], errors="coerce")
    return _column(m, fallback) if fallback else pd.Series(np.nan, index=m.index)


def _gross(m: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each promotion's gross extra units and their noise's variance."""
    return _column(m, "units") - _column(m, "expected_units"), _column(m, "gross_sd").fillna(0.0) ** 2


def _dip_fit(m: pd.DataFrame, gross: pd.Series, gross_var: pd.Series, settings: PromotionSettings
             ) -> tuple[float, float] | None:
    """The dip share's own fit: a dip read over part of its `dip_days` (the rest taken by another promotion or a
    stock-out) holds that part of it, so each promotion's gross counts by the share of the days watched."""
    days = settings.dip_days
    seen = (_column(m, "post_days").fillna(days) / days).clip(0.0, 1.0) if days > 0 else 1.0
    return _share_fit(gross * seen, _column(m, "dip_read", "dip_units"), _column(m, "dip_sd") ** 2,
                      _column(m, "dip_gross_cov").fillna(0.0) * seen, gross_var * seen ** 2)


def _share_fit(gross: pd.Series, taken: pd.Series, variance: pd.Series, covariance: pd.Series,
               gross_var: pd.Series) -> tuple[float, float] | None:
    """The share s of the gross that promotions' dips (or siblings) take back, taken = s × gross + noise, and its
    variance, or None where no promotion says anything: each promotion weighted by 1 / its noise's `variance` (a
    one-day deal's dip over 28 noisy days says little, a fortnight's coupon's much), corrected for the noise of the
    gross itself (`gross_var`, which would pull s toward 0) and for their `covariance` (both read against the same
    level: a level read too high shrinks the gross and swells the dip). Where the noise is unknown every promotion
    weighs the same. The variance is the larger of the model's and the promotions' own scatter around s (a dozen
    noisy dips pin the share down only loosely)."""
    use = gross.notna() & taken.notna() & (gross > 0)
    given = variance.notna().any()
    if given:  # a promotion without noise had no watched day (or sibling) to read from: it says nothing
        use &= variance > 0
    if use.sum() < (1 if given else 2):
        return None
    g, t = gross[use].to_numpy(dtype=float), taken[use].to_numpy(dtype=float)
    # no noise given at all: every promotion weighs the same, and only their scatter sets the error
    v = variance[use].to_numpy(dtype=float) if given else np.full(len(g), float(np.mean(g ** 2)))
    c, vg = covariance[use].to_numpy(dtype=float), gross_var[use].to_numpy(dtype=float)
    plain = float(np.sum(g * g / v))
    info = max(float(np.sum((g * g - vg) / v)), plain / 2)  # the correction never takes more than half
    fit = float(np.sum((g * t - c) / v)) / info
    scatter = float(np.sum((g * (t - fit * g) / v) ** 2)) / info ** 2
    return fit, max(1 / info if given else 0.0, scatter)


def _combined(fit: tuple[float, float] | None, prior: tuple[float, float]) -> tuple[float, float]:
    """A share's fit (share, variance) combined with its prior (share, sd): the share (0–0.9) and its error."""
    prior_share, prior_sd = prior
    if fit is None:
        return prior
    share, variance = fit
    if prior_sd <= 0 or variance <= 0:
        return float(np.clip(prior_share if prior_sd <= 0 else share, 0.0, 0.9)), 0.0
    precision = 1 / variance + 1 / prior_sd ** 2
    return (float(np.clip((share / variance + prior_share / prior_sd ** 2) / precision, 0.0, 0.9)),
            float(np.sqrt(1 / precision)))


def _busy_pace(busy: pd.DataFrame | None, asins: np.ndarray, eps: np.ndarray, eps_sd: np.ndarray, bend: float,
               z: float, today: int, settings: PromotionSettings) -> np.ndarray:
    """(ASIN, day from today) → demand multiplier of running or planned promotions, at their upper lift: a busy
    row's `discount` (fraction of the price; optional, with its `type`) as buyers get it, else the deepest depth (at
    least the coupon cap) in full: a promotion of unknown depth may be that deep; 1 on days without one."""
    days = _stock_days(settings)
    pace = np.ones((len(asins), days))
    if busy is None or busy.empty:
        return pace
    b = busy.dropna(subset=["asin", "start", "end"])
    k = pd.Index(asins).get_indexer(b["asin"].astype(str))
    kind = b["type"].astype(str).to_numpy() if "type" in b else np.full(len(b), "")
    depth = pd.to_numeric(b["discount"], errors="coerce").to_numpy(dtype=float) if "discount" in b \
        else np.full(len(b), np.nan)
    effective = np.where(np.isfinite(depth), depth * np.where(kind == COUPON, settings.redemption_share, 1.0),
                         max(*settings.depths, settings.coupon_max_pct))
    hours = np.where(kind == LIGHTNING_DEAL, settings.lightning_hours / 24, 1.0)
    first, last = to_days(b["start"]) - today, to_days(b["end"]) - today
    for row in np.flatnonzero(k >= 0):
        a = k[row]
        up = float(demand_lift(effective[row], eps[a] - z * eps_sd[a], bend))
        span = slice(int(np.clip(first[row], 0, days)), int(np.clip(last[row] + 1, 0, days)))
        pace[a, span] = np.maximum(pace[a, span], 1 + hours[row] * max(up, 0.0))
    return pace


def _stock_days(settings: PromotionSettings) -> int:
    """Days the stock is run forward: a window ending on the horizon's last day, and the cover after it."""
    return settings.horizon_days + int(math.ceil(settings.cover_after_days)) + 1


def _stock_check(panel, rows, a, start, days, lift_hi, demand_share, level, stock, restocks, modelled, pace,
                 today: int, settings: PromotionSettings, chunk: int = 20_000
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate (ASIN index `a`): the lowest stock `restock.stock_path` expects once it starts, whether the
    ASIN's restocks by themselves run it too low (the first two rules below), and whether the promotion does.
    Demand: the baseline's level × weekday factors, busy days at `pace`, the window at the upper lift (a Lightning
    Deal's only over its hours). A restocked ASIN (`modelled`) is watched to the last day run forward, its stock
    leaving at least at its `drain_units` a day (whole units already) and its sales rounded up to whole units: it
    must keep a day's sales without the promotion, its reorder level must cover `lead_days` + 1 days at that pace,
    and with the promotion it must keep `safety_days` of baseline or, where its restocks leave less anyway, what
    they leave less a day's sales (a reorder moved by the promotion is placed at another point of a day's sales),
    and never less than a day's sales. One whose restocks are unknown gets none and must last to
    `cover_after_days` after the end (its stock only falls: summed, not run day by day)."""
    horizon = _stock_days(settings)
    offset = np.arange(horizon)
    weekday = weekday_of(today + offset)
    r = restocks
    lead, reorder, order = (r[c].to_numpy(dtype=float) for c in ("lead_days", "reorder_units", "order_units"))
    inbound = np.where(modelled, r["inbound"].fillna(0.0).to_numpy(dtype=float), 0.0)
    since = r["inbound_since"].to_numpy(dtype=float)
    arrival = np.where(np.isfinite(since), since + lead - today, lead)  # an inbound of unknown age: a whole lead
    reorder = np.where(modelled, reorder, -np.inf)
    first_day = start - today
    last_day = np.where(modelled[a], horizon, np.minimum(first_day + days + int(math.ceil(settings.cover_after_days)),
                                                         horizon))
    drain, pace_of = _leaving(level, r, modelled)
    factors = panel.factors[:, weekday] if len(panel.asins) else np.ones((1, horizon))

    def path(ak, daily):
        # the shelf loses whole units: a day that asks 1.2 takes 2 as often as 1 (a slow seller's week can run well
        # over its mean), so each day's sales are rounded up; the history's drain is in whole units already
        f = factors[np.maximum(rows[ak], 0)] * daily
        return stock_path(stock[ak], np.fmax(np.ceil(level[ak][:, None] * f), drain[ak][:, None] * f),
                          lead=np.nan_to_num(lead[ak], nan=1.0), reorder=reorder[ak], order=np.nan_to_num(order[ak]),
                          inbound=inbound[ak], arrival=arrival[ak])

    low, low_without = np.full(len(a), np.inf), np.full(len(a), np.inf)
    up = demand_share * (1 + np.maximum(lift_hi, 0)) + 1 - demand_share  # the window's pace
    # restocks unknown: the stock only falls, so its lowest is what the days to the last one leave (no run needed)
    plain = np.flatnonzero(~modelled[a])
    if len(plain):
        ap = a[plain]
        f = factors[np.maximum(rows[ap], 0)]
        cum = np.c_[np.zeros(len(ap)), np.cumsum(f * pace[ap], axis=1)]
        cum_f = np.c_[np.zeros(len(ap)), np.cumsum(f, axis=1)]
        first, end, last = first_day[plain], first_day[plain] + days[plain], last_day[plain]
        at = np.arange(len(ap))
        sold = cum[at, first] + up[plain] * (cum_f[at, end] - cum_f[at, first]) + cum[at, last] - cum[at, end]
        low[plain] = np.maximum(stock[ap] - pace_of[ap] * sold, 0.0)
    run = np.flatnonzero(modelled[a])
    if len(run):
        asins_run = np.unique(a[run])
        without = np.empty((len(stock), horizon + 1))  # each ASIN's stock with no new promotion
        without[asins_run] = path(asins_run, pace[asins_run])
        for lo in range(0, len(run), chunk):
            k = run[lo:lo + chunk]
            ak = a[k]
            window = (offset >= first_day[k][:, None]) & (offset < (first_day[k] + days[k])[:, None])
            daily = np.where(window, up[k][:, None], pace[ak])
            watched = (np.arange(horizon + 1) >= first_day[k][:, None]) \
                & (np.arange(horizon + 1) <= last_day[k][:, None])
            low[k] = np.where(watched, path(ak, daily), np.inf).min(axis=1)
            low_without[k] = np.where(watched, without[ak], np.inf).min(axis=1)
    # a restocked ASIN must keep a day's sales by itself (a cycle that runs closer to empty moves its low by a day's
    # sales either way when a promotion moves the reorder: the run-forward can't tell that from a stock-out), and
    # the promotion must keep its lowest stock above `safety_days` of baseline, or (where the restocks run it lower
    # anyway) at that low less a day's sales, and never below a day's sales
    floor = np.where(modelled[a], np.fmax(np.minimum(settings.safety_days * level[a], low_without - level[a]),
                                          level[a]), 0.0)
    # nor may its cycle run out whatever day the order falls on: the run-forward places it on one day, but the
    # crossing of the reorder level moves by a day's sales with any error in the pace, so the cycle's low may be a
    # day's sales below the one it shows; the reorder level must cover the lead time's sales and one day's more
    worst = reorder[a] - (lead[a] + 1) * pace_of[a]  # NaN for an ASIN without restocks, which the mask leaves out
    return low, modelled[a] & ~((low_without > level[a]) & (worst > 0)), ~(low > floor)


def _out_days(panel, rows: np.ndarray, today: int, days: int) -> np.ndarray:
    """Per ASIN, the days of the last `days` before today its history shows it out of stock."""
    if not len(panel.asins) or days <= 0:
        return np.zeros(len(rows))
    r, col, inside = gather(panel, rows, np.full(len(rows), today - panel.day0 - days), np.full(len(rows), days))
    return (inside & ~np.isnan(panel.units[r, col]) & ~panel.stocked[r, col]).sum(axis=1)


def _window_factors(panel, rows: np.ndarray, start: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ weekday factor and Σ factor² over each window (factor 1 for an ASIN the history lacks)."""
    total, squares = np.zeros(len(rows)), np.zeros(len(rows))
    for k in range(int(days.max()) if len(days) else 0):
        active = k < days
        weekday = weekday_of(start + k)
        f = np.where(rows >= 0, panel.factors[np.maximum(rows, 0), weekday], 1.0) if len(panel.asins) else 1.0
        total += np.where(active, f, 0.0)
        squares += np.where(active, f ** 2, 0.0)
    return total, squares


def _was_price(panel, rows: np.ndarray, today: int, days: int) -> np.ndarray:
    """Median daily price paid over the `days` before today (promotion days included, as Amazon's Was Price)."""
    if not len(panel.asins):
        return np.full(len(rows), np.nan)
    cols = today - panel.day0 - days + np.arange(days)
    inside = (cols >= 0) & (cols < panel.days)
    r, col = np.maximum(rows, 0)[:, None], np.clip(cols, 0, panel.days - 1)[None, :]
    units, sales = panel.units[r, col], panel.sales[r, col]
    with np.errstate(invalid="ignore", divide="ignore"):
        paid = np.where(inside[None, :] & (units > 0) & (rows[:, None] >= 0), sales / units, np.nan)
    return row_medians(paid)


def _intervals(frame: pd.DataFrame | None) -> pd.DataFrame:
    """asin, start, end (inclusive epoch days) from a frame of dates; empty when None."""
    if frame is None or frame.empty:
        return pd.DataFrame({"asin": pd.Series(dtype=object), "start": pd.Series(dtype=np.int64),
                             "end": pd.Series(dtype=np.int64)})
    frame = frame.dropna(subset=["asin", "start", "end"])
    return pd.DataFrame({"asin": frame["asin"].astype(str).to_numpy(), "start": to_days(frame["start"]),
                         "end": to_days(frame["end"])})


def _sentence(v: dict, inputs: dict, currency: str) -> str:
    what = {COUPON: "coupon", LIGHTNING_DEAL: "Lightning Deal", BEST_DEAL: "Best Deal"}[v["type"]]
    off = f"{currency}{v['discount']:g} off" if v["discount_type"] == AMOUNT else f"{v['discount']:.0%} off"
    clip = f", {inputs['redemption_share']:.0%} of buyers clipping" if v["type"] == COUPON else ""
    budget = f"; budget {currency}{v['budget']:,.0f}" if v["budget"] is not None else ""
    return (f"A {what} at {off} on {v['asin']} from {v['start']:%d %b} to {v['end']:%d %b} should sell about "
            f"{v['expected_units']:.0f} extra units ({v['units_lo']:.0f} to {v['units_hi']:.0f}) and earn "
            f"{_money(v['expected_profit'], currency)} more ({_money(v['profit_lo'], currency)} to "
            f"{_money(v['profit_hi'], currency)}) after the discount and {_money(v['fee'], currency)} of fees: "
            f"it needs {v['break_even_lift']:+.0%} units to break even and should bring {v['expected_lift']:+.0%} "
            f"(elasticity {v['elasticity']:.1f}{clip}){budget}.")


def _money(value: float, currency: str) -> str:
    return f"-{currency}{-value:,.0f}" if value < 0 else f"{currency}{value:,.0f}"


def _json(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
