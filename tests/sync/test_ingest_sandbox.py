"""Ingest real reports served by the Amazon sandbox: totals in the fact table equal the report's sums."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketing.amazon import AdsClient, SpClient
from marketing.amazon.ads import REPORT_COLUMNS, REPORT_GROUP_BY
from marketing.models import SalesTrafficDaily, SpTargetDaily
from marketing.models.connections import MANAGEABLE_ACCOUNT_TYPES
from marketing.sync.ingest import ATTRIBUTION_DAYS, SALES_TRAFFIC_PREFIXES, ingest_report
from tests.amazon.test_against_sandbox import Wiring, wait_ads_report, wait_sp_report


@pytest.fixture
def wiring(sbx):
    """The Amazon clients on the suite's sandbox (tests/sync/conftest.py: reports are ready at once)."""
    w = Wiring(sbx)
    yield w
    w.http.close()


def _yesterday(wiring) -> date:
    return wiring.sbx.admin.today() - timedelta(days=1)


def test_sandbox_targeting_report_totals(db, wiring):
    ads: AdsClient = wiring.ads(0)
    profile = next(p for p in ads.list_profiles() if p.account_type in MANAGEABLE_ACCOUNT_TYPES)
    end = _yesterday(wiring)
    start = end - timedelta(days=6)
    request = ads.create_report(profile.profile_id, "spTargeting", start, end, REPORT_COLUMNS["spTargeting"],
                                REPORT_GROUP_BY["spTargeting"])  # fmt: skip
    status = wait_ads_report(ads, profile.profile_id, request.report_id)
    days = ATTRIBUTION_DAYS[profile.account_type]

    written = ingest_report(db.session, "spTargeting", ads.iter_report_rows(status.url), profile_id=profile.profile_id,
                            start=start, end=end, currency=profile.currency_code, attribution_days=days)  # fmt: skip
    db.session.commit()

    rows = list(ads.iter_report_rows(status.url))
    t = SpTargetDaily
    stored = db.session.execute(select(func.count(), func.sum(t.cost), func.sum(t.sales), func.sum(t.clicks),
                                       func.sum(t.orders))).one()  # fmt: skip
    assert written == len(rows) == stored[0] > 0
    assert Decimal(stored[1]) == sum(Decimal(r["cost"]) for r in rows)
    assert Decimal(stored[2]) == sum(Decimal(r[f"sales{days}d"]) for r in rows)
    assert (stored[3], stored[4]) == (sum(r["clicks"] for r in rows), sum(r[f"purchases{days}d"] for r in rows))


def test_sandbox_sales_and_traffic_totals(db, make_seller, wiring):
    sp: SpClient = wiring.sp(0)
    marketplace_id = wiring.sbx.sellers[0].marketplace_ids[0]
    end = _yesterday(wiring)
    start = end - timedelta(days=6)
    report_id = sp.create_report("GET_SALES_AND_TRAFFIC_REPORT", [marketplace_id], start, end,
                                 {"dateGranularity": "DAY", "asinGranularity": "CHILD"})  # fmt: skip
    report = wait_sp_report(sp, report_id)
    document = sp.get_report_document(report.document_id)
    items = list(sp.iter_document_items(document.url, document.compression, SALES_TRAFFIC_PREFIXES))
    currency = items[0][1]["salesByDate"]["orderedProductSales"]["currencyCode"]
    seller = make_seller()

    written = ingest_report(db.session, "GET_SALES_AND_TRAFFIC_REPORT", iter(items), seller_id=seller.id,
                            marketplace_id=marketplace_id, start=start, end=end, currency=currency)  # fmt: skip
    db.session.commit()

    by_date = [i for p, i in items if p == SALES_TRAFFIC_PREFIXES[0]]
    total = db.session.scalar(select(func.sum(SalesTrafficDaily.ordered_sales)))
    assert written == len(by_date) == 7
    assert Decimal(total) == sum(Decimal(i["salesByDate"]["orderedProductSales"]["amount"]) for i in by_date)


def test_float_noise_and_null_metrics_are_stored_to_the_cent(db, wiring):
    """A report written by a float-backed service with nulls for what did not happen — stored exactly as the
    sandbox's own (exact) figures, on the bulk path and on the row-by-row path alike."""
    ads: AdsClient = wiring.ads(0)
    profile = next(p for p in ads.list_profiles() if p.account_type in MANAGEABLE_ACCOUNT_TYPES)
    end = _yesterday(wiring)
    start = end - timedelta(days=6)
    days = ATTRIBUTION_DAYS[profile.account_type]

    def report_url() -> str:
        request = ads.create_report(profile.profile_id, "spTargeting", start, end, REPORT_COLUMNS["spTargeting"],
                                    REPORT_GROUP_BY["spTargeting"])  # fmt: skip
        return wait_ads_report(ads, profile.profile_id, request.report_id).url

    for kind in ("float_noise", "null_metrics"):
        wiring.sbx.admin.fault(kind, path_prefix="/reporting", count=1)
    noisy = report_url()
    exact = list(ads.iter_report_rows(report_url()))  # the same report again, the faults spent
    sent = list(ads.iter_report_rows(noisy))
    assert any(r["clicks"] is None for r in sent) and any(r[f"sales{days}d"] is None for r in sent)
    assert any(isinstance(r["cost"], Decimal) and r["cost"] != r["cost"].quantize(Decimal("0.01")) for r in sent)

    def ingest(rows) -> list[tuple]:
        ingest_report(db.session, "spTargeting", rows, profile_id=profile.profile_id, start=start, end=end,
                      currency=profile.currency_code, attribution_days=days)  # fmt: skip
        db.session.commit()
        t = SpTargetDaily
        return sorted(db.session.execute(select(t.date, t.target_id, t.impressions, t.clicks, t.cost, t.orders,
                                                t.units, t.sales, t.keyword_bid)).all())  # fmt: skip

    bulk = ingest(ads.iter_report_rows(noisy))  # an `ArrayStream`: PostgreSQL's COPY path
    assert ingest(row for row in ads.iter_report_rows(noisy)) == bulk  # row by row
    expected = sorted(
        (date.fromisoformat(r["date"]), r["keywordId"], r["impressions"], r["clicks"], Decimal(r["cost"]),
         r[f"purchases{days}d"], r[f"unitsSoldClicks{days}d"], Decimal(r[f"sales{days}d"]),
         None if r["keywordBid"] is None else Decimal(r["keywordBid"]))
        for r in exact
    )  # fmt: skip
    assert bulk == expected


def test_float_noise_in_sales_and_traffic_is_stored_to_the_cent(db, make_seller, wiring):
    sp: SpClient = wiring.sp(0)
    marketplace_id = wiring.sbx.sellers[0].marketplace_ids[0]
    end = _yesterday(wiring)
    start = end - timedelta(days=2)

    def items() -> list:
        report_id = sp.create_report("GET_SALES_AND_TRAFFIC_REPORT", [marketplace_id], start, end,
                                     {"dateGranularity": "DAY", "asinGranularity": "CHILD"})  # fmt: skip
        document = sp.get_report_document(wait_sp_report(sp, report_id).document_id)
        return list(sp.iter_document_items(document.url, document.compression, SALES_TRAFFIC_PREFIXES))

    wiring.sbx.admin.fault("float_noise", path_prefix="/reports/", count=1)
    noisy, exact = items(), items()
    assert noisy != exact
    currency = exact[0][1]["salesByDate"]["orderedProductSales"]["currencyCode"]
    seller = make_seller()
    ingest_report(db.session, "GET_SALES_AND_TRAFFIC_REPORT", iter(noisy), seller_id=seller.id,
                  marketplace_id=marketplace_id, start=start, end=end, currency=currency)  # fmt: skip
    db.session.commit()
    stored = db.session.execute(select(SalesTrafficDaily.date, SalesTrafficDaily.ordered_sales)).all()
    expected = [(date.fromisoformat(i["date"]), Decimal(i["salesByDate"]["orderedProductSales"]["amount"]))
                for p, i in exact if p == SALES_TRAFFIC_PREFIXES[0]]  # fmt: skip
    assert sorted(stored) == sorted(expected) and len(expected) == 3
