"""The products page: break-even ACoS from costs typed in or imported, audited; target ACoS from a margin."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from marketing import settings_registry
from marketing.clock import set_today
from marketing.models import (
    AdsProfile,
    AuditEvent,
    Connection,
    Product,
    SalesTrafficAsinDaily,
    SpAdGroup,
    SpCampaign,
    SpProductAd,
    SpProductDaily,
    SpTarget,
    SpTargetDaily,
)
from tests.bids.conftest import sum_weeks

TODAY = dt.date(2026, 3, 15)
PROFILE = 1_111_111_111_111
SHOE, SOCK = "B000SHOE01", "B000SOCK01"


@pytest.fixture(autouse=True)
def pinned_today():
    set_today(TODAY)
    yield
    set_today(None)


@pytest.fixture
def seller(db, make_seller):
    """Two advertised ASINs: shoes sold at 20.00 (ads), socks at 5.00 (Sales & Traffic; ads say 4.00)."""
    seller = make_seller("Acme Outdoor")
    connection = Connection(seller_id=seller.id, api="ads")
    connection.profiles = [AdsProfile(profile_id=PROFILE, country_code="US", currency_code="USD",
                                      timezone="America/Los_Angeles", marketplace_id="ATVPDKIKX0DER",
                                      account_type="seller", managed=True)]
    db.session.add(connection)
    db.session.add_all([
        SpCampaign(profile_id=PROFILE, seller_id=seller.id, campaign_id=7, name="Shoes", state="ENABLED",
                   targeting_type="MANUAL"),
        SpAdGroup(profile_id=PROFILE, seller_id=seller.id, ad_group_id=8, campaign_id=7, name="Trail",
                  state="ENABLED", default_bid=Decimal("0.50")),
        SpProductAd(profile_id=PROFILE, seller_id=seller.id, ad_id=81, campaign_id=7, ad_group_id=8, asin=SHOE,
                    state="ENABLED"),
        SpProductAd(profile_id=PROFILE, seller_id=seller.id, ad_id=82, campaign_id=7, ad_group_id=9, asin=SOCK,
                    state="ENABLED"),
    ])
    for days_ago in (1, 10):
        day = TODAY - dt.timedelta(days=days_ago)
        db.session.add_all([
            SpProductDaily(profile_id=PROFILE, date=day, ad_id=81, campaign_id=7, ad_group_id=8, asin=SHOE,
                           units=5, orders=5, sales=Decimal("100.00")),
            SpProductDaily(profile_id=PROFILE, date=day, ad_id=82, campaign_id=7, ad_group_id=9, asin=SOCK,
                           units=10, orders=10, sales=Decimal("40.00")),
            SalesTrafficAsinDaily(seller_id=seller.id, marketplace_id="ATVPDKIKX0DER", date=day, asin=SOCK,
                                  currency_code="USD", ordered_sales=Decimal("50.00"), units_ordered=10),
        ])
    db.session.add(SpProductDaily(profile_id=PROFILE, date=TODAY - dt.timedelta(days=40), ad_id=81, campaign_id=7,
                                  ad_group_id=8, asin=SHOE, units=1, orders=1, sales=Decimal("999.00")))  # too old
    db.session.commit()
    return seller


def product(db, seller, asin):
    db.session.expire_all()
    return db.session.get(Product, (seller.id, asin))


def row(html, asin):
    match = re.search(rf'<tr data-asin="{asin}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {asin}"
    return match.group(1)


@pytest.mark.sqlite
def test_the_page_lists_advertised_asins_with_observed_prices_and_break_even(client, db, seller, marketer):
    db.session.add(Product(seller_id=seller.id, asin=SHOE, unit_cost=Decimal("6.00"), currency_code="USD"))
    db.session.commit()
    html = client.get(f"/sellers/{seller.id}/products").get_data(as_text=True)
    shoe, sock = row(html, SHOE), row(html, SOCK)
    assert "20.00 USD" in shoe and "ad sales" in shoe  # 200 / 10 units in the last 30 days
    assert "55.0%" in shoe  # (20 − 6 − 15 % × 20) / 20: the referral fee not entered counts as Amazon's usual 15 %
    assert 'value="6.00"' in shoe and 'placeholder="15"' in shoe
    assert "5.00 USD" in sock and "Sales &amp; Traffic" in sock  # preferred over the ads' 4.00
    assert re.search(r"data-break-even>—<", sock)
    assert "Products &amp; margins" in client.get(f"/sellers/{seller.id}").get_data(as_text=True)


def test_a_cost_edit_is_stored_and_audited_and_a_blank_clears_it(client, db, seller, marketer):
    response = client.post(f"/sellers/{seller.id}/products", data={f"cost-{SHOE}": "7.5", f"cost-{SOCK}": ""})
    assert response.status_code == 303
    assert product(db, seller, SHOE).unit_cost == Decimal("7.5")
    assert product(db, seller, SHOE).currency_code == "USD"
    assert product(db, seller, SOCK) is None  # blank and unknown: nothing to store
    client.post(f"/sellers/{seller.id}/products", data={f"cost-{SHOE}": ""})
    assert product(db, seller, SHOE).unit_cost is None
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "product.cost_changed")
                                .order_by(AuditEvent.id)).all()
    assert [(e.target_id, e.details["old"], e.details["new"], e.actor_email) for e in events] == [
        (SHOE, None, "7.50", marketer.email), (SHOE, "7.50", None, marketer.email)]


def test_fees_are_edited_on_the_page_audited_and_lower_the_break_even(client, db, seller, marketer):
    form = {f"cost-{SHOE}": "6", f"referral-{SHOE}": "15%", f"fba-{SHOE}": "2.5"}
    assert client.post(f"/sellers/{seller.id}/products", data=form).status_code == 303
    shoe = product(db, seller, SHOE)
    assert (shoe.unit_cost, shoe.referral_fee_pct, shoe.fba_fee) == (6, 15, Decimal("2.5"))
    html = client.get(f"/sellers/{seller.id}/products").get_data(as_text=True)
    assert f'name="referral-{SHOE}"' in html and 'value="15.00"' in row(html, SHOE)
    fees = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "product.fee_changed")).all()
    assert sorted(e.details["fee"] for e in fees) == ["fba_fee", "referral_fee_pct"]
    bad = client.post(f"/sellers/{seller.id}/products", data={**form, f"referral-{SHOE}": "150"})
    assert bad.status_code == 400 and "referral fee % 150 must be at most 100" in unescape(bad.get_data(as_text=True))
    assert product(db, seller, SHOE).referral_fee_pct == 15  # nothing lost


@pytest.mark.parametrize("typed, message", [
    ("abc", "is not a number"), ("-1", "must be at least 0"), ("1.23456", "more than 4 decimals"),
    ("NaN", "is not a number"), ("1e12", "is not a number"), ("1000000000", "must be at most"),
    ("1_0", "is not a number"), ("1,25", "use a dot"), ("３０", "is not a number"),
])
def test_a_bad_cost_saves_nothing_and_keeps_what_was_typed(client, db, seller, marketer, typed, message):
    response = client.post(f"/sellers/{seller.id}/products", data={f"cost-{SHOE}": typed, f"cost-{SOCK}": "2"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and "Nothing was saved" in html
    assert f'value="{typed}"' in row(html, SHOE) and 'value="2"' in row(html, SOCK)
    assert product(db, seller, SOCK) is None


def test_a_viewer_sees_the_page_but_cannot_change_anything(client, db, seller, make_user, login):
    viewer = make_user("viewer@example.com", "viewer", sellers=[seller])
    login(viewer.email)
    html = client.get(f"/sellers/{seller.id}/products").get_data(as_text=True)
    assert SHOE in html and f'name="cost-{SHOE}"' not in html and 'type="file"' not in html
    assert client.get(f"/sellers/{seller.id}/products?format=csv").status_code == 200
    for path, data in (("", {f"cost-{SHOE}": "1"}), ("/import", {}), ("/target-acos", {"margin": "10"})):
        assert client.post(f"/sellers/{seller.id}/products{path}", data=data).status_code == 403
    assert product(db, seller, SHOE) is None


def test_another_sellers_page_is_not_found(client, seller, make_seller, marketer):
    other = make_seller("Someone Else")
    assert client.get(f"/sellers/{other.id}/products").status_code == 404
    assert client.post(f"/sellers/{other.id}/products", data={}).status_code == 404
    assert client.get("/sellers/99999999999999/products").status_code == 404


def upload(client, seller, text: str):
    return client.post(f"/sellers/{seller.id}/products/import",
                       data={"file": (io.BytesIO(text.encode()), "costs.csv")}, content_type="multipart/form-data")


@pytest.mark.sqlite
def test_a_csv_import_stores_costs_and_prices(client, db, seller, marketer):
    response = upload(client, seller, f"asin,unit_cost,price\n{SHOE.lower()},6,25.00\n\n{SOCK},1.25,\n")
    assert response.status_code == 303
    shoe, sock = product(db, seller, SHOE), product(db, seller, SOCK)
    assert (shoe.unit_cost, shoe.price, sock.unit_cost, sock.price) == (Decimal(6), Decimal(25), Decimal("1.25"),
                                                                        None)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("product.cost_changed") == 2 and actions.count("product.price_changed") == 1
    html = client.get(f"/sellers/{seller.id}/products").get_data(as_text=True)
    assert "61.0%" in row(html, SHOE)  # (25 − 6 − 3.75) / 25: the entered price beats the observed 20.00
    exported = client.get(f"/sellers/{seller.id}/products?format=csv").get_data(as_text=True)
    assert f"{SHOE},6.00,25.00,USD,20.00,ad sales,0.6100" in exported
    assert upload(client, seller, exported).status_code == 303  # the download imports back


def test_a_bad_csv_is_refused_whole_with_line_numbers(client, db, seller, marketer):
    response = upload(client, seller, f"{SHOE},6\n{SOCK},-1\nB00UNKNOWN,2\nnot-an-asin,1\n{SHOE},7\n{SOCK}\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for expected in ("Line 2: unit cost -1 must be at least 0", "Line 3: B00UNKNOWN is not one of this seller",
                     "Line 4: “not-an-asin” is not an ASIN", f"Line 5: {SHOE} is already on line 1",
                     "Line 6: expected asin,unit_cost[,price], got 1 value", "Nothing was imported"):
        assert expected in html
    assert "Line 1" not in html
    assert product(db, seller, SHOE) is None
    assert upload(client, seller, "").status_code == 400
    assert "not UTF-8" in client.post(
        f"/sellers/{seller.id}/products/import", data={"file": (io.BytesIO(b"\xff\xfe\x00"), "x.csv")},
        content_type="multipart/form-data").get_data(as_text=True)


@pytest.mark.sqlite
def test_a_margin_gives_a_sales_weighted_target_acos_that_can_be_set(client, db, seller, marketer):
    db.session.add_all([Product(seller_id=seller.id, asin=SHOE, unit_cost=Decimal("6"),  # break-even 70%
                                referral_fee_pct=Decimal(0)),  # an all-in cost
                        Product(seller_id=seller.id, asin=SOCK, unit_cost=Decimal("4.5"),  # 10%: can't keep 20%
                                referral_fee_pct=Decimal(0))])
    db.session.commit()
    html = client.get(f"/sellers/{seller.id}/products?margin=20").get_data(as_text=True)
    # shoes: 70 − 20 = 50% on 200.00 of sales; socks: 0% on 100.00 of sales → 100 / 300
    assert "target ACoS of <strong>33.3%</strong>" in html and f"{SOCK} cannot keep that margin" in html
    response = client.post(f"/sellers/{seller.id}/products/target-acos", data={"margin": "20"})
    assert response.status_code == 303
    assert settings_registry.get("target_acos", seller.id) == Decimal("33.3")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "setting.changed"))
    assert (event.seller_id, event.details["old"], event.details["new"]) == (seller.id, "30", "33.3")


@pytest.mark.parametrize("margin, message", [("abc", "enter a percentage"), ("100", "below 100"),
                                             ("75", "No product can keep 75%")])
def test_a_bad_margin_is_refused(client, db, seller, marketer, margin, message):
    db.session.add(Product(seller_id=seller.id, asin=SHOE, unit_cost=Decimal("6")))
    db.session.commit()
    response = client.post(f"/sellers/{seller.id}/products/target-acos", data={"margin": margin})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert settings_registry.get("target_acos", seller.id) == Decimal("30")


def test_a_margin_without_any_known_cost_is_refused(client, seller, marketer):
    response = client.post(f"/sellers/{seller.id}/products/target-acos", data={"margin": "10"})
    assert response.status_code == 400
    assert "No ASIN has both a unit cost and a price" in response.get_data(as_text=True)
    assert "No ASIN has both" in client.get(f"/sellers/{seller.id}/products?margin=10").get_data(as_text=True)


@pytest.mark.sqlite
def test_the_engine_sees_the_products_price_and_cost_and_caps_a_thin_margin_at_break_even(db, seller):
    """Shoes sell for 20.00 (observed; no price entered) and cost 17.00: ads may take 15% of a sale, not 30%."""
    from marketing.bids import inputs
    from marketing.optimize.bids import suggest_bids
    from marketing.optimize.settings import BidSettings

    db.session.add(Product(seller_id=seller.id, asin=SHOE, unit_cost=Decimal("17"), referral_fee_pct=Decimal(0)))
    db.session.add(SpTarget(profile_id=PROFILE, seller_id=seller.id, target_id=100, kind="keyword", campaign_id=7,
                            ad_group_id=8, text="trail shoes", match_type="EXACT", state="ENABLED",
                            bid=Decimal("0.50")))
    for days_ago in range(4, 14):  # 100 clicks, 10 orders of 20.00, 30.00 spent: ACoS 15% at 0.30 a click
        db.session.add(SpTargetDaily(
            profile_id=PROFILE, date=TODAY - dt.timedelta(days=days_ago), target_id=100, campaign_id=7,
            ad_group_id=8, impressions=1000, clicks=10, cost=Decimal("3.00"), orders=1, units=1,
            sales=Decimal("20.00")))
    db.session.commit()
    sum_weeks(db)
    frame = inputs.load(seller.id, 30)
    target = frame.set_index("target_id").loc[100]
    assert (target["price"], target["unit_cost"]) == (20.0, 17.0)

    suggestion = suggest_bids(frame, BidSettings(target_acos=0.30), today=TODAY).set_index("target_id").loc[100]
    assert suggestion["break_even_acos"] == pytest.approx(0.15)
    assert suggestion["direction"] == "down" and suggestion["reason"] == "LOWER_UNPROFITABLE"
    assert "15% margin before ads" in suggestion["explanation"]


@pytest.mark.sqlite
def test_an_ad_group_of_several_asins_gets_sales_weighted_economics_and_a_cost_only_if_all_are_known(db, seller):
    from marketing.bids import inputs

    db.session.add_all([
        SpProductAd(profile_id=PROFILE, seller_id=seller.id, ad_id=83, campaign_id=7, ad_group_id=8, asin=SOCK,
                    state="ENABLED"),
        SpTarget(profile_id=PROFILE, seller_id=seller.id, target_id=100, kind="keyword", campaign_id=7,
                 ad_group_id=8, text="trail shoes", match_type="EXACT", state="ENABLED", bid=Decimal("0.50")),
        Product(seller_id=seller.id, asin=SHOE, unit_cost=Decimal("6"), currency_code="USD"),
    ])
    db.session.commit()

    def economics():
        return tuple(inputs.load(seller.id, 30).set_index("target_id").loc[100, ["price", "unit_cost"]])

    price, cost = economics()  # shoes 20.00 on 200.00 of sales, socks 5.00 on 100.00
    assert price == pytest.approx(15.0) and cost != cost  # NaN: the socks' cost is unknown
    db.session.add(Product(seller_id=seller.id, asin=SOCK, unit_cost=Decimal("1"), currency_code="EUR"))
    db.session.commit()
    assert economics()[1] != economics()[1]  # a cost in another currency is not used
    db.session.get(Product, (seller.id, SOCK)).currency_code = "USD"
    db.session.commit()
    assert economics() == pytest.approx((15.0, (6 * 200 + 1 * 100) / 300))
