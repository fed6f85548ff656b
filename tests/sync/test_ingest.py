"""`ingest_report`: exact, idempotent window replacement; clear refusals; flat memory. PostgreSQL and SQLite."""

from __future__ import annotations

import gzip
import itertools
import json
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketing.amazon import MalformedResponse
from marketing.amazon.streams import gunzip, iter_array_items
from marketing.models import (
    SalesTrafficAsinDaily,
    SalesTrafficDaily,
    SpCampaignDaily,
    SpProductDaily,
    SpSearchTermDaily,
    SpTargetDaily,
    SpTargetWeekly,
)
from marketing.models.facts import WEEKLY_DIALECTS, week_of
from marketing.sync.ingest import SALES_TRAFFIC_PREFIXES, IngestError, ingest_report
from tests.sync.ingest_helpers import END, PROFILE, START, days, fact_rows, target_row, target_rows

pytestmark = pytest.mark.sqlite


def ingest(db, rows, report_type="spTargeting", commit=True, **kw):
    args = {"profile_id": PROFILE, "start": START, "end": END, "currency": "USD", "attribution_days": 7, **kw}
    written = ingest_report(db.session, report_type, rows, **args)
    if commit:
        db.session.commit()
    return written


def test_totals_are_exact_to_the_cent(db):
    rows = target_rows(n_targets=40)
    assert ingest(db, iter(rows)) == len(rows) == 280
    t = SpTargetDaily
    totals = db.session.execute(
        select(func.count(), func.sum(t.cost), func.sum(t.sales), func.sum(t.orders), func.sum(t.clicks))
    ).one()
    assert totals[0] == len(rows)
    assert Decimal(totals[1]) == sum(r["cost"] for r in rows)
    assert Decimal(totals[2]) == sum(r["sales7d"] for r in rows)
    assert totals[3] == sum(r["purchases7d"] for r in rows)
    assert totals[4] == sum(r["clicks"] for r in rows)
    one = db.session.get(SpTargetDaily, (PROFILE, START, rows[0]["keywordId"]))
    assert (one.cost, one.sales, one.keyword_bid, one.units) == (
        rows[0]["cost"], rows[0]["sales7d"], Decimal("0.75"), rows[0]["unitsSoldClicks7d"])  # fmt: skip
    assert one.campaign_id == rows[0]["campaignId"] > 2**32


def test_vendor_profiles_use_the_14_day_window(db):
    rows = target_rows(n_targets=3)
    ingest(db, rows, attribution_days=14)
    sales, orders = db.session.execute(select(func.sum(SpTargetDaily.sales), func.sum(SpTargetDaily.orders))).one()
    assert Decimal(sales) == sum(r["sales14d"] for r in rows)
    assert orders == sum(r["purchases14d"] for r in rows)


def test_reingesting_the_same_window_changes_nothing(db):
    rows = target_rows()
    ingest(db, rows)
    before = fact_rows(db.session, SpTargetDaily)
    assert ingest(db, rows) == len(rows)
    assert fact_rows(db.session, SpTargetDaily) == before


def test_restated_rows_change_vanished_rows_disappear_neighbours_stay(db):
    rows = target_rows(n_targets=5)
    ingest(db, rows)
    outside = target_row(END + timedelta(days=1), 42)  # the next window, already synced
    other_profile = target_row(START, 43)
    ingest(db, [outside], start=END + timedelta(days=1), end=END + timedelta(days=1))
    ingest(db, [other_profile], profile_id=PROFILE + 1)

    restated = {**rows[0], "sales7d": Decimal("99.99"), "purchases7d": 9}
    ingest(db, [restated, *rows[2:]])  # rows[1] is no longer reported

    assert db.session.get(SpTargetDaily, (PROFILE, START, rows[0]["keywordId"])).sales == Decimal("99.99")
    assert db.session.get(SpTargetDaily, (PROFILE, START, rows[1]["keywordId"])) is None
    assert len(fact_rows(db.session, SpTargetDaily, profile_id=PROFILE)) == len(rows)  # 34 + the next window's
    assert db.session.get(SpTargetDaily, (PROFILE, outside["date"] and END + timedelta(days=1), 42)) is not None
    assert db.session.get(SpTargetDaily, (PROFILE + 1, START, 43)) is not None


def test_targeting_days_are_summed_per_week_as_they_are_replaced(db):
    """The bid inputs read whole weeks from `sp_target_weekly` (PostgreSQL): it follows every replacement."""
    rows = target_rows(n_targets=5)
    ingest(db, rows)
    ingest(db, [{**rows[0], "clicks": rows[0]["clicks"] + 7, "cost": Decimal("12.34")}, *rows[2:]])
    weekly = {(r.profile_id, r.week_start, r.target_id): (r.impressions, r.clicks, r.cost, r.orders, r.sales)
              for r in db.session.scalars(select(SpTargetWeekly))}
    if db.engine.dialect.name not in WEEKLY_DIALECTS:
        assert weekly == {}  # SQLite's inputs sum the days
        return
    summed: dict[tuple, list] = {}
    for r in db.session.scalars(select(SpTargetDaily)):
        sums = summed.setdefault((r.profile_id, week_of(r.date), r.target_id), [0, 0, Decimal(0), 0, Decimal(0)])
        for i, value in enumerate((r.impressions, r.clicks, r.cost, r.orders, r.sales)):
            sums[i] += value
    assert weekly == {key: tuple(sums) for key, sums in summed.items()} and len(weekly) >= 5


def test_a_bad_row_late_in_the_stream_leaves_the_previous_data(db):
    ingest(db, target_rows(n_targets=2))
    before = fact_rows(db.session, SpTargetDaily)

    def stream():  # well past the first staging batch
        rng = itertools.count(1)
        for i in range(12_000):
            yield target_row(days()[i % 7], 5_000_000 + i // 7, clicks=next(rng) % 7)
        yield target_row(START, 1, cost="12.x4")

    with pytest.raises(IngestError, match=r"spTargeting row 12001: field 'cost': unexpected value '12.x4'"):
        ingest(db, stream())
    assert fact_rows(db.session, SpTargetDaily) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"keywordId": None}, "row 2: field 'keywordId': unexpected value null"),
        ({"keywordId": "abc"}, "field 'keywordId': unexpected value 'abc'"),
        ({"keywordId": 12.5}, "field 'keywordId': 12.5 is not an exact id"),
        ({"clicks": -1}, "field 'clicks': -1 is a negative count"),
        ({"clicks": "12 clicks"}, "field 'clicks': unexpected value '12 clicks'"),
        ({"purchases7d": 2**31}, "field 'purchases7d': 2147483648 is outside the count range"),
        ({"cost": float("inf")}, "field 'cost': inf is not a finite number"),
        ({"sales7d": "NaN"}, "field 'sales7d': NaN is not a finite number"),
        ({"cost": Decimal("12345678901.5")}, "field 'cost': 12345678901.5 does not fit 10 digits"),
        ({"date": "2025-05-31"}, "field 'date': 2025-05-31 is outside the report window 2025-06-01..2025-06-07"),
        ({"date": "June 1"}, "field 'date': unexpected value 'June 1'"),
        ({"campaignBudgetCurrencyCode": "EUR"}, "'EUR' differs from the profile's currency USD"),
        ({"matchType": "X" * 40}, "field 'matchType': is longer than 32 characters"),
    ],
)
def test_bad_values_are_named(db, change, message):
    rows = [target_row(START, 1), {**target_row(START, 2), **change}]
    with pytest.raises(IngestError, match="^spTargeting row 2: field") as caught:
        ingest(db, rows)
    assert message in str(caught.value)


def test_what_amazon_really_sends_is_rounded_to_the_column(db):
    """Float noise, money as text or exponent, ids as strings or exact floats, null metrics: stored, not refused."""
    row = target_row(START, 1, cost=83.22999999999999, sales7d=Decimal("12.34565"), keywordBid="0.7500000001",
                     campaignId=7_000_000_000.0, adGroupId="8000000000001", clicks=12.0, impressions=Decimal("3E+2"),
                     purchases7d=None, unitsSoldClicks7d=2.5)  # fmt: skip
    other = target_row(START, 2, cost=None, sales7d=0.1 + 0.2, clicks=None, keywordBid=None)
    assert ingest(db, [row, other]) == 2
    one, two = (db.session.get(SpTargetDaily, (PROFILE, START, target)) for target in (1, 2))
    assert (one.cost, one.sales, one.keyword_bid) == (Decimal("83.2300"), Decimal("12.3456"), Decimal("0.7500"))
    assert (one.campaign_id, one.ad_group_id) == (7_000_000_000, 8_000_000_000_001)
    assert (one.clicks, one.impressions, one.orders, one.units) == (12, 300, 0, 2)  # half-even: 2.5 → 2
    assert (two.cost, two.clicks, two.sales, two.keyword_bid) == (Decimal(0), 0, Decimal("0.3000"), None)


def test_missing_fields_and_non_objects_are_named(db):
    row = target_row(START, 1)
    del row["sales7d"]
    with pytest.raises(IngestError, match="spTargeting row 1: field 'sales7d': missing"):
        ingest(db, [row])
    with pytest.raises(IngestError, match=r"spTargeting row 1: is not a JSON object \(list\)"):
        ingest(db, [[1, 2]])


def test_duplicate_keys_are_refused(db):
    ingest(db, target_rows(n_targets=1))
    before = fact_rows(db.session, SpTargetDaily)
    row = target_row(START, 7)
    with pytest.raises(IngestError, match="spTargeting: two rows for the same sp_target_daily key"):
        ingest(db, [row, {**row, "clicks": 1}])
    assert fact_rows(db.session, SpTargetDaily) == before


@pytest.mark.parametrize("damage", ["truncated", "not json"])
def test_broken_downloads_surface_as_malformed_and_change_nothing(db, damage):
    ingest(db, target_rows(n_targets=1))
    before = fact_rows(db.session, SpTargetDaily)
    body = json.dumps(target_rows(n_targets=300), default=str).encode()
    chunks = gunzip([gzip.compress(body)[:-200]]) if damage == "truncated" else iter([body[:-3000], b"@@@"])
    with pytest.raises(MalformedResponse):
        ingest(db, iter_array_items(chunks))
    assert fact_rows(db.session, SpTargetDaily) == before


def test_memory_does_not_grow_with_the_report(db):
    """100k rows on PostgreSQL (20 staging batches); SQLite's slower executemany path gets 20k (four)."""
    n = 100_000 if db.engine.dialect.name == "postgresql" else 20_000
    day_list = days()

    def stream(n):
        for i in range(n):
            yield target_row(day_list[i % 7], 10_000_000 + i // 7)

    tracemalloc.start()
    try:
        assert ingest(db, stream(n)) == n
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 25 * 2**20, f"peak {peak / 2**20:.1f} MiB while ingesting {n} rows"
    assert db.session.scalar(select(func.count()).select_from(SpTargetDaily)) == n


def test_campaign_search_term_and_product_reports(db):
    campaign = {"date": "2025-06-02", "campaignId": 11, "campaignName": "Shoes", "campaignStatus": "ENABLED",
                "impressions": 10, "clicks": 2, "cost": Decimal("1.10"), "spend": Decimal("1.10"),
                "purchases7d": 1, "unitsSoldClicks7d": 1, "sales7d": Decimal("20.00"),
                "campaignBudgetCurrencyCode": "EUR"}  # fmt: skip
    metrics = {k: campaign[k] for k in ("impressions", "clicks", "cost", "purchases7d", "unitsSoldClicks7d", "sales7d")}
    term = {"date": "2025-06-02", "keywordId": 5, "searchTerm": "red shoes", "campaignId": 11, "adGroupId": 12,
            **metrics}  # fmt: skip
    product = {"date": "2025-06-02", "adId": 99, "campaignId": 11, "adGroupId": 12, "advertisedAsin": "B0TEST0001",
               "advertisedSku": "SKU-1", **metrics}  # fmt: skip
    assert ingest(db, [campaign], "spCampaigns", currency="EUR") == 1
    assert ingest(db, [term, {**term, "searchTerm": "blue shoes"}], "spSearchTerm", currency="EUR") == 2
    assert ingest(db, [product], "spAdvertisedProduct", currency="EUR") == 1
    row = db.session.get(SpCampaignDaily, (PROFILE, date(2025, 6, 2), 11))
    assert (row.campaign_name, row.currency_code, row.cost, row.sales) == ("Shoes", "EUR", Decimal("1.1"), 20)
    assert db.session.get(SpSearchTermDaily, (PROFILE, date(2025, 6, 2), 5, "blue shoes")).clicks == 2
    assert db.session.get(SpProductDaily, (PROFILE, date(2025, 6, 2), 99)).asin == "B0TEST0001"
    with pytest.raises(IngestError, match="spSearchTerm row 1: field 'searchTerm': unexpected value ''"):
        ingest(db, [{**term, "searchTerm": ""}], "spSearchTerm", currency="EUR")


def _st_document(start: date, end: date, currency="USD"):
    by_date = [{"date": d.isoformat(),
                "salesByDate": {"orderedProductSales": {"amount": Decimal("100.25") + i, "currencyCode": currency},
                                "unitsOrdered": 5 + i, "totalOrderItems": 4 + i},
                "trafficByDate": {"sessions": 50, "pageViews": 80}}
               for i, d in enumerate(days(start, end))]  # fmt: skip
    by_asin = [{"parentAsin": "B0PARENT01", "childAsin": f"B0CHILD00{i}",
                "salesByAsin": {"unitsOrdered": i, "orderedProductSales": {"amount": Decimal("9.99") * i,
                                                                           "currencyCode": currency}},
                "trafficByAsin": {"sessions": 3, "pageViews": 4}} for i in range(3)]  # fmt: skip
    return [(SALES_TRAFFIC_PREFIXES[0], item) for item in by_date] + [(SALES_TRAFFIC_PREFIXES[1], i) for i in by_asin]


def test_sales_and_traffic_by_date_and_by_asin(db, make_seller):
    seller = make_seller()
    args = {"seller_id": seller.id, "marketplace_id": "ATVPDKIKX0DER", "currency": "USD"}
    written = ingest_report(db.session, "GET_SALES_AND_TRAFFIC_REPORT", _st_document(START, END),
                            start=START, end=END, **args)  # fmt: skip
    db.session.commit()
    assert written == 7  # by-ASIN rows of a 7-day report are range totals, not daily: skipped
    assert db.session.scalar(select(func.sum(SalesTrafficDaily.ordered_sales))) == Decimal("100.25") * 7 + 21
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficAsinDaily)) == 0

    written = ingest_report(db.session, "GET_SALES_AND_TRAFFIC_REPORT", _st_document(END, END),
                            start=END, end=END, **args)  # fmt: skip
    db.session.commit()
    assert written == 4
    asin = db.session.get(SalesTrafficAsinDaily, (seller.id, "ATVPDKIKX0DER", END, "B0CHILD002"))
    assert (asin.ordered_sales, asin.units_ordered, asin.currency_code) == (Decimal("19.98"), 2, "USD")
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficDaily)) == 7

    with pytest.raises(IngestError, match="GET_SALES_AND_TRAFFIC_REPORT row 1: field "
                                          "'salesByDate.orderedProductSales.currencyCode'"):  # fmt: skip
        ingest_report(db.session, "GET_SALES_AND_TRAFFIC_REPORT", _st_document(END, END, currency="CAD"),
                      start=END, end=END, **args)  # fmt: skip
