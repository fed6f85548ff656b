"""Ingest real reports served by the Amazon sandbox: totals in the fact table equal the report's sums."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketing.amazon import AdsClient, SpClient
from marketing.amazon.ads import REPORT_COLUMNS, REPORT_GROUP_BY
from marketing.models import SalesTrafficDaily, SpTargetDaily
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
    profile = next(p for p in ads.list_profiles() if p.manageable)
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
