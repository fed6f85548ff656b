"""The products page's observed price and the bid engine's come from the by-ASIN sales history over the whole
30 days, and an ASIN out of stock there keeps the price it last sold at instead of falling back to ad sales."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from marketing.bids import inputs
from marketing.clock import set_today
from marketing.models import (
    AdsProfile,
    Connection,
    SalesTrafficAsinDaily,
    SalesTrafficAsinWeekly,
    SpAdGroup,
    SpCampaign,
    SpProductAd,
    SpProductDaily,
)

TODAY = dt.date(2026, 3, 15)
PROFILE = 2_222_222_222_222
US = "ATVPDKIKX0DER"
BOOT, TENT, LAMP = "B000BOOT01", "B000TENT01", "B000LAMP01"


@pytest.fixture(autouse=True)
def pinned_today():
    set_today(TODAY)
    yield
    set_today(None)


def day(days_ago: int) -> dt.date:
    return TODAY - dt.timedelta(days=days_ago)


@pytest.fixture
def seller(db, make_seller):
    """Boots: 20.00 for four weeks, then a two-day deal at 10.00. Tent: sold at 80.00 until 40 days ago, out of
    stock since (its ads still claim sales at 50.00). Lamp: only the weekly history knows it (15.00)."""
    seller = make_seller("Trail Co")
    connection = Connection(seller_id=seller.id, api="ads")
    connection.profiles = [AdsProfile(profile_id=PROFILE, country_code="US", currency_code="USD",
                                      timezone="America/Los_Angeles", marketplace_id=US, account_type="seller",
                                      managed=True)]
    db.session.add(connection)
    db.session.add_all([
        SpCampaign(profile_id=PROFILE, seller_id=seller.id, campaign_id=1, name="Gear", state="ENABLED",
                   targeting_type="MANUAL"),
        *[SpAdGroup(profile_id=PROFILE, seller_id=seller.id, ad_group_id=g, campaign_id=1, name=f"g{g}",
                    state="ENABLED", default_bid=Decimal("0.50")) for g in (2, 3, 4)],
        *[SpProductAd(profile_id=PROFILE, seller_id=seller.id, ad_id=10 + g, campaign_id=1, ad_group_id=g,
                      asin=asin, state="ENABLED") for g, asin in ((2, BOOT), (3, TENT), (4, LAMP))],
    ])

    def sold(asin, days_ago, units, sales):
        db.session.add(SalesTrafficAsinDaily(seller_id=seller.id, marketplace_id=US, date=day(days_ago), asin=asin,
                                             currency_code="USD", ordered_sales=Decimal(sales), units_ordered=units))

    for days_ago in range(3, 31):  # 28 days at 20.00
        sold(BOOT, days_ago, 2, "40.00")
    for days_ago in (1, 2):  # the deal: 10 units a day at 10.00
        sold(BOOT, days_ago, 10, "100.00")
    for days_ago in range(40, 60):
        sold(TENT, days_ago, 1, "80.00")
    sold(TENT, 5, 0, "0.00")  # in the report, nothing sold: out of stock
    db.session.add(SpProductDaily(profile_id=PROFILE, date=day(5), ad_id=13, campaign_id=1, ad_group_id=3,
                                  asin=TENT, units=2, orders=2, sales=Decimal("100.00")))
    db.session.add(SalesTrafficAsinWeekly(seller_id=seller.id, marketplace_id=US, week_start=day(200), asin=LAMP,
                                          currency_code="USD", ordered_sales=Decimal("45.00"), units_ordered=3))
    db.session.commit()
    return seller


def row(html, asin):
    match = re.search(rf'<tr data-asin="{asin}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {asin}"
    return match.group(1)


@pytest.mark.sqlite
def test_the_products_page_prices_from_the_whole_history(client, db, seller, marketer):
    html = client.get(f"/sellers/{seller.id}/products").get_data(as_text=True)
    boot, tent, lamp = row(html, BOOT), row(html, TENT), row(html, LAMP)
    # (56 × 20 + 20 × 10) / 76 over the 30 days; the last 3 days alone would say 10.91
    assert "17.37 USD" in boot and "Sales &amp; Traffic" in boot
    assert "80.00 USD" in tent and "Sales &amp; Traffic" in tent and "ad sales" not in tent  # not the ads' 50
    assert "15.00 USD" in lamp and "Sales &amp; Traffic" in lamp  # the weekly history


def test_the_bid_engine_prices_from_the_same_history(db, seller):
    prices = inputs._economics(seller.id, TODAY).set_index("ad_group_id")["price"].to_dict()
    assert prices == pytest.approx({2: 1320 / 76, 3: 80.0, 4: 15.0}, abs=0.01)
    sold = {s.asin: s for s in inputs.product_sales(seller.id)}
    assert (sold[TENT].source, sold[TENT].units, sold[TENT].price) == ("sales_traffic", 0, Decimal(80))
