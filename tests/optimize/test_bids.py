"""The bid engine, scenario by scenario (one ad group of 10%-CVR, $30-order siblings as context)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from marketing.optimize.bids import suggest_bids
from marketing.optimize.settings import BidSettings
from tests.optimize.helpers import TODAY, account, random_account, sentence, suggest, target

STEADY = {"clicks": 400, "orders": 40, "impressions": 40000}  # ~10% CVR, $30 AOV → a click is worth ~$3
# target() charges 80% of the bid per click, so 30% ACoS on the expected CPC allows 30% / 80% = 37.5% of a click's worth


def ideal_bid(**row) -> float:
    return suggest(target("probe", **row)).loc["probe", "ideal_bid"]


def test_raise_profitable_moves_toward_the_ideal_bid():
    ideal = ideal_bid(**STEADY)
    assert ideal == pytest.approx(1.125, abs=0.02)  # 10% × $30 × 30% / 80%
    s = suggest(target("k", bid=round(ideal / 1.1, 2), **STEADY)).loc["k"]
    assert (s.reason, s.direction, s.limited_by) == ("RAISE_PROFITABLE", "up", "")
    assert Decimal(s.suggested_bid) == Decimal(str(float(ideal))).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_dead_band_holds_small_changes():
    ideal = ideal_bid(**STEADY)
    s = suggest(target("k", bid=round(ideal / 1.03, 2), **STEADY)).loc["k"]
    assert (s.reason, s.direction) == ("HOLD_DEAD_BAND", "hold") and pd.isna(s.suggested_bid)
    assert "within ±5%" in s.explanation


def test_step_cap_limits_a_change_to_25_percent():
    s = suggest(target("k", bid=0.40, **STEADY)).loc["k"]
    assert (s.reason, s.suggested_bid, s.limited_by) == ("RAISE_PROFITABLE", "0.50", "step_cap")
    assert sentence(s.explanation).endswith("raise $0.40 → $0.50 (+25% cap).")


def test_seller_ceiling_and_floor():
    capped = suggest(target("k", bid=0.40, **STEADY), settings=BidSettings(max_bid=0.45)).loc["k"]
    assert (capped.suggested_bid, capped.limited_by) == ("0.45", "max_bid")
    low = suggest(target("k", bid=0.20, **STEADY), settings=BidSettings(min_bid=0.30)).loc["k"]
    assert (low.reason, low.suggested_bid) == ("CLAMPED_MIN", "0.30")
    high = suggest(target("k", bid=2.00, **STEADY), settings=BidSettings(max_bid=1.50)).loc["k"]
    assert (high.reason, high.suggested_bid) == ("CLAMPED_MAX", "1.50")
    assert sentence(high.explanation) == "$2.00 is above the maximum bid of $1.50; lower it to $1.50."


def test_marketplace_range_and_yen_increments_from_columns():
    jp = {"min_bid": 2, "max_bid": 100000, "bid_increment": 1, "price": 3000.0}
    rows = [target(f"sib{i}", clicks=50, orders=5, sales=15000.0, bid=100.0, **jp) for i in range(20)]
    rows += [target("k", bid=61.0, clicks=400, orders=40, sales=120000.0, **jp)]  # worth ~¥90 per click at 30%
    rows += [target("tiny", bid=1.0, clicks=50, orders=5, sales=15000.0, **jp)]
    rows += [target("dear", bid=1500.0, clicks=50, orders=25, sales=750000.0, cost=1000.0, **jp)]
    out = suggest_bids(account(*rows, siblings=0), BidSettings(currency_symbol="¥"), today=TODAY).set_index("target_id")
    assert out.loc["k", "suggested_bid"] == "76"  # 61 × 1.25 = 76.25, capped down to whole yen
    assert out.loc["tiny", "reason"] == "CLAMPED_MIN" and out.loc["tiny", "suggested_bid"] == "2"
    assert "raise ¥61 → ¥76 (+25% cap)" in out.loc["k", "explanation"]
    assert out.loc["dear", "suggested_bid"] == "1875"  # above the settings' default (US) ceiling of 1000


def test_cooldown_after_an_applied_change():
    recent = suggest(target("k", bid=0.40, last_change_date=TODAY - timedelta(days=2), **STEADY)).loc["k"]
    assert recent.reason == "HOLD_COOLDOWN" and pd.isna(recent.suggested_bid)
    assert recent.explanation.startswith(f"The bid changed on {TODAY - timedelta(days=2)}; waiting 3 days")
    stamp = datetime(2025, 5, 29, 23, 0, tzinfo=UTC)  # timestamps with a zone work too
    assert suggest(target("k", bid=0.40, last_change_date=stamp, **STEADY)).loc["k", "reason"] == "RAISE_PROFITABLE"


def test_inherited_bid_gets_an_explicit_keyword_bid():
    s = suggest(target("k", bid=np.nan, **STEADY)).loc["k"]  # ad group default $0.50
    assert s.current_bid == 0.50 and s.suggested_bid == "0.62" and s.inherited_bid
    assert sentence(s.explanation).endswith("Sets an explicit keyword bid instead of the ad group default.")
    held = suggest(target("k", bid=np.nan, ad_group_default_bid=2.0, clicks=4, impressions=900)).loc["k"]
    assert held.direction == "hold" and not held.inherited_bid


def test_four_clicks_without_orders_is_held_not_cut():
    s = suggest(target("k", bid=1.5, clicks=4, impressions=900)).loc["k"]
    assert s.reason == "HOLD_LEARNING" and s.cvr > 0.05 and s.ideal_bid < 1.5
    assert sentence(s.explanation) == (
        f"4 clicks and 0 orders in 27 days is not yet evidence: CVR could still be up to {s.cvr_high:.1%} "
        "(break-even 13.3%); keep $1.50."  # $1.50 / ($30 × 30% / 80%)
    )


def test_no_orders_yet_is_valued_at_the_ad_groups_conversion_rate():
    # 3 clicks and no order: the posterior is mostly the ad group's ~10%, so a $0.40 bid is too low
    s = suggest(target("k", bid=0.40, clicks=3, impressions=900)).loc["k"]
    assert (s.reason, s.suggested_bid, s.limited_by) == ("RAISE_PROFITABLE", "0.50", "step_cap")
    assert 0.07 < s.cvr < 0.10
    assert s.explanation.startswith("0 orders from 3 clicks in 27 days (ACoS n/a): at an estimated")


def test_no_orders_steps_down_only_with_enough_evidence():
    few = suggest(target("k", bid=1.20, clicks=8, impressions=3000)).loc["k"]
    assert few.reason == "HOLD_LEARNING" and few.ideal_bid < 1.20
    # 12 clicks is enough to act on the estimate (shrunk toward the ad group), not to rule the keyword out
    some = suggest(target("k", bid=1.20, clicks=12, impressions=3000)).loc["k"]
    assert some.cvr_high >= some.break_even_cvr and some.ideal_bid < 1.20
    assert (some.reason, some.direction) == ("LOWER_UNPROFITABLE", "down")
    many = suggest(target("k", bid=1.20, clicks=30, impressions=3000)).loc["k"]
    assert many.cvr_high < many.break_even_cvr
    assert (many.reason, many.suggested_bid, many.limited_by) == ("LOWER_NO_ORDERS", "0.90", "step_cap")
    cheap = suggest(target("k", bid=0.10, clicks=30, impressions=3000)).loc["k"]
    assert cheap.reason == "RAISE_PROFITABLE"  # a $0.10 click needs only ~1% CVR: the estimate is still above
    guarded = suggest(target("k", bid=1.20, clicks=30), settings=BidSettings(min_clicks_for_no_order_cut=50))
    assert guarded.loc["k", "reason"] == "HOLD_LEARNING"


def test_explanation_of_a_no_order_cut_has_the_numbers():
    s = suggest(target("k", bid=1.20, clicks=30, impressions=3000)).loc["k"]
    assert sentence(s.explanation) == (
        f"30 clicks and 0 orders in 27 days: even optimistically (CVR ≤ {s.cvr_high:.1%}) this keyword can't "
        "reach 30% ACoS at $1.20; lower to $0.90 (−25% cap)."
    )


def test_low_impressions_step_up_for_visibility_within_the_cap():
    s = suggest(target("k", bid=0.40, impressions=30, clicks=0)).loc["k"]
    assert (s.reason, s.suggested_bid, s.change_pct) == ("RAISE_VISIBILITY", "0.46", pytest.approx(0.15))
    assert sentence(s.explanation) == (
        "Only 30 impressions in 27 days, too few to learn from: raise $0.40 → $0.46 (+15%) for visibility."
    )
    wide = suggest(target("k", bid=0.40, impressions=30), settings=BidSettings(visibility_step=0.25)).loc["k"]
    assert wide.suggested_bid == "0.50"
    # a bid no plausible CVR can pay for ($12 a click needs 133% CVR at $30 × 30%) is not raised
    assert suggest(target("k", bid=12.0, impressions=30)).loc["k", "reason"] == "HOLD_LEARNING"


def test_profitable_target_is_held_rather_than_lowered():
    # 3 orders from 10 clicks at 16% ACoS: the ad group says ~10% CVR, the model would lower; ACoS says keep
    s = suggest(target("k", bid=2.00, clicks=10, orders=3, impressions=2000, cost=14.4)).loc["k"]
    assert s.ideal_bid < 2.00 and s.reason == "HOLD_PROFITABLE"
    assert sentence(s.explanation) == "ACoS 16% already meets the 30% target; keep $2.00."


def test_lower_unprofitable_explains_the_value_of_a_click():
    s = suggest(target("k", bid=2.00, clicks=300, orders=15, impressions=30000)).loc["k"]
    assert (s.reason, s.suggested_bid) == ("LOWER_UNPROFITABLE", "1.50")
    assert re.fullmatch(
        r"15 orders from 300 clicks in 27 days \(ACoS 107%\): at an estimated [\d.]+% CVR and \$30\.00 per order "
        r"a click is worth \$[\d.]+ and clicks cost ~80% of the bid, so 30% ACoS allows \$0\.[\d]{2}; "
        r"lower \$2\.00 → \$1\.50 \(−25% cap\)\.",
        sentence(s.explanation),
    )
    assert s.expected_spend_delta_per_day < 0 and s.expected_sales_delta_per_day < 0


def test_order_value_falls_back_from_target_to_ad_group_to_campaign_to_price():
    rows = [
        target("own", clicks=50, orders=5, sales=200.0, ad_group_id="g0", campaign_id="c0"),
        target("group", clicks=20, ad_group_id="g2", campaign_id="c1"),
        target("price", clicks=20, ad_group_id="g3", campaign_id="c3", price=19.99),
        target("none", clicks=20, ad_group_id="g4", campaign_id="c4", price=np.nan),
    ]
    out = suggest(*rows)
    assert out.loc["own", "aov"] == 40.0
    assert out.loc["group", "aov"] == 30.0  # its campaign c1 (the siblings)
    assert out.loc["price", "aov"] == 19.99
    assert out.loc["none", "reason"] == "HOLD_NO_VALUE"


def test_target_acos_override_order_row_then_campaign_then_seller():
    rows = [target("row", target_acos=0.5, **STEADY), target("camp", **STEADY), target("default", **STEADY)]
    rows[2] |= {"campaign_id": "c2"}
    out = suggest(*rows, campaign_acos={"c1": 0.4})
    assert list(out.loc[["row", "camp", "default"], "target_acos"]) == [0.5, 0.4, 0.3]
    with pytest.raises(ValueError, match="Target ACoS of campaign c1 can't be above 100%"):
        suggest(target("k"), campaign_acos={"c1": 30})
    with pytest.raises(ValueError, match="Target ACoS of target k must be above 0%"):
        suggest(target("k", target_acos=0.0))


def test_paused_and_automatic_targets_get_nothing_and_holds_can_be_left_out():
    out = suggest(target("paused", state="paused", **STEADY), target("auto", manual=False, **STEADY))
    assert out.empty
    moves = suggest(target("k", bid=0.40, **STEADY), target("h", bid=1.12, **STEADY), include_holds=False)
    assert list(moves.index) == ["k"]


def test_suggestion_keeps_its_inputs():
    s = suggest(target("k", bid=0.40, profile_id=7, text="blue mug", **STEADY)).loc["k"]
    assert (s.profile_id, s.text) == (7, "blue mug")  # caller's own columns pass through
    assert (str(s.window_start.date()), str(s.window_end.date())) == ("2025-05-02", "2025-05-28")
    assert (s.clicks, s.orders, s.cost, s.sales) == (400, 40, 128.0, 1200.0)
    assert s.prior_alpha > 0 and s.prior_beta > 0 and s.cvr_low < s.cvr < s.cvr_high
    assert s.expected_spend_delta_per_day > 0 and s.expected_sales_delta_per_day > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_properties_on_random_accounts(seed):
    settings = BidSettings(min_bid=0.10, max_bid=5.0)
    frame = random_account(seed)
    out = suggest_bids(frame, settings, today=TODAY)
    moved = out[out["direction"] != "hold"]
    new = moved["suggested_bid"].map(Decimal).astype(float)
    assert new.between(0.10, 5.0).all()
    free = ~moved["reason"].isin(["CLAMPED_MIN", "CLAMPED_MAX"])
    assert ((new[free] / moved.loc[free, "current_bid"] - 1).abs() <= 0.25 + 1e-9).all()
    profitable = (out["orders"] > 0) & (out["acos"] <= out["target_acos"]) & (out["current_bid"] <= 5.0)
    assert not (profitable & (out["direction"] == "down")).any()
    assert out.equals(suggest_bids(frame, settings, today=TODAY))
    assert out["explanation"].str.len().gt(20).all()


def test_expected_cpc_not_the_bid_meets_the_target_acos():
    # clicks cost 60% of the bid (a second-price auction): 30% ACoS on what clicks cost allows 30% / 60% of a
    # click's worth; the target's own 400 clicks outweigh the ad group's 80%
    s = suggest(target("k", bid=1.00, cost=400 * 0.60, **STEADY)).loc["k"]
    assert 0.60 < s.cpc_ratio < 0.62
    assert s.ideal_bid == pytest.approx(s.value_per_click * 0.30 / s.cpc_ratio)
    assert "a click is worth $3.00 and clicks cost ~61% of the bid, so 30% ACoS allows $1.48;" in s.explanation
    # no clicks of its own: the ad group's ratio
    assert suggest(target("new", bid=1.00, clicks=0)).loc["new", "cpc_ratio"] == pytest.approx(0.80, abs=0.01)


def test_a_tiny_cpc_ratio_does_not_multiply_the_bid():
    # clicks at 10% of the bid say the bid is far above the competition: it is not raised to 10× a click's worth
    s = suggest(target("k", bid=1.00, cost=400 * 0.10, **STEADY), settings=BidSettings(max_step=0.9)).loc["k"]
    assert s.cpc_ratio == 0.5  # the settings' floor
    assert s.ideal_bid == pytest.approx(s.value_per_click * 0.30 / 0.5)


def test_margin_caps_the_bid_below_the_acos_target():
    # $30 price, $19.50 unit cost + $3 fees: 25% margin before ads. A click is worth ~$3; the most profitable bid in
    # a second-price auction is what the click earns (25% of its sales), below what 30% ACoS would allow.
    known = {"unit_cost": 19.50, "fees": 3.0}
    s = suggest(target("k", bid=1.00, **STEADY, **known)).loc["k"]
    assert s.break_even_acos == pytest.approx(0.25)
    assert s.ideal_bid == pytest.approx(s.value_per_click * 0.25)
    assert (s.reason, s.suggested_bid) == ("LOWER_UNPROFITABLE", "0.75")
    assert re.search(
        r"a click is worth \$3\.00; at a 25% margin before ads, with clicks costing ~80% of the bid and the next "
        r"click 1\.25× the average, the most profitable bid is \$0\.75 \(the 30% ACoS "
        r"cap would allow more\); lower \$1\.00 → \$0\.75 \(−25%\)\.$",
        sentence(s.explanation),
    )
    held = suggest(target("k", bid=2.00, clicks=10, orders=3, impressions=2000, cost=14.4, **known)).loc["k"]
    assert sentence(held.explanation) == "ACoS 16% is already profitable at a 25% margin before ads; keep $2.00."
    # a wide margin leaves the ACoS target in charge; an unknown or negative one is ignored
    rich = suggest(target("k", bid=1.00, unit_cost=5.0, **STEADY)).loc["k"]
    assert rich.ideal_bid == pytest.approx(rich.value_per_click * 0.30 / 0.8)
    loss = suggest(target("k", bid=1.00, unit_cost=40.0, **STEADY)).loc["k"]
    assert np.isnan(loss.break_even_acos) and loss.ideal_bid == pytest.approx(rich.ideal_bid)


def test_older_history_is_conversion_evidence():
    # 4 clicks in the window, but 200 clicks and 30 orders over the longer history: a 15% keyword, raise it
    row = {"bid": 1.00, "clicks": 4, "impressions": 900, "history_clicks": 200, "history_orders": 30}
    s = suggest(target("k", history_sales=900.0, **row)).loc["k"]
    assert 0.13 < s.cvr < 0.15 and s.reason == "RAISE_PROFITABLE"
    assert (s.evidence_clicks, s.evidence_orders) == (200, 30)
    assert s.explanation.startswith(
        "0 orders from 4 clicks in 27 days (ACoS n/a); 30 orders from 200 clicks with older data: at an estimated"
    )
    # and 200 clicks without an order is evidence too, where 4 clicks alone would be held
    cut = suggest(target("k", bid=1.00, clicks=4, impressions=900, history_clicks=200, history_orders=0)).loc["k"]
    assert cut.reason == "LOWER_NO_ORDERS"


def test_one_odd_order_value_is_shrunk_toward_the_ad_group():
    # one $120 order (another product bought after the click) in the ad group of $30 orders: (120 + 3 × pooled) / 4
    s = suggest(target("k", clicks=20, orders=1, sales=120.0)).loc["k"]
    pooled = (100 * 30.0 + 120.0) / 101  # the 20 siblings' 100 orders and this one
    assert s.aov == pytest.approx((120.0 + 3 * pooled) / 4)
    assert suggest(target("k", clicks=20, orders=1, sales=120.0), settings=BidSettings(aov_prior_orders=0)).loc[
        "k", "aov"
    ] == pytest.approx(120.0)
