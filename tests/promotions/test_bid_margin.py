"""Bid suggestions during a promotion: the ad group's margin uses the promoted price, and the suggestion says so."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from marketing.models import (
    AdsProfile,
    Connection,
    Product,
    SpAdGroup,
    SpCampaign,
    SpProductAd,
    SpTarget,
    SpTargetDaily,
    Suggestion,
)
from tests.bids.conftest import sum_weeks
from tests.promotions.conftest import TODAY

PROFILE = 2_222_222_222_222


def _advertised(db, seller):
    """B0COST (20.00, unit cost 14.00) advertised by one keyword: 100 clicks, 10 orders of 20.00, 30.00 spent."""
    connection = Connection(seller_id=seller.id, api="ads")
    connection.profiles = [AdsProfile(profile_id=PROFILE, country_code="US", currency_code="USD", timezone="UTC",
                                      marketplace_id="ATVPDKIKX0DER", account_type="seller", managed=True)]
    db.session.add_all([
        connection,
        SpCampaign(profile_id=PROFILE, seller_id=seller.id, campaign_id=7, name="C", state="ENABLED",
                   targeting_type="MANUAL"),
        SpAdGroup(profile_id=PROFILE, seller_id=seller.id, ad_group_id=8, campaign_id=7, name="G", state="ENABLED",
                  default_bid=Decimal("0.50")),
        SpProductAd(profile_id=PROFILE, seller_id=seller.id, ad_id=81, campaign_id=7, ad_group_id=8, asin="B0COST",
                    state="ENABLED"),
        SpTarget(profile_id=PROFILE, seller_id=seller.id, target_id=100, kind="keyword", campaign_id=7,
                 ad_group_id=8, text="tent", match_type="EXACT", state="ENABLED", bid=Decimal("0.50")),
        Product(seller_id=seller.id, asin="B0COST", unit_cost=Decimal("14"), price=Decimal("20"),
                referral_fee_pct=Decimal(0), currency_code="USD"),  # an all-in cost
    ])
    for days_ago in range(4, 14):
        db.session.add(SpTargetDaily(
            profile_id=PROFILE, date=TODAY - dt.timedelta(days=days_ago), target_id=100, campaign_id=7,
            ad_group_id=8, impressions=1000, clicks=10, cost=Decimal("3.00"), orders=1, units=1,
            sales=Decimal("20.00")))
    db.session.commit()
    sum_weeks(db)


def test_a_running_coupon_prices_the_margin_and_the_suggestion_says_so(db, seller, rows):
    from marketing.bids import inputs, suggest

    _advertised(db, seller)
    assert inputs.load(seller.id, 30).set_index("target_id").loc[100, "price"] == 20.0
    rows.promotion("C-NOW", ["B0COST"], TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=5), discount="25")
    frame = inputs.load(seller.id, 30).set_index("target_id")
    assert frame.loc[100, "price"] == 15.0
    assert frame.loc[100, "promotion"] == "B0COST's coupon (25% off) until 2026-03-20"
    suggest.run_suggestions(seller.id)
    suggestion = db.session.scalar(select(Suggestion).where(Suggestion.kind == "bid"))
    assert suggestion.direction == "down"
    assert suggestion.explanation.endswith(
        "Margin at the promoted price during B0COST's coupon (25% off) until 2026-03-20.")


def test_an_entered_plan_counts_and_an_ended_promotion_does_not(db, seller, rows):
    from marketing.bids import inputs
    from marketing.models import PromotionPlan

    _advertised(db, seller)
    rows.promotion("C-OLD", ["B0COST"], TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=20))
    db.session.add(PromotionPlan(
        seller_id=seller.id, marketplace_id="ATVPDKIKX0DER", type="COUPON", asins=["B0COST"],
        discount_type="AMOUNT_OFF_LIST_PRICE", discount_amount=Decimal("4"), start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=3), budget=Decimal(100), currency_code="USD", state="entered"))
    db.session.commit()
    frame = inputs.load(seller.id, 30).set_index("target_id")
    assert frame.loc[100, "price"] == 16.0
    assert frame.loc[100, "promotion"] == "B0COST's coupon (4 USD off) until 2026-03-18"
