"""The sandbox as unkind as Amazon, over real HTTP: Amazon's rate limits (429s without Retry-After), throttling
streaks and held reports measured in hours of Amazon time (a time scale makes them seconds), float noise and
null metrics in report files, a report type refused for a missing role."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import httpx
import pytest

from marketing.sandbox.testing import running_sandbox

from .conftest import TODAY, load_spec
from .helpers import (
    CREATE_REPORT,
    ads_client,
    check_openapi,
    check_swagger,
    home_profile,
    openapi,
    post_vendor,
    report_request,
    sp_client,
    wait_report,
    wait_sp_report,
)

pytestmark = pytest.mark.sqlite
WEEK = (TODAY - timedelta(days=7), TODAY - timedelta(days=1))
SP_REPORTS = "/reports/2021-06-30/reports"
SCALE = 60  # an hour of Amazon time is a minute of (fake) wall time


@pytest.fixture
def slow_amazon(clock):
    with running_sandbox(seed=6, today=TODAY, wall_clock=clock, time_scale=SCALE) as handle:
        yield handle


def sales_traffic(marketplace: str) -> dict:
    day = (TODAY - timedelta(days=1)).isoformat()
    return {"reportType": "GET_SALES_AND_TRAFFIC_REPORT", "marketplaceIds": [marketplace],
            "dataStartTime": day, "dataEndTime": day}  # fmt: skip


def test_sp_api_buckets_per_seller_and_operation_429_without_retry_after(slow_amazon, clock):
    spec = load_spec("sp-api/reports_2021-06-30.json")
    assert slow_amazon.admin.rate_limits(enabled=True)["sp"]["createReport"] == {"rate": 1 / 60, "burst": 15}
    first, second = slow_amazon.sellers[0], slow_amazon.sellers[1]
    with sp_client(slow_amazon, 0) as sp, sp_client(slow_amazon, 1) as other:
        body = sales_traffic(first.marketplace_ids[0])
        created = [sp.post(SP_REPORTS, json=body) for _ in range(15)]
        assert {r.status_code for r in created} == {202}
        refused = sp.post(SP_REPORTS, json=body)
        assert refused.status_code == 429 and "Retry-After" not in refused.headers
        assert "x-amzn-RateLimit-Limit" not in refused.headers  # never on a 429 (SP_API.md §3.3)
        check_swagger(spec, "ErrorList", refused.json())
        assert refused.json()["errors"][0]["code"] == "QuotaExceeded"
        report_id = created[0].json()["reportId"]
        assert sp.get(f"{SP_REPORTS}/{report_id}").status_code == 200  # getReport: its own bucket
        assert other.post(SP_REPORTS, json=sales_traffic(second.marketplace_ids[0])).status_code == 202
        clock.tick(60 / SCALE)  # one Amazon minute: one createReport token
        assert sp.post(SP_REPORTS, json=body).status_code == 202
        assert sp.post(SP_REPORTS, json=body).status_code == 429
    assert slow_amazon.admin.rate_limits()["throttled"] == 2


def test_ads_buckets_per_client_id_and_profile(fresh_sbx):
    api = openapi(load_spec("ads/OfflineReport_v3.json"))
    fresh_sbx.admin.rate_limits(enabled=True, ads_rate=0.01, ads_burst=2)
    seller = fresh_sbx.sellers[0]
    profiles = [p["profileId"] for p in seller.profiles if p["accountInfo"]["type"] == "seller"]
    with ads_client(fresh_sbx, 0, profiles[0]) as c:
        assert [c.get("/reporting/reports/nope").status_code for _ in range(2)] == [404, 404]
        throttled = c.get("/reporting/reports/nope")
        assert throttled.status_code == 429 and "Retry-After" not in throttled.headers  # reporting v3: none
        check_openapi(api, "GET", "/reporting/reports/nope", throttled)
        profiles_call = c.get("/v2/profiles")
        assert profiles_call.status_code == 429 and int(profiles_call.headers["Retry-After"]) > 0
    if len(profiles) > 1:
        with ads_client(fresh_sbx, 0, profiles[1]) as c:
            assert c.get("/reporting/reports/nope").status_code == 404  # another profile, another bucket
    assert fresh_sbx.admin.rate_limits(enabled=False)["throttled"] == 2
    with ads_client(fresh_sbx, 0, profiles[0]) as c:
        assert c.get("/reporting/reports/nope").status_code == 404


def test_a_429_streak_without_retry_after_for_two_hours_of_amazon_time(slow_amazon, clock):
    slow_amazon.admin.fault("throttle", path_prefix="/reporting/reports", method="POST", hours=2)
    with ads_client(slow_amazon, 0, home_profile(slow_amazon)) as c:
        for _ in range(3):
            refused = post_vendor(c, "/reporting/reports", CREATE_REPORT, report_request(*WEEK))
            assert refused.status_code == 429 and "Retry-After" not in refused.headers
            assert c.get("/reporting/reports/nope").status_code == 404  # polls are not throttled
            clock.tick(0.9 * 3600 / SCALE / 2)  # 0.45 Amazon hours
        clock.tick(2 * 3600 / SCALE)  # past the two hours
        assert post_vendor(c, "/reporting/reports", CREATE_REPORT, report_request(*WEEK)).status_code == 200


def test_reports_held_pending_for_hours_then_done(slow_amazon, clock):
    slow_amazon.admin.fault("report_pending", path_prefix="/reporting", hold_hours=5, count=1)
    slow_amazon.admin.fault("report_pending", path_prefix="/reports/", hold_hours=5, count=1)
    seller = slow_amazon.sellers[0]
    with ads_client(slow_amazon, 0, home_profile(slow_amazon)) as c, sp_client(slow_amazon, 0) as sp:
        ads_id = post_vendor(c, "/reporting/reports", CREATE_REPORT, report_request(*WEEK)).json()["reportId"]
        sp_id = sp.post(SP_REPORTS, json=sales_traffic(seller.marketplace_ids[0])).json()["reportId"]
        clock.tick(4.9 * 3600 / SCALE)
        assert c.get(f"/reporting/reports/{ads_id}").json()["status"] == "PENDING"
        assert sp.get(f"{SP_REPORTS}/{sp_id}").json()["processingStatus"] == "IN_QUEUE"
        clock.tick(0.2 * 3600 / SCALE)
        assert wait_report(c, ads_id)["status"] == "COMPLETED"
        assert wait_sp_report(sp, sp_id)["processingStatus"] == "DONE"


def test_a_report_type_refused_for_a_missing_role(fresh_sbx):
    spec = load_spec("sp-api/reports_2021-06-30.json")
    fresh_sbx.admin.fault("role_denied", path_prefix="/reports/")
    seller = fresh_sbx.sellers[0]
    with sp_client(fresh_sbx, 0) as sp:
        refused = sp.post(SP_REPORTS, json=sales_traffic(seller.marketplace_ids[0]))
        assert refused.status_code == 403 and refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"
        check_swagger(spec, "ErrorList", refused.json())
        assert refused.json() == {
            "errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]
        }
        day = (TODAY - timedelta(days=10)).isoformat()
        promotions = {"reportType": "GET_PROMOTION_PERFORMANCE_REPORT", "marketplaceIds": seller.marketplace_ids[:1],
                      "reportOptions": {"promotionStartDateFrom": day, "promotionStartDateTo": day}}  # fmt: skip
        assert sp.post(SP_REPORTS, json=promotions).status_code == 202  # only that report type


def _download(sbx, *faults: str) -> bytes:
    for kind in faults:
        sbx.admin.fault(kind, path_prefix="/reporting", count=1)
    with ads_client(sbx, 0, home_profile(sbx)) as c:
        resp = post_vendor(c, "/reporting/reports", CREATE_REPORT, report_request(*WEEK))
        done = wait_report(c, resp.json()["reportId"])
        return gzip.decompress(httpx.get(done["url"]).content)


def test_float_noise_and_null_metrics_in_report_files(fresh_sbx):
    noisy = _download(fresh_sbx, "float_noise", "null_metrics")
    clean = json.loads(_download(fresh_sbx))  # the same report, as exact text
    rows = json.loads(noisy)
    assert len(rows) == len(clean) and rows != clean
    assert b"9999999" in noisy or b"0000001" in noisy  # binary neighbours, as a float-backed service writes
    for got, exact in zip(rows, clean, strict=True):
        for name, value in exact.items():
            if value == 0 and (name in ("clicks", "cost") and exact["clicks"] == 0 or
                               name in ("purchases7d", "sales7d") and exact["purchases7d"] == 0):  # fmt: skip
                assert got[name] is None
            elif isinstance(value, float):
                assert got[name] != value or value == int(value)  # integral amounts stay as they were
                assert round(got[name], 4) == round(value, 4)
            else:
                assert got[name] == value
    assert any(r["clicks"] is None for r in rows) and any(r["sales7d"] is None for r in rows)


def test_float_noise_in_sp_api_documents(fresh_sbx):
    seller = fresh_sbx.sellers[0]

    def document(sp) -> bytes:
        report_id = sp.post(SP_REPORTS, json=sales_traffic(seller.marketplace_ids[0])).json()["reportId"]
        doc_id = wait_sp_report(sp, report_id)["reportDocumentId"]
        url = sp.get(f"/reports/2021-06-30/documents/{doc_id}").json()["url"]
        return gzip.decompress(httpx.get(url).content)

    fresh_sbx.admin.fault("float_noise", path_prefix="/reports/", count=1)
    with sp_client(fresh_sbx, 0) as sp:
        noisy, exact = document(sp), json.loads(document(sp))
    amounts = [(json.loads(noisy)["salesAndTrafficByDate"][0]["salesByDate"][k]["amount"],
                exact["salesAndTrafficByDate"][0]["salesByDate"][k]["amount"])
               for k in ("orderedProductSales", "averageSellingPrice")]  # fmt: skip
    assert all(round(got, 2) == value for got, value in amounts)
    assert any(got != value for got, value in amounts)
