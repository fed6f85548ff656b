"""Promotion suggestions: every rule of issue 13 has a test here that fails if the rule goes."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketing.optimize.promotions import (
    LEAD_DAYS,
    PRIOR_ELASTICITY,
    Fee,
    PromotionSettings,
    Proposal,
    Skip,
    break_even_lift,
    dip_fit,
    promotion_fee,
    suggest,
)
from marketing.optimize.promotions.economics import unit_margin
from tests.optimize.promo_data import START, economics, fba_inventory, history

TODAY = START + timedelta(days=100)  # the day after the history ends
COUPON_FEE = Fee(fixed=5.0, variable_pct=0.025, variable_cap=2000.0)
DEAL_FEE = Fee(per_day=70.0, variable_pct=0.01, variable_cap=2000.0)
FEES = {"COUPON": COUPON_FEE, "BEST_DEAL": DEAL_FEE, "LIGHTNING_DEAL": DEAL_FEE}
NO_BUSY = pd.DataFrame(columns=["asin", "start", "end"])


def rules(**overrides) -> PromotionSettings:
    """The settings the rule tests are written at: the score weighs half the downside and the share taken back
    by dips is taken as known (and, known to be there, it would space promotions a dip apart: `dip_days` 0 keeps
    that out), so each rule's arithmetic shows; the defaults' caution has its own tests."""
    return PromotionSettings(**{"risk_aversion": 0.5, "pull_forward_sd": 0.0, "dip_days": 0, **overrides})


def run(*, daily=None, econ=None, inventory=None, busy=NO_BUSY, fees=None, elasticity=-4.0, deal_types=(),
        settings=None, **kwargs):
    daily = history(10, days=100, noise=False) if daily is None else daily
    econ = economics("A1", unit_cost=3.0) if econ is None else econ
    asins = list(econ["asin"])
    return suggest(daily, econ, inventory=pd.Series(inventory if inventory is not None else {a: np.nan for a in asins},
                                                    dtype=float),
                   busy=busy, fees=FEES if fees is None else fees,
                   elasticity=pd.Series({a: elasticity for a in asins}, dtype=float), today=TODAY,
                   deal_types=set(deal_types), settings=settings or rules(), **kwargs)


def only(result) -> Proposal:
    proposals, skips = result
    assert skips == [] and len(proposals) == 1, (proposals, skips)
    return proposals[0]


def skipped(result) -> str:
    proposals, skips = result
    assert proposals == [] and len(skips) == 1, (proposals, skips)
    return skips[0].reason


def test_a_profitable_coupon_is_proposed_with_its_numbers_and_sentence():
    p = only(run())
    assert p.type == "COUPON" and p.discount_type == "PERCENT_OFF_LIST_PRICE"
    assert p.start == TODAY + timedelta(days=LEAD_DAYS["COUPON"]) and (p.end - p.start).days == 6
    assert p.baseline_units == pytest.approx(10.0)
    assert p.expected_lift == pytest.approx((1 - 0.5 * p.discount) ** -4.0 - 1)  # half the buyers clip
    assert p.units_lo < p.expected_units < p.units_hi and p.profit_lo < p.expected_profit < p.profit_hi
    assert p.expected_profit > 0 and p.profit_lo > -p.expected_profit
    assert p.was_price == pytest.approx(20.0) and p.net_price == pytest.approx(20 * (1 - p.discount))
    assert p.margin_before == pytest.approx(unit_margin(20.0, 3.0, 0.15, 3.0))
    assert p.margin_after == pytest.approx(unit_margin(20.0, 3.0, 0.15, 3.0, p.discount))
    assert p.cover_days is None and p.elasticity == -4.0
    assert "coupon" in p.explanation and "A1" in p.explanation and p.explanation.endswith(".")
    json.dumps(p.inputs)  # stored with the suggestion
    assert p.inputs["baseline_days"] == 28 and p.inputs["redemption_share"] == 0.5


def test_expected_profit_and_break_even_follow_the_formulas():
    """No noise and no elasticity uncertainty: the proposal's money is the documented arithmetic."""
    settings = rules(elasticity_sd=0.0, depths=(0.2,), amount_off=False)
    p = only(run(settings=settings))
    q0, d, share, pull = 70.0, 0.2, 0.5, settings.pull_forward  # a week at 10 a day
    lift = (1 - share * d) ** -4.0 - 1
    q1 = q0 * (1 + lift)
    m0, m1 = unit_margin(20.0, 3.0, 0.15, 3.0), unit_margin(20.0, 3.0, 0.15, 3.0, d)
    fee = promotion_fee(COUPON_FEE, days=7, sales=share * q1 * 16.0, redemptions=share * q1)
    profit = q1 * (share * m1 + (1 - share) * m0) - q0 * m0 - pull * q0 * lift * m0 - fee
    assert p.fee == pytest.approx(fee)
    assert p.expected_profit == pytest.approx(profit)
    assert p.expected_units == pytest.approx(q0 * lift * (1 - pull))
    blended = share * (m1 - 0.025 * 16.0) + (1 - share) * m0
    assert p.break_even_lift == pytest.approx(break_even_lift(m0, blended, q0, 5.0) - 1)
    # the coupon budget covers every redemption at the upper units, with Amazon's 80 % pull-out headroom
    assert p.budget == math.ceil((share * q1 * 20 * d + fee) / 0.8)


def test_the_redemption_share_keeps_a_coupon_lift_modest():
    half = only(run(settings=rules(depths=(0.2,), amount_off=False)))
    everyone = only(run(settings=rules(depths=(0.2,), amount_off=False, redemption_share=1.0)))
    assert half.expected_lift == pytest.approx(0.9 ** -4 - 1)
    assert everyone.expected_lift == pytest.approx(0.8 ** -4 - 1)


def test_no_unit_cost_means_enter_unit_cost():
    assert skipped(run(econ=economics("A1", unit_cost=np.nan))) == "enter unit cost"


def test_coupon_depth_stays_within_amazons_range():
    """Left to itself a 60 %-off coupon would win here (cheap product, very elastic demand)."""
    econ = economics("A1", unit_cost=1.0, fba_fee=0.0)
    wide = rules(depths=(0.6,), amount_off=False, coupon_max_pct=0.6)
    assert only(run(econ=econ, elasticity=-8.0, settings=wide)).discount == pytest.approx(0.6)
    narrow = rules(depths=(0.6,), amount_off=False)
    assert skipped(run(econ=econ, elasticity=-8.0, settings=narrow)) == "coupon discount outside Amazon's range"


def test_an_amount_off_coupon_is_a_whole_currency_amount():
    """52 % is outside the range, its rounded amount ($10 of $20 = 50 %) is not."""
    econ = economics("A1", unit_cost=1.0, fba_fee=0.0)
    p = only(run(econ=econ, elasticity=-8.0, settings=rules(depths=(0.52,))))
    assert p.discount_type == "AMOUNT_OFF_LIST_PRICE" and p.discount == 10.0
    assert p.net_price == pytest.approx(10.0)


def test_net_price_must_be_below_the_was_price():
    """The list price is $20 but buyers paid $17 over the last 90 days: 10 % off ($18) is not below it."""
    daily = history(10, days=100, noise=False, price=17.0)
    econ = economics("A1", unit_cost=3.0, price=20.0)
    settings = rules(depths=(0.1,), amount_off=False)
    assert skipped(run(daily=daily, econ=econ, settings=settings)) == "net price not below the Was Price"
    deeper = only(run(daily=daily, econ=econ, settings=replace(settings, depths=(0.1, 0.2))))
    assert deeper.discount == pytest.approx(0.2) and deeper.was_price == pytest.approx(17.0)


def test_the_margin_after_the_discount_must_stay_above_the_minimum():
    """Cost $13: at 20 % off a unit earns $0.60 of $16 (3.75 %) after the referral fee, under the 5 % minimum;
    a 2 % minimum allows it."""
    econ = economics("A1", unit_cost=13.0, fba_fee=0.0)
    settings = rules(depths=(0.2,), amount_off=False)
    assert skipped(run(econ=econ, elasticity=-12.0, settings=settings)) == "margin after the discount too thin"
    assert only(run(econ=econ, elasticity=-12.0, settings=replace(settings, min_margin_after=0.02)))


def test_no_overlap_with_running_or_planned_promotions():
    first = TODAY + timedelta(days=1)
    busy = pd.DataFrame({"asin": ["A1"], "start": [first - timedelta(days=3)], "end": [first + timedelta(days=9)]})
    p = only(run(busy=busy))
    assert p.start == first + timedelta(days=10)
    blocked = pd.DataFrame({"asin": ["A1"], "start": [TODAY], "end": [TODAY + timedelta(days=50)]})
    assert skipped(run(busy=blocked)) == "no free window"  # 14 days no longer fit before the 56-day horizon
    other = pd.DataFrame({"asin": ["A2"], "start": [TODAY], "end": [TODAY + timedelta(days=50)]})
    assert only(run(busy=other)).start == first


def test_where_dips_are_plainly_there_a_promotion_waits_out_the_last_ones_dip():
    """A promotion inside the last one's dip lifts demand the dip has thinned, and its own dip thins the next
    (the quality bench's pull-forward seeds lost money promoting an ASIN week after week): where the seller's dip
    share is plainly above 0 the next window starts `dip_days` after the ASIN's last promotion (past, running or
    planned) ends; where its interval reaches 0, right away."""
    settings = PromotionSettings(elasticity_sd=0.0, depths=(0.2,), amount_off=False, shared_risk_aversion=0.0)
    ended = TODAY - timedelta(days=10)
    past = pd.DataFrame({"asin": ["A1"], "start": [ended - timedelta(days=6)], "end": [ended]})
    dips = pd.DataFrame({"asin": "B9", "measurable": True, "units": [300.0] * 20, "expected_units": 200.0,
                         "dip_read": [25.0, 35.0] * 10, "dip_sd": 10.0, "post_days": 28})
    rich = economics("A1", unit_cost=1.0)
    waited = only(run(econ=rich, settings=settings, measured=dips, promotions=past))
    assert waited.inputs["pull_forward"] == pytest.approx(0.3, abs=0.02)
    assert waited.start == ended + timedelta(days=29)
    assert only(run(econ=rich, settings=replace(settings, dip_days=14), measured=dips, promotions=past)
                ).start == ended + timedelta(days=15)
    assert only(run(econ=rich, settings=replace(settings, dip_days=9), measured=dips, promotions=past)
                ).start == TODAY + timedelta(days=1)  # that dip is over
    busy = pd.DataFrame({"asin": ["A1"], "start": [TODAY], "end": [TODAY + timedelta(days=2)]})
    assert only(run(econ=rich, settings=settings, measured=dips, busy=busy)).start == TODAY + timedelta(days=31)
    faint = dips.assign(dip_read=[-30.0, 40.0] * 10)  # share ~0.05, its interval reaches below 0
    assert only(run(econ=rich, settings=settings, measured=faint, promotions=past)).start == TODAY + timedelta(days=1)


def test_deals_start_at_least_their_lead_time_ahead_and_only_types_the_seller_ran():
    fees = {"BEST_DEAL": DEAL_FEE}  # coupons out of the way: the deal is the only candidate
    econ = economics("A1", unit_cost=1.0, fba_fee=0.0)
    daily = history(40, days=100, noise=False)
    p = only(run(daily=daily, econ=econ, fees=fees, deal_types={"BEST_DEAL"}))
    assert p.type == "BEST_DEAL" and p.start == TODAY + timedelta(days=14) and (p.end - p.start).days == 6
    assert p.budget is None
    assert LEAD_DAYS["BEST_DEAL"] >= 14 and LEAD_DAYS["LIGHTNING_DEAL"] >= 14 and LEAD_DAYS["COUPON"] >= 1
    assert skipped(run(daily=daily, econ=econ, fees=fees, deal_types=set())) == "no promotion fees for this marketplace"
    # with coupons back, a seller who never ran deals gets a coupon even where a deal would earn more
    assert only(run(daily=daily, econ=econ, deal_types=set())).type == "COUPON"


def test_stock_must_last_until_the_end():
    p = only(run(inventory={"A1": 1000.0}))
    assert p.cover_days == pytest.approx(100.0)
    assert skipped(run(inventory={"A1": 150.0})) == "stock would run out"  # 14 days at 10+/day need more


def test_only_a_promotion_that_pays_is_proposed():
    assert skipped(run(econ=economics("A1", unit_cost=8.0), elasticity=-1.5)) == "no profitable depth"


def test_the_risk_adjusted_profit_must_be_positive():
    """The same expected profit is proposed when the elasticity is certain and not when it is very uncertain."""
    base = rules(depths=(0.1,), amount_off=False)
    econ = economics("A1", unit_cost=5.0)
    sure = only(run(econ=econ, settings=replace(base, elasticity_sd=0.0)))
    assert sure.expected_profit > 0
    assert skipped(run(econ=econ, settings=replace(base, elasticity_sd=3.0))) == "no profitable depth"


def test_too_little_history_is_skipped_with_the_reason():
    daily = history(10, days=100, noise=False)
    daily = daily[daily["date"] >= TODAY - timedelta(days=20)]
    assert skipped(run(daily=daily)) == "too little clean sales history (20 of 28 days)"


def test_an_asin_promoted_week_after_week_keeps_the_baseline_it_had_before():
    """Seven weeks of back-to-back promotions leave 7 clean days in the last 56: the level comes from the clean days
    before them (10 a day, not the promotions' 30), and the ASIN is proposed again rather than skipped; a search of
    only 56 days finds too few."""
    daily = history(10, days=100, noise=False)
    start = TODAY - timedelta(days=54)
    daily.loc[daily["date"].between(start, start + timedelta(days=48)), ["units", "sales"]] *= 3
    past = pd.DataFrame({"asin": ["A1"] * 7, "start": [start + timedelta(days=7 * k) for k in range(7)],
                         "end": [start + timedelta(days=7 * k + 6) for k in range(7)]})
    assert only(run(daily=daily, promotions=past)).baseline_units == pytest.approx(10.0)
    assert skipped(run(daily=daily, promotions=past, settings=rules(baseline_search_days=56))) == \
        "too little clean sales history (7 of 28 days)"


def test_past_promotion_days_do_not_inflate_the_baseline():
    daily = history(10, days=100, noise=False)
    recent = (daily["date"] >= TODAY - timedelta(days=10))
    daily.loc[recent, "units"] *= 3
    past = pd.DataFrame({"asin": ["A1"], "start": [TODAY - timedelta(days=10)], "end": [TODAY - timedelta(days=1)]})
    assert only(run(daily=daily, promotions=past)).baseline_units == pytest.approx(10.0)
    assert only(run(daily=daily)).baseline_units > 12


def test_the_best_depth_is_picked_from_the_grid():
    p = only(run(settings=rules(elasticity_sd=0.0)))
    profits = {d: only(run(settings=rules(elasticity_sd=0.0, depths=(d,), amount_off=False)))
               .expected_profit for d in (0.05, 0.1, 0.3)}
    assert all(p.expected_profit >= value - 1e-9 for value in profits.values())


def test_a_lightning_deal_sees_only_its_hours_of_demand():
    fees = {"LIGHTNING_DEAL": Fee(fixed=0.0)}
    econ = economics("A1", unit_cost=1.0, fba_fee=0.0)
    settings = rules(depths=(0.2,), elasticity_sd=0.0)
    p = only(run(econ=econ, fees=fees, deal_types={"LIGHTNING_DEAL"}, settings=settings))
    weekday_factor = [0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.0][p.start.weekday()]
    lift = 0.8 ** -4.0 - 1
    assert p.expected_units == pytest.approx(10 * weekday_factor * 6 / 24 * lift * 0.8)


def test_bad_input_is_handled():
    assert suggest(history(10, noise=False), pd.DataFrame(), inventory=pd.Series(dtype=float), busy=NO_BUSY,
                   fees=FEES, elasticity=pd.Series(dtype=float), today=TODAY) == ([], [])
    econ = pd.concat([economics("A1", unit_cost=3.0), economics("GHOST", unit_cost=3.0),
                      economics("A1", unit_cost=3.0)])  # a duplicate row counts once
    daily = history(10, days=100, noise=False)
    daily.loc[daily.index[-5:], "units"] = np.nan
    daily["sales"] += 1e-9
    proposals, skips = suggest(daily, econ, inventory=pd.Series({"A1": np.nan}), busy=NO_BUSY, fees=FEES,
                               elasticity=pd.Series({"A1": np.nan}), today=TODAY, settings=rules())
    assert [p.asin for p in proposals] == ["A1"] and proposals[0].elasticity == PRIOR_ELASTICITY
    assert skips == [Skip("GHOST", "too little clean sales history (0 of 28 days)")]
    empty = suggest(daily.iloc[:0], economics("A1"), inventory=pd.Series(dtype=float), busy=NO_BUSY, fees=FEES,
                    elasticity=pd.Series(dtype=float), today=TODAY)
    assert empty == ([], [Skip("A1", "too little clean sales history (0 of 28 days)")])


def test_settings_reject_nonsense():
    with pytest.raises(ValueError, match="Coupon range"):
        PromotionSettings(coupon_min_pct=0.6, coupon_max_pct=0.5)
    with pytest.raises(ValueError, match="redemption share"):
        PromotionSettings(redemption_share=0.0)
    with pytest.raises(ValueError, match="finite"):
        PromotionSettings(pull_forward=float("nan"))


def test_many_asins_at_once_match_one_at_a_time():
    asins = [f"A{i}" for i in range(6)]
    daily = pd.concat([history(5 + 5 * i, asins=(a,), days=100, noise=False) for i, a in enumerate(asins)])
    econ = economics(*asins, unit_cost=3.0)
    together, _ = run(daily=daily, econ=econ)
    alone = [only(run(daily=daily[daily["asin"] == a], econ=economics(a, unit_cost=3.0))) for a in asins]
    assert [p.expected_profit for p in together] == pytest.approx([p.expected_profit for p in alone])
    assert date.fromisoformat(together[0].inputs["today"]) == TODAY


def test_a_per_asin_elasticity_spread_replaces_the_setting():
    """Given `elasticities(…, with_sd=True)`'s frame, a well-known elasticity is proposed where the default
    uncertainty would not be."""
    base = rules(depths=(0.1,), amount_off=False, elasticity_sd=3.0)
    econ = economics("A1", unit_cost=5.0)
    known = pd.DataFrame({"elasticity": [-4.0], "sd": [0.1]}, index=["A1"])
    p = only(suggest(history(10, days=100, noise=False), econ, inventory=pd.Series(dtype=float), busy=NO_BUSY,
                     fees=FEES, elasticity=known, today=TODAY, settings=base))
    assert p.inputs["elasticity_sd"] == 0.1
    assert skipped(run(econ=econ, settings=base)) == "no profitable depth"


def test_the_demand_curves_bend_sets_the_lift():
    """With `elasticities`' bend (curvature) a coupon's lift is exp(ε·x + κ·x²) − 1 at its effective discount, x =
    ln(1 − d), and the proposal says which bend it used; without one, the constant elasticity's (1 − d)^ε − 1."""
    settings = rules(depths=(0.2,), amount_off=False, elasticity_sd=0.0)
    econ = economics("A1", unit_cost=1.0)

    def proposal(frame):
        return only(suggest(history(10, days=100, noise=False), econ, inventory=pd.Series(dtype=float), busy=NO_BUSY,
                            fees=FEES, elasticity=frame, today=TODAY, settings=settings))

    x = math.log(1 - 0.2 * 0.5)  # half the buyers clip a 20 % coupon
    bent = proposal(pd.DataFrame({"elasticity": [-4.0], "sd": [0.0], "curvature": [-6.0]}, index=["A1"]))
    assert bent.expected_lift == pytest.approx(math.exp(-4.0 * x - 6.0 * x * x) - 1)
    assert bent.inputs["curvature"] == -6.0
    straight = proposal(pd.DataFrame({"elasticity": [-4.0], "sd": [0.0]}, index=["A1"]))
    assert straight.expected_lift == pytest.approx(0.9 ** -4.0 - 1) and straight.inputs["curvature"] == 0.0


def test_stock_must_also_cover_the_restock_time_after_the_end():
    """Enough for the week at the upper lift but not for 28 more days at the baseline: a promotion that would
    leave the ASIN to run dry before a restock arrives is not proposed."""
    tight = {"A1": 300.0}
    assert only(run(inventory=tight, settings=rules(cover_after_days=0))).cover_days == pytest.approx(30)
    assert skipped(run(inventory=tight)) == "stock would run out"
    assert only(run(inventory={"A1": 700.0}))


def test_a_running_promotion_before_the_start_sells_at_a_promotions_pace():
    """A 30 % coupon running for the first 10 days sells faster than the baseline: stock that covers those days at
    the baseline pace, the next week and nothing more is not enough."""
    first = TODAY + timedelta(days=1)
    busy = pd.DataFrame({"asin": ["A1"], "start": [first - timedelta(days=3)], "end": [first + timedelta(days=9)],
                         "type": ["COUPON"], "discount": [0.3]})
    settings = rules(cover_after_days=0, depths=(0.3,), amount_off=False, elasticity_sd=0.0)
    free = only(run(inventory={"A1": 200.0}, settings=settings))  # 1 day + 7 days at the upper lift
    assert free.start == first
    assert skipped(run(inventory={"A1": 300.0}, busy=busy, settings=settings)) == "stock would run out"
    assert only(run(inventory={"A1": 1000.0}, busy=busy, settings=settings)).start == first + timedelta(days=10)


def test_coupon_depths_reach_amazons_cap_where_demand_is_very_elastic():
    p = only(run(econ=economics("A1", unit_cost=1.0, fba_fee=0.0), elasticity=-8.0,
                 settings=rules(elasticity_sd=0.0, amount_off=False)))
    assert 0.30 < p.discount <= 0.50


def test_the_share_taken_back_by_dips_and_siblings_is_learned_from_past_promotions():
    """Past promotions whose dip took back 30 % of their extra units, and whose siblings 20 % where the ASIN has
    siblings: the proposal keeps the rest, says so in its inputs, and expects less profit than the default 20 %.
    An ASIN alone in its family loses nothing to siblings, and the promotions of lone ASINs do not dilute the
    siblings' share. Promotions that all say the same (no noise given) pin the share down."""
    family = pd.concat([history(10, days=100, noise=False, asins=("A1", "A2"), parent="P"),
                        history(10, days=100, noise=False, asins=("A3",))], ignore_index=True)
    measured = pd.DataFrame({"asin": ["A2"] * 20 + ["A3"] * 20, "measurable": True, "units": 300.0,
                             "expected_units": 200.0, "dip_units": 30.0,
                             "cannibalised_units": [20.0] * 20 + [0.0] * 20})
    settings = rules(elasticity_sd=0.0, depths=(0.2,), amount_off=False, pull_forward_sd=0.2)
    rich = economics("A1", unit_cost=1.0)
    learned = only(run(daily=family, econ=rich, settings=settings, measured=measured))
    lone = only(run(daily=family, econ=economics("A3", unit_cost=1.0), settings=settings, measured=measured))
    default = only(run(daily=family, econ=rich, settings=settings))
    assert learned.inputs["pull_forward"] == pytest.approx(0.3 + 0.2)
    assert lone.inputs["pull_forward"] == pytest.approx(0.3)
    assert default.inputs["pull_forward"] == 0.2
    assert default.inputs["pull_forward_se"] == pytest.approx(math.hypot(0.2, 0.2))  # the dip's and the siblings'
    assert learned.expected_units == pytest.approx(default.expected_units / 0.8 * (1 - learned.inputs["pull_forward"]))
    assert learned.expected_profit < default.expected_profit
    assert only(run(daily=family, econ=rich, settings=settings, measured=measured.assign(measurable=False))
                ).inputs["pull_forward"] == 0.2


def test_the_siblings_share_is_learned_from_the_sellers_other_marketplaces_too():
    """A seller's families are the same products in each marketplace: where this one has no promotion of an ASIN
    with siblings, those of its other marketplace whose siblings were read (cannibalised_sd > 0) say what siblings
    lose, 20 % of the extra units; that marketplace's lone ASINs (no sibling read) don't dilute it."""
    family = history(10, days=100, noise=False, asins=("A1", "A2"), parent="P")
    settings = rules(elasticity_sd=0.0, depths=(0.2,), amount_off=False, pull_forward=0.0, pull_forward_sd=0.2)
    read = pd.DataFrame({"asin": "A2", "measurable": True, "units": [300.0] * 8, "expected_units": 200.0,
                         "dip_units": 0.0, "cannibalised_read": [15.0, 25.0] * 4, "cannibalised_sd": 10.0})
    lone = read.assign(asin="B9", cannibalised_read=0.0, cannibalised_sd=0.0)
    rich = economics("A1", unit_cost=1.0)
    p = only(run(daily=family, econ=rich, settings=settings, measured_elsewhere=pd.concat([read, lone])))
    share, se = pooled_share([100.0] * 8, [15.0, 25.0] * 4, 100.0, prior=0.0)
    assert p.inputs["pull_forward"] == pytest.approx(share) and 0.18 < share < 0.2
    assert only(run(daily=family, econ=rich, settings=settings, measured_elsewhere=lone)).inputs["pull_forward"] == 0


def pooled_share(g, t, v, prior=0.2, prior_sd=0.2, c=0.0, vg=0.0):
    """The dip's share and its error as `_share_fit` and `_combined` should fit them (written out for the tests)."""
    g, t, v, c, vg = (np.broadcast_to(np.asarray(x, dtype=float), np.shape(g)) for x in (g, t, v, c, vg))
    info = max(np.sum((g * g - vg) / v), np.sum(g * g / v) / 2)
    fit = np.sum((g * t - c) / v) / info
    data_var = max(1 / info, np.sum((g * (t - fit * g) / v) ** 2) / info ** 2)
    precision = 1 / data_var + 1 / prior_sd ** 2
    return (fit / data_var + prior / prior_sd ** 2) / precision, math.sqrt(1 / precision)


def test_the_dips_share_weighs_each_promotion_by_its_noise():
    """Big promotions whose dips are read closely took back half their extra units; a few one-day deals' dips,
    read over 28 noisy days, swing wildly. Summing dips over gross (the ratio) lets the deals' noise in; weighing
    each by its noise finds the half, and the prior only nudges it. A promotion with no watched day (noise 0)
    says nothing."""
    settings = rules(elasticity_sd=0.0, depths=(0.2,), amount_off=False, pull_forward_sd=0.2)
    big = pd.DataFrame({"asin": "A1", "measurable": True, "units": [300.0] * 6, "expected_units": 100.0,
                        "dip_read": [90.0, 110.0] * 3, "dip_sd": 20.0, "post_days": 28})
    deals = pd.DataFrame({"asin": "A1", "measurable": True, "units": [30.0] * 6, "expected_units": 10.0,
                          "dip_read": [-150.0, -50.0] * 3, "dip_sd": 120.0, "post_days": 28})
    unread = deals.assign(dip_read=500.0, dip_sd=0.0)
    measured = pd.concat([big, deals, unread], ignore_index=True)
    p = only(run(econ=economics("A1", unit_cost=1.0), settings=settings, measured=measured))
    ratio = (big["dip_read"].sum() + deals["dip_read"].sum()) / (big["units"] - 100 + deals["units"] - 10).sum()
    share, se = pooled_share([200.0] * 6 + [20.0] * 6, [90.0, 110.0] * 3 + [-150.0, -50.0] * 3,
                             [400.0] * 6 + [14400.0] * 6)
    assert ratio < 0.4 and 0.45 < share < 0.5
    assert p.inputs["pull_forward"] == pytest.approx(share)
    assert p.inputs["pull_forward_se"] == pytest.approx(se) and se < 0.05


def test_the_dips_share_corrects_for_the_level_both_are_read_against():
    """A level read too high shrinks the gross and swells the dip: measure's dip_gross_cov (negative) and the
    gross's own noise (gross_sd, which pulls a fitted slope toward 0) are taken out; the seller's other
    marketplaces count toward the dip (toward the siblings' share only where their siblings were read)."""
    settings = rules(elasticity_sd=0.0, depths=(0.2,), amount_off=False, pull_forward_sd=0.2)
    rows = pd.DataFrame({"asin": "A1", "measurable": True, "units": [300.0, 300.0, 300.0, 300.0],
                         "expected_units": 200.0, "dip_read": [30.0, 50.0, 30.0, 50.0], "dip_sd": 20.0,
                         "dip_gross_cov": -300.0, "gross_sd": 30.0, "post_days": 28})
    rich = economics("A1", unit_cost=0.5)
    p = only(run(econ=rich, settings=settings, measured=rows))
    share, se = pooled_share([100.0] * 4, [30.0, 50.0] * 2, 400.0, c=-300.0, vg=900.0)
    plain, _ = pooled_share([100.0] * 4, [30.0, 50.0] * 2, 400.0)
    assert p.inputs["pull_forward"] == pytest.approx(share) and share > plain + 0.05
    elsewhere = rows.assign(asin="B9", dip_gross_cov=0.0, gross_sd=0.0, dip_read=50.0)
    both = only(run(econ=rich, settings=settings, measured=rows, measured_elsewhere=elsewhere))
    share, _ = pooled_share([100.0] * 8, [30.0, 50.0] * 2 + [50.0] * 4, 400.0, c=[-300.0] * 4 + [0.0] * 4,
                            vg=[900.0] * 4 + [0.0] * 4)
    assert both.inputs["pull_forward"] == pytest.approx(share)
    alone = only(run(econ=rich, settings=settings, measured_elsewhere=elsewhere))
    assert alone.inputs["pull_forward"] == pytest.approx(pooled_share([100.0] * 4, [50.0] * 4, 400.0)[0])


def test_a_seller_with_few_dips_starts_from_the_share_its_agencys_other_sellers_show():
    """Each seller's own read (`dip_fit`: no prior) is what the agency's other sellers start from (`peers`): two
    sellers whose dips took back nothing, read closely, move a seller with four noisy promotions from the guide's
    20 % to near theirs, ± `pull_forward_between_sd`; the proposal says what it started from."""
    settings = PromotionSettings(elasticity_sd=0.0, depths=(0.2,), amount_off=False)
    noisy = pd.DataFrame({"asin": "A1", "measurable": True, "units": [300.0] * 4, "expected_units": 200.0,
                          "dip_read": [0.0, 40.0] * 2, "dip_sd": 60.0, "post_days": 28})
    own = dip_fit(noisy)
    g, t, v = np.full(4, 100.0), np.array([0.0, 40.0] * 2), 3600.0
    info = float(np.sum(g * g / v))
    fit = float(np.sum(g * t / v)) / info
    assert own == pytest.approx((fit, max(1 / info, float(np.sum((g * (t - fit * g) / v) ** 2)) / info ** 2)))
    assert dip_fit(noisy.assign(post_days=5)) is None and dip_fit(None) is None
    peers = [(0.0, 0.03 ** 2), (0.02, 0.03 ** 2)]
    rich = economics("A1", unit_cost=1.0)
    alone = only(run(econ=rich, settings=settings, measured=noisy))
    agency = only(run(econ=rich, settings=settings, measured=noisy, peers=peers))
    precision = 1 / 0.2 ** 2 + 2 / 0.03 ** 2
    start = ((0.2 / 0.2 ** 2 + 0.02 / 0.03 ** 2) / precision, math.hypot(math.sqrt(1 / precision), 0.05))
    assert agency.inputs["dip_prior"] == pytest.approx(start) and agency.inputs["peers"] == 2
    assert alone.inputs["dip_prior"] == [0.2, 0.2] and alone.inputs["peers"] == 0
    assert agency.inputs["pull_forward"] == pytest.approx(pooled_share(g, t, v, prior=start[0], prior_sd=start[1])[0])
    assert agency.inputs["pull_forward"] < 0.05 < 0.1 < alone.inputs["pull_forward"]
    assert agency.expected_profit > alone.expected_profit and agency.profit_lo > alone.profit_lo
    # a seller whose own dips are many and read closely keeps its own share, whatever the others show
    clear = pd.DataFrame({"asin": "A1", "measurable": True, "units": [300.0] * 30, "expected_units": 200.0,
                          "dip_read": [45.0, 55.0] * 15, "dip_sd": 10.0, "post_days": 28})
    assert only(run(econ=rich, settings=settings, measured=clear, peers=peers)).inputs["pull_forward"] > 0.45
    # a peer without a finite read or variance says nothing
    assert only(run(econ=rich, settings=settings, measured=noisy, peers=[(math.nan, 0.01), (0.0, 0.0)])
                ).inputs["dip_prior"] == [0.2, 0.2]


def test_a_dip_read_over_part_of_its_days_counts_for_that_part():
    """A dip whose first week another promotion took (21 of its 28 days watched) holds 21/28 of it: each
    promotion's gross counts by the share of the dip's days watched, so dips that took back 30 % read 30 %, not
    22.5 %."""
    partial = pd.DataFrame({"asin": "A1", "measurable": True, "units": [300.0] * 10, "expected_units": 200.0,
                            "dip_read": [0.3 * 100 * 21 / 28] * 10, "dip_sd": 10.0, "post_days": 21})
    whole = partial.assign(dip_read=30.0, post_days=28)
    assert dip_fit(partial)[0] == pytest.approx(0.3)
    assert dip_fit(whole)[0] == pytest.approx(0.3)
    assert dip_fit(partial, settings=PromotionSettings(dip_days=21))[0] == pytest.approx(0.225)


def test_unfinished_dips_wait_and_the_shares_error_lowers_profits_lower_bound():
    """Dips watched fewer than `pull_forward_post_days` clean days are left out; the share's error lowers profit's
    lower bound, not its value."""
    settings = PromotionSettings(elasticity_sd=0.0, depths=(0.2,), amount_off=False, risk_aversion=0.0,
                                 shared_risk_aversion=0.0)
    even = pd.DataFrame({"asin": "A1", "measurable": True, "units": [300.0] * 20, "expected_units": 200.0,
                         "dip_read": [40.0, 60.0] * 10, "dip_sd": 30.0, "post_days": 28})
    rich = economics("A1", unit_cost=1.0)
    steady = only(run(econ=rich, settings=settings, measured=even))
    share, se = pooled_share([100.0] * 20, [40.0, 60.0] * 10, 900.0)
    assert steady.inputs["pull_forward"] == pytest.approx(share)
    noisy = only(run(econ=rich, settings=settings, measured=even.assign(dip_sd=90.0)))
    assert noisy.inputs["pull_forward_se"] > 2 * steady.inputs["pull_forward_se"]
    assert noisy.profit_lo < steady.profit_lo
    unfinished = pd.concat([even, even.iloc[:10].assign(dip_read=0.0, post_days=5)], ignore_index=True)
    assert only(run(econ=rich, settings=settings, measured=unfinished)).inputs["pull_forward"] == pytest.approx(share)


def test_the_shares_error_weighs_more_than_the_asins_own():
    """The share taken back is one number for all of a seller's proposals, so its downside is weighed on its own
    (`shared_risk_aversion`): a proposal that pays unless the share is near the top of its interval is dropped
    where that weighs fully, and its risk-adjusted profit is the profit less each downside at its weight."""
    scattered = pd.DataFrame({"asin": "A1", "measurable": True, "units": [300.0] * 4, "expected_units": 200.0,
                              "dip_read": [0.0, 60.0] * 2, "dip_sd": 60.0, "post_days": 28})
    thin = economics("A1", unit_cost=3.0)
    base = PromotionSettings(elasticity_sd=0.0, depths=(0.2,), amount_off=False, risk_aversion=0.0,
                             shared_risk_aversion=0.0)
    p = only(run(econ=thin, settings=base, measured=scattered))
    assert p.expected_profit > 0 and p.profit_lo < 0
    assert skipped(run(econ=thin, settings=replace(base, shared_risk_aversion=1.0), measured=scattered)) \
        == "no profitable depth"
    half = only(run(econ=thin, settings=replace(base, shared_risk_aversion=0.25), measured=scattered))
    assert half.inputs["risk_adjusted_profit"] == pytest.approx(
        half.expected_profit - 0.25 * (half.expected_profit - half.profit_lo))  # no elasticity or baseline noise


def test_an_asin_out_of_stock_in_the_last_restock_days_is_skipped():
    """A stock-out in the last `restock_days` says the ASIN's restocks do not keep up: no promotion for it; one
    longer ago does not count (a day whose stock is unknown is not a stock-out)."""
    recent = history(10, days=100, noise=False)
    recent.loc[recent["date"] == TODAY - timedelta(days=40), "in_stock"] = False
    assert skipped(run(daily=recent)) == "ran out of stock recently"
    assert only(run(daily=recent, settings=rules(restock_days=30))).asin == "A1"
    old = history(10, days=100, noise=False)
    old.loc[old["date"] == TODAY - timedelta(days=70), "in_stock"] = False
    assert only(run(daily=old)).asin == "A1"


def test_at_full_risk_aversion_a_proposal_must_make_money_at_the_low_end_of_its_interval():
    """risk_aversion 1 scores a candidate by its profit's lower bound (elasticity −4 ± 1 at 90 %): a promotion that
    pays on average but loses at the pessimistic end is not proposed, and where one passes, the depth with the
    best lower bound wins over a deeper one that earns more on average but may lose. At 0.5 a candidate scores
    halfway between its expected profit and that lower bound."""
    cautious = rules(risk_aversion=1.0)
    thin = economics("A1", unit_cost=4.0)
    assert only(run(econ=thin, settings=rules())).profit_lo < 0 < only(run(econ=thin, settings=rules())).expected_profit
    assert skipped(run(econ=thin, settings=cautious)) == "no profitable depth"
    fair = economics("A1", unit_cost=3.0)
    bold, careful = only(run(econ=fair, settings=rules())), only(run(econ=fair, settings=cautious))
    assert careful.profit_lo > 0 > bold.profit_lo and careful.discount < bold.discount
    lows = [run(econ=fair, settings=replace(cautious, depths=(d,), amount_off=False))[0] for d in cautious.depths]
    assert careful.profit_lo >= max(q[0].profit_lo for q in lows if q) - 1e-9  # amounts off are tried too
    halfway = bold
    assert halfway.inputs["risk_adjusted_profit"] == pytest.approx(
        halfway.expected_profit - 0.5 * (halfway.expected_profit - halfway.profit_lo))



RESTOCKS = "restocks leave it nearly out already (reorder earlier)"  # the page's words: a contract


def restocked(*, lead=10, low=0.0, high=np.inf, inbound=False) -> pd.DataFrame:
    """An FBA inventory history (10 a day sold; 450 ordered when stock falls below 200, landing `lead` days later)
    cut on the last day whose fulfillable is within [low, high] and whose inbound is open or not, as `inbound`
    says, and dated to end today: at least one whole shipment lies before it."""
    frame = fba_inventory(10.0, days=200, lead=lead, reorder=200.0, order=450.0, stock=400.0)
    fits = (frame["fulfillable"].between(low, high)) & ((frame["inbound"] > 0) == inbound)
    frame = frame.iloc[: fits[fits].index[-1] + 1]
    return frame.assign(date=[TODAY - timedelta(days=len(frame) - 1 - k) for k in range(len(frame))])


def today_stock(frame: pd.DataFrame) -> dict:
    return {"A1": float(frame["fulfillable"].iat[-1])}


def test_a_restocked_asin_counts_on_its_next_shipment():
    """Today's 150 units alone would not last the week and a month after it, but the history shows 450 units landing
    10 days after each order, and one is on its way: the coupon is proposed, and its inputs say why."""
    history = restocked(high=150, inbound=True)
    assert skipped(run(inventory=today_stock(history))) == "stock would run out"
    p = only(run(inventory=today_stock(history), inventory_history=history))
    assert p.inputs["restock"] == {"lead_days": 10.0, "reorder_units": 195.0, "order_units": 450.0}
    assert p.inputs["lowest_stock"] > 3 * 10  # `safety_days` of the baseline


def test_a_promotion_that_runs_the_stock_dry_before_the_shipment_lands_is_not_proposed():
    """Stock just above the reorder level: a 20 %-off coupon from tomorrow triggers the order and sells fast while it
    is on its way. With a 17-day lead, about 2 days of stock are left when a shipment lands, which the coupon would
    eat; with an 8-day lead there is room."""
    settings = rules(depths=(0.2,), amount_off=False)
    slow = restocked(lead=17, low=210, high=240)
    assert skipped(run(inventory=today_stock(slow), inventory_history=slow, settings=settings)) == \
        "stock would run out"
    fast = restocked(lead=8, low=210, high=240)
    assert only(run(inventory=today_stock(fast), inventory_history=fast, settings=settings)).start == \
        TODAY + timedelta(days=1)


def test_an_asin_whose_restocks_run_dry_on_their_own_is_not_promoted():
    """A 25-day lead on 20 days of stock: the ASIN runs out every cycle without any promotion, so none is proposed
    however much it holds today, and the skip says the reorder level is what to change (a promotion that only
    shifted the cycle would be fine, but no forecast of the reorder day is that exact); without the history, today's
    stock alone would let one through."""
    history = restocked(lead=25, low=440)
    assert only(run(inventory=today_stock(history)))
    assert skipped(run(inventory=today_stock(history), inventory_history=history)) == RESTOCKS


def test_a_restock_skip_says_what_reorder_level_would_let_a_promotion_through():
    """The ASIN above (10 a day, a 25-day lead, ordering below 200) is told to reorder at (25 + `safety_days` 3) × 10
    = 280 units; the same seller reordering at 280 gets the coupon. Where a running promotion, not the level, is what
    runs the stock low, the level is not the thing to change: no hint."""
    dry = restocked(lead=25, low=440)
    _, [skip] = run(inventory=today_stock(dry), inventory_history=dry)
    assert (skip.reason, skip.restock) == (RESTOCKS, {"lead_days": 25.0, "reorder_units": 195.0, "daily_units": 10.0,
                                                      "reorder_at": 280.0})
    frame = fba_inventory(10.0, days=200, lead=25, reorder=skip.restock["reorder_at"], order=450.0, stock=400.0)
    fits = frame["fulfillable"] >= 440
    frame = frame.iloc[: fits[fits].index[-1] + 1]
    frame = frame.assign(date=[TODAY - timedelta(days=len(frame) - 1 - k) for k in range(len(frame))])
    assert only(run(inventory=today_stock(frame), inventory_history=frame)).inputs["restock"]["reorder_units"] == 275.0
    roomy = restocked(lead=17, low=210, high=240)
    first = TODAY + timedelta(days=1)
    deal = pd.DataFrame({"asin": ["A1"], "start": [first], "end": [first + timedelta(days=13)], "type": ["BEST_DEAL"],
                         "discount": [0.5]})
    _, [busy] = run(inventory=today_stock(roomy), inventory_history=roomy, busy=deal)
    assert busy.reason in (RESTOCKS, "stock would run out") and busy.restock is None


def test_a_restocked_asin_is_not_skipped_for_an_old_stock_out():
    """A stock-out 40 days ago skips an ASIN whose restocks are unknown; where the history shows them keeping up,
    the run forward decides instead."""
    daily = history(10, days=100, noise=False)
    daily.loc[daily["date"] == TODAY - timedelta(days=40), "in_stock"] = False
    stocked = restocked(lead=8, low=500)
    assert skipped(run(daily=daily, inventory=today_stock(stocked))) == "ran out of stock recently"
    assert only(run(daily=daily, inventory=today_stock(stocked), inventory_history=stocked))


def test_a_planned_promotion_sells_at_its_own_depth_before_the_start():
    """A promotion planned for the coming week drains the stock at its upper lift: a 5 % coupon leaves enough for a
    10 % coupon after it; a 50 % Best Deal does not, and neither does one whose depth is not given (taken as the
    deepest)."""
    first = TODAY + timedelta(days=1)
    settings = rules(depths=(0.1,), amount_off=False, elasticity_sd=0.0)
    week = {"asin": ["A1"], "start": [first], "end": [first + timedelta(days=6)]}
    small = pd.DataFrame({**week, "type": ["COUPON"], "discount": [0.05]})
    deep = pd.DataFrame({**week, "type": ["BEST_DEAL"], "discount": [0.5]})
    unknown = pd.DataFrame(week)
    assert only(run(inventory={"A1": 600.0}, busy=small, settings=settings)).start == first + timedelta(days=7)
    for busy in (deep, unknown):
        assert skipped(run(inventory={"A1": 600.0}, busy=busy, settings=settings)) == "stock would run out"


def test_an_asin_whose_restocks_leave_it_a_day_of_stock_is_not_promoted():
    """A 19-day lead: each shipment lands with 10 units left, a day's sales. A coupon would move the next reorder by
    part of a day, which moves that low by up to a day's sales either way (the run-forward showed 10.1 left, a
    stock-out in all but name): no proposal, however much it holds today. A 17-day lead leaves three days (the
    run-forward rounds each day's sales up to whole units): proposed."""
    settings = rules(depths=(0.1, 0.2), amount_off=False)
    tight = restocked(lead=19, low=400)
    assert skipped(run(inventory=today_stock(tight), inventory_history=tight, settings=settings)) == RESTOCKS
    roomy = restocked(lead=17, low=400)
    assert only(run(inventory=today_stock(roomy), inventory_history=roomy, settings=settings))


def test_an_asin_whose_reorder_level_does_not_cover_its_lead_time_and_a_day_is_not_promoted():
    """Orders of 1,500 units land long after today's horizon, so the run-forward never reaches the next low; but the
    day the order falls on moves with any error in the pace, and the low with it, by up to a day's sales: the
    reorder level (195) must cover the lead time's sales and a day's more. A 19-day lead (200 units) leaves
    nothing to spare: skipped; a 17-day lead (180): proposed."""
    settings = rules(depths=(0.1, 0.2), amount_off=False)

    def long_cycle(lead):
        frame = fba_inventory(10.0, days=60, lead=lead, reorder=200.0, order=1500.0, stock=400.0)
        return frame.assign(date=[TODAY - timedelta(days=len(frame) - 1 - k) for k in range(len(frame))])

    tight = long_cycle(19)
    assert tight["fulfillable"].iat[-1] > 1000  # the next order is over 80 days away
    assert skipped(run(inventory=today_stock(tight), inventory_history=tight, settings=settings)) == RESTOCKS
    roomy = long_cycle(17)
    assert only(run(inventory=today_stock(roomy), inventory_history=roomy, settings=settings)).inputs["restock"] == \
        {"lead_days": 17.0, "reorder_units": 195.0, "order_units": 1500.0}


def test_a_slow_sellers_stock_is_run_forward_in_whole_units():
    """The shelf loses whole units: a day that asks 1.2 takes 2 as often as 1, and a slow seller's week can run
    well over its mean. The same restock cycle at 1 a day and at 10 a day (orders, levels and sales scaled alike,
    a fee without a fixed part): the run-forward, rounding each day up, finds the slow one's coupon too close to
    empty before its shipment lands; the fast one's is proposed."""
    settings = rules(depths=(0.2,), amount_off=False)

    def case(rate):
        stock = fba_inventory(rate, days=97, lead=12, reorder=20 * rate, order=45 * rate, stock=40 * rate)
        stock = stock.assign(date=[TODAY - timedelta(days=len(stock) - 1 - k) for k in range(len(stock))])
        return run(daily=history(rate, days=100, noise=False), inventory=today_stock(stock), inventory_history=stock,
                   settings=settings, fees={"COUPON": Fee(variable_pct=0.025)})

    assert skipped(case(1.0)) == "stock would run out"
    assert only(case(10.0)).inputs["restock"]["lead_days"] == 12.0


def test_a_stocks_drain_in_whole_units_is_not_rounded_up_again():
    """Stock leaves 9 whole units a day while 8.3 sell (weekdays 0.8–1.2 of that); with an 18-day lead each shipment
    lands with 10 to 17 left, more than a day's sales. The run-forward takes the history's 9 a day as it is:
    rounding it up again on the busier weekdays (10, 11) would see it run out before the shipment lands, and skip a
    coupon that only moves the reorder earlier."""
    frame = fba_inventory(8.3, days=200, lead=18, reorder=172.0, order=380.0, stock=400.0, drain=9.0)
    lands = frame["fulfillable"].diff() > 0
    assert min(frame["fulfillable"].shift()[lands].dropna()) == 10.0  # the least a shipment finds left
    fits = (frame["fulfillable"] >= 300) & (frame["inbound"] == 0)
    frame = frame.iloc[: fits[fits].index[-1] + 1]
    frame = frame.assign(date=[TODAY - timedelta(days=len(frame) - 1 - k) for k in range(len(frame))])
    p = only(run(daily=history(8.3, days=100, noise=False), inventory=today_stock(frame), inventory_history=frame,
                 settings=rules(depths=(0.1, 0.2), amount_off=False)))
    assert 8.3 < p.inputs["lowest_stock"] < 13


def test_a_unit_taken_from_a_sibling_costs_the_siblings_margin():
    """Siblings lose 20 % of A1's extra units (A2's past promotions say so). A unit A2 loses is worth A2's margin, not
    A1's: where A2 earns $8 less a unit, A1's coupon costs 20 % × its extra units × $8 less."""
    family = history(10, days=100, noise=False, asins=("A1", "A2"), parent="P")
    measured = pd.DataFrame({"asin": ["A2"] * 20, "measurable": True, "units": 300.0, "expected_units": 200.0,
                             "dip_units": 0.0, "cannibalised_units": 20.0})
    settings = rules(elasticity_sd=0.0, depths=(0.2,), amount_off=False, pull_forward=0.0, pull_forward_sd=0.2)

    def a1(a2_cost):
        econ = pd.concat([economics("A1", unit_cost=1.0), economics("A2", unit_cost=a2_cost)], ignore_index=True)
        proposals, _ = run(daily=family, econ=econ, settings=settings, measured=measured)
        return next(p for p in proposals if p.asin == "A1")

    same, cheaper = a1(1.0), a1(9.0)
    share = same.inputs["pull_forward"]
    assert share == pytest.approx(0.2, abs=0.01) and cheaper.inputs["pull_forward"] == share
    extra = same.baseline_units * 7 * same.expected_lift
    assert cheaper.expected_profit - same.expected_profit == pytest.approx(extra * share * 8.0, rel=1e-6)
