"""What Amazon may send in the coupon, deal and FBA inventory documents: extra and missing fields, float noise,
promotion types we do not measure, and rows we cannot store (refused with the row and field named)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketing import sellers
from marketing.extensions import db
from marketing.models import InventoryDaily, Promotion
from marketing.sync import inventory, promotions
from marketing.sync.plan import COUPONS, PROMOTIONS
from marketing.sync.rows import IngestError

US = "ATVPDKIKX0DER"
WINDOW = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 3, 1)}


def coupon(**changes) -> dict:
    item = {"couponId": "C-1", "merchantId": "M", "marketplaceId": US, "currencyCode": "USD", "name": "Save",
            "startDateTime": "2026-02-01T00:00:00Z", "endDateTime": "2026-02-14T23:59:59Z",
            "customerSegment": "All (Default)", "discountType": "PERCENT_OFF_LIST_PRICE", "discountAmount": 15,
            "clips": 40, "redemptions": 12, "budget": 500, "totalDiscount": 36.0, "budgetSpent": 43.2,
            "budgetRemaining": 456.8, "budgetPercentageUsed": 8.64, "sales": 204.0,
            "asins": [{"asin": "B0SHOE0001"}, {"asin": "B0SHOE0002"}]}
    item.update(changes)
    return {k: v for k, v in item.items() if v is not ...}


def deal(**changes) -> dict:
    item = {"promotionId": "D-1", "promotionName": "Deal", "merchantId": "M", "unitsSold": 30, "revenue": 599.7,
            "revenueCurrencyCode": "USD", "startDateTime": "2026-02-10T10:00:00Z",
            "endDateTime": "2026-02-10T16:00:00Z", "type": "LIGHTNING_DEAL", "status": "APPROVED",
            "creationChannel": "SELF-SERVICE", "marketplaceId": US, "createdDateTime": "2026-01-20T09:00:00Z",
            "lastUpdatedDateTime": "2026-02-08T09:00:00Z",
            "includedProducts": [{"asin": "B0SHOE0001", "productName": "Shoe", "productUnitsSold": 30,
                                  "productRevenue": 599.7, "productRevenueCurrencyCode": "USD"}]}
    item.update(changes)
    return {k: v for k, v in item.items() if v is not ...}


@pytest.fixture
def seller(app):
    seller = sellers.create_seller("Acme", "NA")
    db.session.commit()
    return seller


def ingest(seller, report_type, items):
    stored = promotions.ingest_promotions(db.session, report_type, items, seller_id=seller.id, marketplace_id=US,
                                          currency="USD", **WINDOW)
    db.session.commit()
    return stored


@pytest.mark.sqlite
def test_extra_and_missing_fields_and_float_noise(seller):
    stored = ingest(seller, COUPONS, [
        coupon(newAmazonField={"nested": 1}, budgetSpent=43.199999999999996),
        coupon(couponId="C-2", budget=..., name=..., discountType=..., discountAmount=..., sales=None,
               asins=[{"asin": "B0SHOE0003", "extra": True}]),
    ])
    assert (stored.rows, stored.notice) == (2, None)
    first, second = db.session.scalars(select(Promotion).order_by(Promotion.amazon_id)).all()
    assert first.budget_spent == Decimal("43.2000") and first.budget == Decimal(500)
    assert first.discount_type == "PERCENT_OFF_LIST_PRICE" and first.discount_amount == 15
    assert [a.asin for a in first.asins] == ["B0SHOE0001", "B0SHOE0002"]
    assert (second.budget, second.name, second.discount_type, second.revenue) == (None, None, None, None)
    assert [a.asin for a in second.asins] == ["B0SHOE0003"]


@pytest.mark.sqlite
def test_a_type_we_do_not_measure_is_skipped_with_a_notice(seller):
    stored = ingest(seller, PROMOTIONS, [deal(), deal(promotionId="D-2", type="DEAL_OF_THE_DAY"),
                                         deal(promotionId="D-3", type="PRICE_DISCOUNT"),
                                         deal(promotionId="D-4", type="BEST_DEAL", unitsSold=...)])
    assert stored.rows == 2
    assert "DEAL_OF_THE_DAY (1), PRICE_DISCOUNT (1)" in stored.notice and US in stored.notice
    got = {p.amazon_id: p for p in db.session.scalars(select(Promotion))}
    assert set(got) == {"D-1", "D-4"} and got["D-4"].units is None
    assert [(a.asin, a.units, a.revenue) for a in got["D-1"].asins] == [("B0SHOE0001", 30, Decimal("599.7000"))]


@pytest.mark.sqlite
@pytest.mark.parametrize(("bad", "named"), [
    (coupon(couponId=...), "field 'couponId': missing"),
    (coupon(startDateTime="next Tuesday"), "field 'startDateTime'"),
    (coupon(redemptions="twelve"), "field 'redemptions'"),
    (coupon(clips=-3), "field 'clips': -3 is a negative count"),
    (["not", "an", "object"], "is not a JSON object"),
])
def test_a_row_we_cannot_store_refuses_the_report_and_names_it(seller, bad, named):
    ingest(seller, COUPONS, [coupon(couponId="C-0")])
    with pytest.raises(IngestError, match=f"{COUPONS} row 2: .*{named}" if "object" not in named else named):
        promotions.ingest_promotions(db.session, COUPONS, [coupon(couponId="C-9"), bad], seller_id=seller.id,
                                     marketplace_id=US, currency="USD", **WINDOW)
    db.session.rollback()
    assert db.session.scalars(select(Promotion.amazon_id)).all() == ["C-0"]  # what was stored before stays


@pytest.mark.sqlite
def test_the_same_promotion_twice_in_one_report_is_refused(seller):
    with pytest.raises(IngestError, match="listed twice"):
        ingest(seller, COUPONS, [coupon(), coupon()])


@pytest.mark.sqlite
def test_inventory_sums_skus_per_asin_and_reads_what_is_there(seller):
    day = dt.date(2026, 3, 1)
    summaries = [
        {"asin": "B0SHOE0001", "sellerSku": "S1", "totalQuantity": 14,
         "inventoryDetails": {"fulfillableQuantity": 10, "inboundShippedQuantity": 3, "inboundWorkingQuantity": None,
                              "reservedQuantity": {"totalReservedQuantity": 1}}},
        {"asin": "B0SHOE0001", "sellerSku": "S1-used", "totalQuantity": 2,
         "inventoryDetails": {"fulfillableQuantity": 2}, "newField": "x"},
        {"asin": "B0SHOE0002", "sellerSku": "S2", "totalQuantity": 7},  # no details: the total is what we know
        {"sellerSku": "S3", "totalQuantity": 5},  # no ASIN: not stored
    ]
    assert inventory.ingest_inventory(db.session, summaries, seller_id=seller.id, marketplace_id=US, day=day) == 2
    assert inventory.ingest_inventory(db.session, summaries, seller_id=seller.id, marketplace_id=US, day=day) == 2
    db.session.commit()
    rows = {r.asin: (r.fulfillable, r.inbound, r.reserved) for r in db.session.scalars(select(InventoryDaily))}
    assert rows == {"B0SHOE0001": (12, 3, 1), "B0SHOE0002": (7, 0, 0)}
    with pytest.raises(IngestError, match="summary 1: field 'inventoryDetails.fulfillableQuantity'"):
        inventory.ingest_inventory(db.session, [{"asin": "B0X", "inventoryDetails": {"fulfillableQuantity": "lots"}}],
                                   seller_id=seller.id, marketplace_id=US, day=day)
