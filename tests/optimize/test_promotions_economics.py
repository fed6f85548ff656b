"""Promotion fees, the break-even lift, unit margins and the elasticity estimate."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from marketing.optimize.margin import fees_per_unit
from marketing.optimize.promotions import (
    PRIOR_ELASTICITY,
    Fee,
    bend_stats,
    break_even_lift,
    elasticities,
    measure,
    promotion_fee,
)
from marketing.optimize.promotions.economics import AMOUNT, PERCENT, discount_share, unit_margin
from marketing.optimize.promotions.elasticity import lift
from tests.optimize.promo_data import START, economics, history, plant, window

COUPON_2025 = Fee(fixed=5.0, variable_pct=0.025, variable_cap=2000.0)  # from 2 Jun 2025 (cap from 5 Nov 2025)
COUPON_OLD = Fee(per_redemption=0.60)  # until June 2025
DEAL_2025 = Fee(per_day=70.0, variable_pct=0.01, variable_cap=2000.0)


def test_the_coupon_fee_is_fixed_plus_a_capped_share_of_sales():
    assert promotion_fee(COUPON_2025, days=14, sales=1000.0, redemptions=80) == pytest.approx(5 + 25)
    assert promotion_fee(COUPON_2025, days=14, sales=200_000.0, redemptions=9000) == pytest.approx(5 + 2000)
    uncapped = Fee(fixed=5.0, variable_pct=0.025)
    assert promotion_fee(uncapped, days=14, sales=200_000.0, redemptions=0) == pytest.approx(5 + 5000)


def test_a_fee_row_from_the_table_becomes_floats_and_rejects_nonsense():
    fee = Fee(fixed=Decimal("5.00"), variable_pct=Decimal("0.0250"), variable_cap=Decimal("2000"))
    assert fee == COUPON_2025 and isinstance(fee.fixed, float)
    assert promotion_fee(fee, days=14, sales=1000.0, redemptions=0) == pytest.approx(30.0)
    with pytest.raises(ValueError, match="per day"):
        Fee(per_day=-70)
    with pytest.raises(ValueError, match="variable pct"):
        Fee(variable_pct=float("nan"))


def test_the_fee_follows_the_schedule_the_caller_picked_for_the_date():
    """The engine prices with the row it is given: the old per-redemption coupon fee and the 2025 one differ."""
    assert promotion_fee(COUPON_OLD, days=14, sales=1000.0, redemptions=80) == pytest.approx(48.0)
    assert promotion_fee(DEAL_2025, days=7, sales=5000.0, redemptions=0) == pytest.approx(490 + 50)
    fees = promotion_fee(DEAL_2025, days=np.array([1, 7]), sales=np.array([0.0, 1e6]), redemptions=0)
    assert fees == pytest.approx([70.0, 490 + 2000])


def test_break_even_lift_formula():
    # m0 = $6 a unit, m1 = $2.60 after 20 % off, 70 baseline units, $490 of fixed fees: (6·70 + 490) / (2.6·70)
    assert break_even_lift(6.0, 2.6, 70.0, 490.0) == pytest.approx((420 + 490) / 182)
    assert break_even_lift(6.0, 6.0, 70.0, 0.0) == pytest.approx(1.0)  # no discount, no fee: no lift needed
    assert np.isnan(break_even_lift(6.0, 0.0, 70.0, 0.0))  # a unit at a loss never breaks even
    assert np.isnan(break_even_lift(6.0, 2.0, 0.0, 5.0))


def test_unit_margin_reuses_the_fees_per_unit_rule():
    assert unit_margin(20.0, 8.0, 0.15, 3.0) == pytest.approx(20 - 8 - fees_per_unit(20.0, 15, 3.0))
    assert unit_margin(20.0, 8.0, 0.15, 3.0, 0.2) == pytest.approx(16 - 8 - 0.15 * 16 - 3)
    assert np.isnan(unit_margin(20.0, np.nan, 0.15, 3.0))
    # not entered: the referral fee counts as Amazon's usual 15 %, the FBA fee as 0
    assert unit_margin(20.0, 8.0, np.nan, np.nan) == pytest.approx(12.0 - 3.0)
    assert fees_per_unit(20.0, None, None) == pytest.approx(3.0) and fees_per_unit(20.0, 0, None) == 0.0
    assert fees_per_unit(None, None, None) == 0.0 and isinstance(fees_per_unit(20, 15, 3), float)
    assert list(fees_per_unit(np.array([20.0, 20.0]), np.array([np.nan, 8.0]), 0.0)) == pytest.approx([3.0, 1.6])


def test_a_discount_type_applies_to_the_price_one_way():
    """Percent off needs no price; an amount off is a share of the price, NaN without one; Decimal stays exact."""
    assert discount_share(PERCENT, 20.0) == pytest.approx(0.2) and discount_share(PERCENT, 20.0, None) == 0.2
    assert discount_share(AMOUNT, 5.0, 25.0) == pytest.approx(0.2)
    assert all(np.isnan(discount_share(AMOUNT, 5.0, price)) for price in (None, np.nan, 0.0))
    assert discount_share(AMOUNT, Decimal("5"), Decimal("20")) == Decimal("0.25")
    assert Decimal("20") * (1 - discount_share(PERCENT, Decimal("15"))) == Decimal("17.00")
    # past the price: a plan's check sees a negative net price; a running promotion (floor) sells at 0
    assert discount_share(AMOUNT, Decimal("30"), Decimal("20")) == Decimal("1.5")
    assert discount_share(AMOUNT, Decimal("30"), Decimal("20"), floor=True) == 1


def deal_history(asins, elasticity, depths, *, rate=20.0, seed=0, noise=True):
    """One ASIN per name, a 7-day deal every 8 weeks at the given depths, lifted at `elasticity`."""
    daily = history(rate, asins=asins, days=56 * (len(depths) + 1), seed=seed, noise=noise)
    windows = []
    for a in asins:
        for n, depth in enumerate(depths):
            start = START + timedelta(days=56 * (n + 1) - 28)
            daily = plant(daily, a, start, start + timedelta(days=6), multiplier=(1 - depth) ** elasticity,
                          price_factor=1 - depth, seed=seed + 7 * n + 100 * asins.index(a), noise=noise)
            windows.append(window(f"{a}-{n}", a, start, type="BEST_DEAL", discount=np.nan))
    return daily, pd.DataFrame(windows)


def test_elasticity_is_recovered_from_planted_deals():
    daily, windows = deal_history(["A1", "A2"], -2.5, [0.1, 0.2, 0.3, 0.15], noise=False)
    estimate = elasticities(measure(daily, windows, economics("A1", "A2")))
    assert estimate["A1"] == pytest.approx(-2.5, abs=0.15)
    assert estimate["A2"] == pytest.approx(-2.5, abs=0.15)


def test_elasticity_shrinks_toward_the_seller_then_the_prior():
    """A1 has one shallow noisy deal; the seller's other ASINs show −2: A1 lands near −2, not at its own value.
    Without any history every ASIN gets the prior."""
    daily, windows = deal_history([f"S{i}" for i in range(8)], -2.0, [0.2, 0.3], seed=3)
    lone, lone_windows = deal_history(["A1"], -6.0, [0.05], rate=3.0, seed=4)
    measured = measure(pd.concat([daily, lone]), pd.concat([windows, lone_windows]),
                       economics(*[f"S{i}" for i in range(8)], "A1"))
    estimate = elasticities(measured, asins=["NEW"])
    seller = estimate.drop(["A1", "NEW"]).mean()
    assert seller == pytest.approx(-2.0, abs=0.4)
    assert abs(estimate["A1"] - seller) < abs(estimate["A1"] - (-6.0))
    assert estimate["NEW"] == pytest.approx(seller, abs=0.3)  # no history of its own: the seller's
    nothing = elasticities(measured.iloc[:0], asins=["A1"])
    assert nothing["A1"] == pytest.approx(PRIOR_ELASTICITY)


def test_elasticities_ignore_unmeasurable_rows_and_tiny_discounts():
    daily, windows = deal_history(["A1"], -3.0, [0.2], noise=False)
    measured = measure(daily, windows, economics("A1"))
    broken = measured.assign(measurable=False)
    assert elasticities(broken)["A1"] == pytest.approx(PRIOR_ELASTICITY)
    tiny = measured.assign(effective_discount=0.001)
    assert elasticities(tiny)["A1"] == pytest.approx(PRIOR_ELASTICITY)
    assert elasticities(pd.DataFrame()).empty


def test_the_elasticity_spread_narrows_with_history():
    daily, windows = deal_history(["A1"], -3.0, [0.1, 0.2, 0.3, 0.25], seed=2)
    lone, lone_windows = deal_history(["A2"], -3.0, [0.1], rate=3.0, seed=5)
    measured = measure(pd.concat([daily, lone]), pd.concat([windows, lone_windows]), economics("A1", "A2"))
    frame = elasticities(measured, asins=["NEW"], with_sd=True)
    assert list(frame.columns) == ["elasticity", "sd", "curvature"]
    assert frame.loc["A1", "sd"] < frame.loc["A2", "sd"] < frame.loc["NEW", "sd"]
    assert frame["elasticity"].equals(elasticities(measured, asins=["NEW"]))
    nothing = elasticities(measured.iloc[:0], asins=["X"], with_sd=True)
    assert nothing.loc["X", "sd"] == pytest.approx(np.sqrt(1.0 + 1.5 ** 2))  # no data: between-ASIN and prior


def _promotions(curve, depths, *, asins=30, seed=0):
    """Measured rows for `asins` ASINs, each with two promotions at depths drawn from `depths`, whose units follow
    `curve(d)` × the counterfactual exactly."""
    rng = np.random.default_rng(seed)
    d = rng.choice(depths, size=(asins, 2))
    return pd.DataFrame({"asin": np.repeat([f"A{k}" for k in range(asins)], 2), "measurable": True,
                         "effective_discount": d.ravel(), "lift": [curve(x) - 1 for x in d.ravel()],
                         "expected_units": 100.0, "lift_se": 0.05})


def test_a_bend_in_the_demand_curve_is_read_from_the_agencys_promotions():
    """Demand that answers a discount in proportion to it (units × (1 + 3.4·d)) bends the log form, and a straight
    line through deep and shallow promotions misreads the shallow ones. Read with its bend, a 5 % discount's lift
    is right within 10 %, where the line misses it by a quarter; constant-elasticity promotions read no bend. The
    bend's sums add up, so other sellers' `bend_stats` as peers give the bend of all their promotions together."""
    depths = [0.03, 0.08, 0.15, 0.25, 0.3]
    linear = _promotions(lambda d: 1 + 3.4 * d, depths)
    bent = elasticities(linear, with_sd=True)
    line = elasticities(linear, with_sd=True, curvature_sd=0.0)
    assert bent["curvature"].iloc[0] < -2 and (line["curvature"] == 0).all()
    one = bent.index[0]
    assert lift(0.05, bent.loc[one, "elasticity"], bent["curvature"].iloc[0]) == pytest.approx(0.17, rel=0.1)
    assert abs(lift(0.05, line.loc[one, "elasticity"]) / 0.17 - 1) > 0.25
    constant = elasticities(_promotions(lambda d: (1 - d) ** -3.4, depths), with_sd=True)
    assert constant["curvature"].iloc[0] > -0.5
    assert constant["elasticity"].mean() == pytest.approx(-3.4, abs=0.2)
    few = linear.iloc[:4]
    rest = [linear.iloc[4:30], linear.iloc[30:]]
    pooled = elasticities(few, with_sd=True, peers=[bend_stats([part]) for part in rest])["curvature"].iloc[0]
    assert pooled == pytest.approx(elasticities(few, with_sd=True, peers=[bend_stats(rest)])["curvature"].iloc[0])
    assert pooled == pytest.approx(bent["curvature"].iloc[0])  # what all the promotions together show
    assert bend_stats([None, few.iloc[:0]]) is None
    # past the bend's top a deeper discount lifts no more
    assert lift(0.9, -3.0, -6.0) == pytest.approx(lift(1 - np.exp(-0.25), -3.0, -6.0))
