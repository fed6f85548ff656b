"""The bulk path (`ArrayStream` → msgspec → one COPY): the same rows, the same refusals as the row-by-row path."""

from __future__ import annotations

import gzip
import json
from datetime import date
from decimal import Decimal

import pytest

from marketing.amazon import MalformedResponse
from marketing.amazon.streams import ArrayStream, gunzip
from marketing.models import SpCampaignDaily, SpProductDaily, SpSearchTermDaily, SpTargetDaily
from marketing.sync.ingest import IngestError, ingest_report
from marketing.sync.rows import FastMapper
from tests.sync.ingest_helpers import END, PROFILE, START, fact_rows, target_row, target_rows

pytestmark = pytest.mark.sqlite  # SQLite takes the row-by-row path: the same results


@pytest.fixture(autouse=True)
def small_slices(monkeypatch):
    monkeypatch.setattr(ArrayStream, "BATCH_BYTES", 2000)  # a few rows per slice: many slice boundaries


def as_json(rows: list) -> bytes:
    """The rows as Amazon writes them: Decimals as JSON numbers."""

    def value(v):
        return str(v) if isinstance(v, Decimal) else json.dumps(v)

    items = ("{" + ",".join(f"{json.dumps(k)}:{value(v)}" for k, v in r.items()) + "}" if isinstance(r, dict)
             else json.dumps(r) for r in rows)  # fmt: skip
    return ("[" + ",\n".join(items) + "]").encode()


def stream(rows: list, chunk: int = 777) -> ArrayStream:
    body = gzip.compress(as_json(rows))
    return ArrayStream(gunzip(body[i : i + chunk] for i in range(0, len(body), chunk)))


def ingest(db, rows, report_type="spTargeting", **kw):
    args = {"profile_id": PROFILE, "start": START, "end": END, "currency": "USD", "attribution_days": 7, **kw}
    written = ingest_report(db.session, report_type, rows, **args)
    db.session.commit()
    return written


def test_bulk_and_row_by_row_store_the_same_rows(db, monkeypatch):
    blocks = []
    copy_block = FastMapper.copy_block
    monkeypatch.setattr(FastMapper, "copy_block", lambda self, *a: blocks.append(copy_block(self, *a)) or blocks[-1])
    rows = target_rows(n_targets=40)
    rows[3] = {**rows[3], "keywordBid": None, "matchType": None}  # NULLs
    rows[4] = {**rows[4], "matchType": "tab\there", "keywordBid": Decimal("1E+1")}  # escaped text, odd Decimal
    rows[5] = {**rows[5], "keywordId": str(rows[5]["keywordId"]), "cost": "12.5000"}  # ids/money as strings
    rows[6] = {**rows[6], "campaignName": "a }, { b", "keyword": 'é}\\"]'}  # '}' inside strings, non-ASCII
    del rows[7]["keywordBid"], rows[7]["campaignBudgetCurrencyCode"]  # optional fields absent
    assert ingest(db, list(rows)) == len(rows)
    row_by_row = fact_rows(db.session, SpTargetDaily)
    assert ingest(db, stream(rows)) == len(rows)
    assert fact_rows(db.session, SpTargetDaily) == row_by_row
    assert ingest(db, stream(rows)) == len(rows)  # re-pull: the window is replaced
    assert fact_rows(db.session, SpTargetDaily) == row_by_row
    if db.engine.dialect.name == "postgresql":  # most slices in bulk (the odd rows' go row by row)
        assert sum(b is not None for b in blocks) > 5


def test_float_noise_and_null_metrics_stay_on_the_bulk_path_rounded(db, monkeypatch):
    """Noisy money is rounded per batch (not refused, not sent row by row); null metrics are stored as 0."""
    blocks = []
    copy_block = FastMapper.copy_block
    monkeypatch.setattr(FastMapper, "copy_block", lambda self, *a: blocks.append(copy_block(self, *a)) or blocks[-1])
    rows = target_rows(n_targets=20)
    for i, row in enumerate(rows):
        if i % 3 == 0:  # the binary neighbour of the exact amount, as a float-backed service writes it
            row["cost"] = float(row["cost"]) * (1 + 2**-50) if row["cost"] else row["cost"]
            row["sales7d"] = 0.1 + 0.2
        if i % 5 == 0:
            row.update(purchases7d=None, unitsSoldClicks7d=None, sales7d=None, clicks=None, cost=None)
    assert ingest(db, stream(rows)) == len(rows)
    if db.engine.dialect.name == "postgresql":
        assert blocks and None not in blocks  # every slice went through the bulk path
    bulk = fact_rows(db.session, SpTargetDaily)
    assert ingest(db, (row for row in stream(rows))) == len(rows)
    assert fact_rows(db.session, SpTargetDaily) == bulk
    stored = {(r.date, r.target_id): r for r in db.session.query(SpTargetDaily)}
    for i, row in enumerate(rows):
        got = stored[date.fromisoformat(row["date"]), row["keywordId"]]
        if i % 5 == 0:
            assert (got.cost, got.sales, got.clicks, got.orders, got.units) == (0, 0, 0, 0, 0)
        elif i % 3 == 0:
            assert got.sales == Decimal("0.3000")
            assert got.cost == Decimal(repr(row["cost"])).quantize(Decimal("0.01"))


def test_other_ads_report_types(db):
    metrics = {"impressions": 10, "clicks": 2, "cost": Decimal("1.10"), "purchases7d": 1, "unitsSoldClicks7d": 1,
               "sales7d": Decimal("20.00")}  # fmt: skip
    campaign = {"date": "2025-06-02", "campaignId": 11, "campaignName": "Shoes\\", "campaignStatus": "ENABLED",
                **metrics, "campaignBudgetCurrencyCode": "EUR"}  # fmt: skip
    term = {"date": "2025-06-02", "keywordId": 5, "searchTerm": "red shoes", "campaignId": 11, "adGroupId": 12,
            **metrics}  # fmt: skip
    product = {"date": "2025-06-02", "adId": 99, "campaignId": 11, "adGroupId": 12, "advertisedAsin": "B0TEST0001",
               **metrics}  # fmt: skip
    for report_type, rows, model in [("spCampaigns", [campaign], SpCampaignDaily),
                                     ("spSearchTerm", [term, {**term, "searchTerm": "b"}], SpSearchTermDaily),
                                     ("spAdvertisedProduct", [product], SpProductDaily)]:  # fmt: skip
        assert ingest(db, rows, report_type, currency="EUR") == len(rows)
        expected = fact_rows(db.session, model)
        assert ingest(db, stream(rows), report_type, currency="EUR") == len(rows)
        assert fact_rows(db.session, model) == expected
    with pytest.raises(IngestError, match="spSearchTerm row 2: field 'searchTerm': unexpected value ''"):
        ingest(db, stream([term, {**term, "searchTerm": ""}]), "spSearchTerm", currency="EUR")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"keywordId": None}, "field 'keywordId': unexpected value null"),
        ({"keywordId": "abc"}, "field 'keywordId': unexpected value 'abc'"),
        ({"keywordId": 1.5}, "field 'keywordId': 1.5 is not an exact id"),
        ({"clicks": -1}, "field 'clicks': -1 is a negative count"),
        ({"clicks": "many"}, "field 'clicks': unexpected value 'many'"),
        ({"purchases7d": 2**31}, "field 'purchases7d': 2147483648 is outside the count range"),
        ({"cost": Decimal("12345678901.5")}, "field 'cost': 12345678901.5 does not fit"),
        ({"sales7d": "NaN"}, "field 'sales7d': NaN is not a finite number"),
        ({"cost": "Infinity"}, "field 'cost': Infinity is not a finite number"),
        ({"date": "2025-05-31"}, "field 'date': 2025-05-31 is outside the report window 2025-06-01..2025-06-07"),
        ({"date": "June 1"}, "field 'date': unexpected value 'June 1'"),
        ({"campaignBudgetCurrencyCode": "EUR"}, "'EUR' differs from the profile's currency USD"),
        ({"matchType": "X" * 40}, "field 'matchType': is longer than 32 characters"),
    ],
)
def test_bad_rows_are_named_as_row_by_row(db, change, message):
    rows = target_rows(n_targets=10)
    rows[45] = {**rows[45], **change}
    with pytest.raises(IngestError) as caught:
        ingest(db, stream(rows))
    assert str(caught.value).startswith("spTargeting row 46: ") and message in str(caught.value)
    with pytest.raises(IngestError) as row_by_row:  # the same download, read as row dicts
        ingest(db, (row for row in stream(rows)))
    assert str(row_by_row.value) == str(caught.value)


def test_missing_fields_and_non_objects(db):
    rows = target_rows(n_targets=5)
    del rows[20]["sales7d"]
    with pytest.raises(IngestError, match="spTargeting row 21: field 'sales7d': missing"):
        ingest(db, stream(rows))
    with pytest.raises(IngestError, match=r"spTargeting row 3: is not a JSON object \(list\)"):
        ingest(db, stream([target_row(START, 1), target_row(START, 2), [1, 2]]))


def test_a_bad_row_outranks_an_earlier_duplicate_and_nothing_changes(db):
    ingest(db, target_rows(n_targets=2))
    before = fact_rows(db.session, SpTargetDaily)
    rows = target_rows(n_targets=20)
    rows[30] = dict(rows[2])  # duplicate key early
    with pytest.raises(IngestError, match="spTargeting: two rows for the same sp_target_daily key"):
        ingest(db, stream(rows))
    assert fact_rows(db.session, SpTargetDaily) == before
    rows[120] = {**rows[120], "clicks": -5}
    with pytest.raises(IngestError, match="spTargeting row 121: field 'clicks'"):
        ingest(db, stream(rows))
    assert fact_rows(db.session, SpTargetDaily) == before


@pytest.mark.parametrize(
    "damage",
    [
        lambda body: body[:-1],  # no closing ']'
        lambda body: body[: len(body) // 2],  # cut mid-row
        lambda body: body.replace(b'"clicks":', b'"clicks":nope,"x":', 1),
        lambda body: body + b"[]",  # data after the array
        lambda body: body.replace(b'"trail shoes"', b'"trail \xff shoes"', 1),  # invalid UTF-8 in a skipped field
        lambda body: b'{"rows": []}',
    ],
)
def test_broken_files_are_malformed_and_change_nothing(db, damage):
    ingest(db, target_rows(n_targets=2))
    before = fact_rows(db.session, SpTargetDaily)
    body = damage(as_json(target_rows(n_targets=20)))
    with pytest.raises(MalformedResponse):
        ingest(db, ArrayStream([body[i : i + 500] for i in range(0, len(body), 500)]))
    assert fact_rows(db.session, SpTargetDaily) == before


def test_empty_report_clears_the_window(db):
    ingest(db, target_rows(n_targets=2))
    assert ingest(db, ArrayStream([b" [ ", b"] \n"])) == 0
    assert fact_rows(db.session, SpTargetDaily) == []
