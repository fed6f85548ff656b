"""Coupons, deals and FBA inventory through a real sync against the sandbox: stored as Amazon reports them,
replaced (not duplicated) by the next sync, float noise rounded, and a 403 on one report type only a notice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from marketing.clock import now
from marketing.connections import clients
from marketing.extensions import db
from marketing.models import (
    InventoryDaily,
    Promotion,
    SalesTrafficDaily,
    Seller,
    SyncReport,
    SyncRun,
)
from marketing.sync import plan
from marketing.sync.sources.sp import report_options
from tests.sync.conftest import money, sp_document, sync


def served(seller: Seller, report: SyncReport) -> dict:
    """The report as the sandbox serves it with the sync's own options (the oracle)."""
    options, _ = report_options(report)
    return sp_document(seller, report.report_type, report.marketplace_id, options=options)


def inventory_oracle(seller: Seller, marketplace_id: str) -> dict[str, int]:
    with clients.http_client() as http:
        summaries = clients.sp_client(seller.connection("sp"), http).iter_inventory_summaries(marketplace_id)
        fulfillable: dict[str, int] = {}
        for item in summaries:
            fulfillable[item["asin"]] = fulfillable.get(item["asin"], 0) + \
                item["inventoryDetails"]["fulfillableQuantity"]
        return fulfillable


def _reports(run_id: int) -> dict[tuple[str, str], SyncReport]:
    return {(r.report_type, r.marketplace_id): r for r in db.session.get(SyncRun, run_id).reports
            if r.source == "sp"}


@pytest.mark.sqlite
def test_a_sync_stores_coupons_deals_and_inventory_as_amazon_reports_them(app, sbx, seller):
    seller_id = seller.id
    result = sync(seller, days=1)
    assert result["status"] == "succeeded", result["error"]
    seller = db.session.get(Seller, seller_id)
    reports = _reports(result["id"])
    coupons_seen = deals_seen = 0
    for (report_type, market), report in reports.items():
        assert report.status == "ingested", report.error
        if report_type == plan.COUPONS:
            oracle = served(seller, report).get("coupons", [])
            stored = {p.amazon_id: p for p in db.session.scalars(select(Promotion).where(
                Promotion.marketplace_id == market, Promotion.type == "COUPON"))}
            assert set(stored) == {c["couponId"] for c in oracle}
            for coupon in oracle:
                got = stored[coupon["couponId"]]
                assert got.seller_id == seller_id and got.currency_code == coupon["currencyCode"]
                assert (money(got.budget), money(got.total_discount), money(got.revenue)) == (
                    money(coupon["budget"]), money(coupon["totalDiscount"]), money(coupon["sales"]))
                assert (got.discount_type, money(got.discount_amount)) == (coupon["discountType"],
                                                                           money(coupon["discountAmount"]))
                assert (got.clips, got.redemptions) == (coupon["clips"], coupon["redemptions"])
                assert got.starts_at == dt.datetime.fromisoformat(coupon["startDateTime"].replace("Z", "+00:00"))
                assert [a.asin for a in got.asins] == sorted(a["asin"] for a in coupon["asins"])
                assert all(a.units is None for a in got.asins)  # the coupon report has no per-ASIN units
            coupons_seen += len(oracle)
        elif report_type == plan.PROMOTIONS:
            oracle = served(seller, report).get("promotions", [])
            stored = {p.amazon_id: p for p in db.session.scalars(select(Promotion).where(
                Promotion.marketplace_id == market, Promotion.type != "COUPON"))}
            assert set(stored) == {d["promotionId"] for d in oracle}
            for deal in oracle:
                got = stored[deal["promotionId"]]
                assert (got.type, got.status, got.units, money(got.revenue)) == (
                    deal["type"], deal["status"], deal["unitsSold"], money(deal["revenue"]))
                assert {(a.asin, a.units, money(a.revenue)) for a in got.asins} == {
                    (p["asin"], p["productUnitsSold"], money(p["productRevenue"])) for p in deal["includedProducts"]}
            deals_seen += len(oracle)
        elif report_type == plan.INVENTORY:
            stored = dict(db.session.execute(select(InventoryDaily.asin, InventoryDaily.fulfillable).where(
                InventoryDaily.marketplace_id == market, InventoryDaily.date == report.end_date)).all())
            assert stored and stored == inventory_oracle(seller, market)
    assert coupons_seen and deals_seen  # the sandbox's history has both


@pytest.mark.sqlite
def test_a_second_sync_replaces_the_window_and_keeps_each_promotions_row(app, sbx, seller):
    seller_id = seller.id
    first = sync(seller, days=1)
    assert first["status"] == "succeeded", first["error"]
    before = {(p.type, p.amazon_id): p.id for p in db.session.scalars(select(Promotion))}
    inventory_rows = db.session.scalar(select(func.count()).select_from(InventoryDaily))
    coupons = _reports(first["id"])
    market = next(m for (t, m) in coupons if t == plan.COUPONS)
    recent = now() - dt.timedelta(days=5)
    old = now() - dt.timedelta(days=500)  # outside any window the sync asks for: left alone
    db.session.add_all([
        Promotion(seller_id=seller_id, marketplace_id=market, type="COUPON", amazon_id=amazon_id, starts_at=at,
                  ends_at=at + dt.timedelta(days=7), currency_code="USD")
        for amazon_id, at in (("no-longer-listed", recent), ("long-ago", old))])
    db.session.commit()
    again = sync(db.session.get(Seller, seller_id), days=1)
    assert again["status"] == "succeeded", again["error"]
    db.session.expire_all()
    after = {(p.type, p.amazon_id): p.id for p in db.session.scalars(select(Promotion))}
    assert ("COUPON", "no-longer-listed") not in after  # Amazon no longer lists it in the window: gone
    assert ("COUPON", "long-ago") in after
    after.pop(("COUPON", "long-ago"))
    assert after == before  # the same promotions, each in its same row (a plan matched to one keeps it)
    assert db.session.scalar(select(func.count()).select_from(InventoryDaily)) == inventory_rows


def test_float_noise_in_the_reports_is_rounded_to_the_cent(app, sbx, seller):
    seller_id = seller.id
    sbx.admin.fault("float_noise", path_prefix="/reports")
    result = sync(seller, days=1)
    assert result["status"] == "succeeded", result["error"]
    sbx.admin.clear_faults()
    seller = db.session.get(Seller, seller_id)
    report = next(r for (t, _), r in _reports(result["id"]).items() if t == plan.COUPONS)
    oracle = {c["couponId"]: c for c in served(seller, report).get("coupons", [])}
    stored = db.session.scalars(select(Promotion).where(Promotion.type == "COUPON")).all()
    assert stored and len(stored) == len(oracle)
    for got in stored:
        assert got.budget_spent == money(oracle[got.amazon_id]["budgetSpent"])  # exact: 4 places, no noise
        assert got.revenue == money(oracle[got.amazon_id]["sales"])


def test_a_403_on_the_coupon_report_skips_only_coupons_with_a_notice(app, sbx, seller):
    sbx.admin.fault("role_denied", path_prefix="/reports", report_type=plan.COUPONS)
    result = sync(seller, days=1)
    assert result["status"] == "succeeded", result["error"]
    assert "withheld the coupon report" in result["notice"] and "Ads data" not in result["notice"]
    statuses = {t: r.status for (t, _), r in _reports(result["id"]).items()}
    assert statuses == {plan.COUPONS: "refused", plan.PROMOTIONS: "ingested", plan.SALES_TRAFFIC: "ingested",
                        plan.INVENTORY: "ingested"}
    assert db.session.scalar(select(func.count()).select_from(Promotion).where(Promotion.type == "COUPON")) == 0
    assert db.session.scalar(select(func.count()).select_from(Promotion).where(Promotion.type != "COUPON")) > 0
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficDaily)) > 0
    assert db.session.scalar(select(func.count()).select_from(InventoryDaily)) > 0
