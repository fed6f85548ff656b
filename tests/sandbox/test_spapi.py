"""SP-API: reports, documents and FBA inventory against Amazon's Swagger models and JSON Schemas."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import httpx
import jsonschema
import pytest

from .conftest import TODAY, load_spec
from .helpers import check_swagger, sp_client, wait_sp_report

REPORTS = "/reports/2021-06-30/reports"


@pytest.fixture(scope="module")
def reports_spec():
    return load_spec("sp-api/reports_2021-06-30.json")


@pytest.fixture(scope="module")
def client(sbx):
    with sp_client(sbx, 0) as c:
        yield c


@pytest.fixture(scope="module")
def marketplace(sbx):
    return sbx.sellers[0].marketplace_ids[0]


def _document(client, reports_spec, body) -> tuple[dict, dict]:
    created = client.post(REPORTS, json=body)
    assert created.status_code == 202, created.text
    check_swagger(reports_spec, "CreateReportResponse", created.json())
    report = wait_sp_report(client, created.json()["reportId"])
    check_swagger(reports_spec, "Report", report)
    assert report["processingStatus"] == "DONE", report
    doc = client.get(f"/reports/2021-06-30/documents/{report['reportDocumentId']}")
    assert doc.status_code == 200
    check_swagger(reports_spec, "ReportDocument", doc.json())
    assert doc.json()["compressionAlgorithm"] == "GZIP" and "X-Amz-Expires=300" in doc.json()["url"]
    raw = httpx.get(doc.json()["url"])
    assert raw.status_code == 200 and "content-encoding" not in raw.headers
    return report, json.loads(gzip.decompress(raw.content))


def _validate_document(schema_file: str, document: dict) -> None:
    schema = load_spec(f"sp-api/{schema_file}")
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(document)


@pytest.mark.parametrize(("dates", "asins"), [("DAY", "CHILD"), ("WEEK", "PARENT"), ("MONTH", "SKU")])
def test_sales_and_traffic(client, reports_spec, marketplace, dates, asins):
    body = {
        "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
        "marketplaceIds": [marketplace],
        "dataStartTime": f"{TODAY - timedelta(days=30)}T00:00:00Z",
        "dataEndTime": f"{TODAY - timedelta(days=1)}T23:59:59Z",
        "reportOptions": {"dateGranularity": dates, "asinGranularity": asins},
    }
    _, doc = _document(client, reports_spec, body)
    _validate_document("sellerSalesAndTrafficReport.json", doc)
    by_date, by_asin = doc["salesAndTrafficByDate"], doc["salesAndTrafficByAsin"]
    assert by_date and by_asin
    if dates == "DAY":
        assert len(by_date) == 30
    if asins != "PARENT":
        assert all("childAsin" in a for a in by_asin)
    assert ("sku" in by_asin[0]) == (asins == "SKU")
    units = sum(d["salesByDate"]["unitsOrdered"] for d in by_date)
    if dates == "DAY":
        assert units == sum(a["salesByAsin"]["unitsOrdered"] for a in by_asin)


def test_sales_cover_ad_attributed_sales(sbx, client, reports_spec, marketplace):
    """Per ASIN, ordered product sales are at least what ads sold (the market adds organic sales)."""
    book = sbx.sandbox.market.book(sbx.sellers[0].profiles[0]["profileId"])
    body = {
        "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
        "marketplaceIds": [marketplace],
        "dataStartTime": f"{TODAY - timedelta(days=14)}T00:00:00Z",
        "dataEndTime": f"{TODAY - timedelta(days=1)}T00:00:00Z",
        "reportOptions": {"asinGranularity": "CHILD"},
    }
    _, doc = _document(client, reports_spec, body)
    units = {a["childAsin"]: a["salesByAsin"]["unitsOrdered"] for a in doc["salesAndTrafficByAsin"]}
    ad_units = sum(book.ad_units_by_purchase_day(d) for d in range(TODAY.toordinal() - 14, TODAY.toordinal()))
    assert ad_units.sum() > 0
    for p, asin in enumerate(book.cat.asin):
        assert units[asin] >= ad_units[p]


def test_promotions_and_coupons(client, reports_spec, marketplace):
    window = {"from": f"{TODAY - timedelta(days=100)}T00:00:00Z", "to": f"{TODAY}T00:00:00Z"}
    promo = {
        "reportType": "GET_PROMOTION_PERFORMANCE_REPORT",
        "marketplaceIds": [marketplace],
        "reportOptions": {"promotionStartDateFrom": window["from"], "promotionStartDateTo": window["to"]},
    }
    _, doc = _document(client, reports_spec, promo)
    _validate_document("promotionReport.json", doc)
    assert {p["type"] for p in doc["promotions"]} <= {"LIGHTNING_DEAL", "BEST_DEAL"}
    assert any(p["unitsSold"] > 0 and p["revenue"] > 0 for p in doc["promotions"])
    coupon = {
        "reportType": "GET_COUPON_PERFORMANCE_REPORT",
        "marketplaceIds": [marketplace],
        "reportOptions": {"couponStartDateFrom": window["from"], "couponStartDateTo": window["to"]},
    }
    _, doc = _document(client, reports_spec, coupon)
    _validate_document("sellerCouponReport.json", doc)
    assert all(c["budgetSpent"] <= c["budget"] for c in doc["coupons"])
    assert any(c["redemptions"] > 0 for c in doc["coupons"])


def test_empty_window_is_cancelled(client, marketplace):
    far = f"{TODAY - timedelta(days=700)}T00:00:00Z"
    body = {
        "reportType": "GET_COUPON_PERFORMANCE_REPORT",
        "marketplaceIds": [marketplace],
        "reportOptions": {"couponStartDateFrom": far, "couponStartDateTo": far},
    }
    report = wait_sp_report(client, client.post(REPORTS, json=body).json()["reportId"])
    assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report


@pytest.mark.parametrize(
    "body",
    [
        {"reportType": "GET_NOPE", "marketplaceIds": ["ATVPDKIKX0DER"]},
        {"reportType": "GET_SALES_AND_TRAFFIC_REPORT", "marketplaceIds": []},
        {"reportType": "GET_SALES_AND_TRAFFIC_REPORT", "marketplaceIds": ["A1PA6795UKMFR9"]},
        {"reportType": "GET_PROMOTION_PERFORMANCE_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]},
    ],
)
def test_invalid_create_is_400_error_list(client, reports_spec, body):
    resp = client.post(REPORTS, json=body)
    assert resp.status_code == 400
    check_swagger(reports_spec, "ErrorList", resp.json())
    assert resp.headers["x-amzn-RequestId"]


@pytest.mark.parametrize("token", [None, "Atza|IwEBIforged"])
def test_missing_or_bad_token_is_403(sbx, reports_spec, token):
    headers = {} if token is None else {"x-amz-access-token": token}
    resp = httpx.get(f"{sbx.url}{REPORTS}/123", headers=headers)
    assert resp.status_code == 403
    check_swagger(reports_spec, "ErrorList", resp.json())
    assert resp.json()["errors"][0]["code"] == "Unauthorized"
    assert resp.headers["x-amzn-RequestId"]


def test_reports_belong_to_their_seller(sbx, client, marketplace):
    rid = client.post(
        REPORTS,
        json={"reportType": "GET_SALES_AND_TRAFFIC_REPORT", "marketplaceIds": [marketplace]},
    ).json()["reportId"]
    with sp_client(sbx, 1) as other:
        assert other.get(f"{REPORTS}/{rid}").status_code == 404


def test_fba_inventory(sbx, client, marketplace):
    spec = load_spec("sp-api/fbaInventory.json")
    params = {
        "details": "true",
        "granularityType": "Marketplace",
        "granularityId": marketplace,
        "marketplaceIds": marketplace,
    }
    resp = client.get("/fba/inventory/v1/summaries", params=params)
    assert resp.status_code == 200 and resp.headers["x-amzn-RequestId"]
    check_swagger(spec, "GetInventorySummariesResponse", resp.json())
    summaries = resp.json()["payload"]["inventorySummaries"]
    book = sbx.sandbox.market.book(sbx.sellers[0].profiles[0]["profileId"])
    assert {s["sellerSku"] for s in summaries} == set(book.cat.sku)
    assert all(s["inventoryDetails"]["fulfillableQuantity"] >= 0 for s in summaries)
    one = client.get("/fba/inventory/v1/summaries", params={**params, "sellerSkus": summaries[0]["sellerSku"]})
    assert [s["sellerSku"] for s in one.json()["payload"]["inventorySummaries"]] == [summaries[0]["sellerSku"]]
    bad = client.get("/fba/inventory/v1/summaries", params={**params, "granularityType": "Seller"})
    assert bad.status_code == 400
    check_swagger(spec, "GetInventorySummariesResponse", bad.json())


def test_the_admin_inventory_history_is_what_the_api_listed_on_each_day(fresh_sbx):
    """`GET /_sandbox/inventory` gives each of the last N days' summaries as `getInventorySummaries` listed them
    that day (what the demo records as past nightly syncs), in Amazon's model, oldest first; N out of 1–400 is a
    clear 400."""
    spec = load_spec("sp-api/fbaInventory.json")
    mp = fresh_sbx.sellers[0].marketplace_ids[0]
    params = {"details": "true", "granularityType": "Marketplace", "granularityId": mp, "marketplaceIds": mp}
    with sp_client(fresh_sbx, 0) as c:
        listed = {s["asin"]: s for s in c.get("/fba/inventory/v1/summaries", params=params).json()["payload"][
            "inventorySummaries"]}
    day = fresh_sbx.admin.today()
    fresh_sbx.admin.advance(2)
    history = fresh_sbx.admin.inventory_history(0, mp, 3)
    assert [d["date"] for d in history] == [(day + timedelta(days=k)).isoformat() for k in (-1, 0, 1)]
    assert {s["asin"]: s for s in history[1]["inventorySummaries"]} == listed
    assert history[0]["inventorySummaries"] != history[2]["inventorySummaries"]  # the stock moved
    for summary in history[0]["inventorySummaries"]:
        check_swagger(spec, "InventorySummary", summary)
    for bad in ("0", "401", "two"):
        resp = httpx.get(f"{fresh_sbx.url}/_sandbox/inventory", params={"seller": 0, "days": bad},
                         headers={"X-Sandbox-Key": fresh_sbx.admin_key})
        assert resp.status_code == 400 and "days must be a whole number from 1 to 400" in resp.text


def test_sp_report_faults(fresh_sbx):
    mp = fresh_sbx.sellers[0].marketplace_ids[0]
    body = {"reportType": "GET_SALES_AND_TRAFFIC_REPORT", "marketplaceIds": [mp]}
    with sp_client(fresh_sbx, 0) as c:
        fresh_sbx.admin.fault("report_fail", path_prefix="/reports/", count=1)
        assert wait_sp_report(c, c.post(REPORTS, json=body).json()["reportId"])["processingStatus"] == "FATAL"
        fresh_sbx.admin.fault("report_pending", path_prefix="/reports/", count=1)
        stuck = c.post(REPORTS, json=body).json()["reportId"]
        assert wait_sp_report(c, stuck, timeout=1.0)["processingStatus"] == "IN_QUEUE"
