import gzip
from datetime import UTC, date, datetime

import httpx
import orjson
import pytest

from marketing.amazon import AmazonRequestError, MalformedResponse, Region, ReportFailed, SpClient, Throttled

from .conftest import json_response

REPORTS = "/reports/2021-06-30"
DOC_URL = "https://tortuga-prod-na.s3.amazonaws.com/doc?X-Amz-Signature=sig"
DOC_PATH = "/doc"


@pytest.fixture
def sp(transport, hosts, token_source) -> SpClient:
    return SpClient(transport, hosts, Region.NA, token_source)


def test_create_report(fake, sp):
    fake.on("POST", f"{REPORTS}/reports", json_response(202, {"reportId": "ID323"}))
    report_id = sp.create_report(
        "GET_PROMOTION_PERFORMANCE_REPORT",
        ["ATVPDKIKX0DER"],
        start=date(2025, 1, 1),
        end=datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC),
        options={"promotionStartDateFrom": "2025-01-01T00:00:00Z", "promotionStartDateTo": "2025-01-31T00:00:00Z"},
    )
    assert report_id == "ID323"
    (call,) = fake.calls("POST", f"{REPORTS}/reports")
    assert call.url.host == "sellingpartnerapi-na.amazon.com"
    assert call.headers["x-amz-access-token"] == "Atza|access-1"
    assert "Authorization" not in call.headers
    assert "Language=Python" in call.headers["user-agent"]
    assert call.headers["Content-Type"] == "application/json"
    assert orjson.loads(call.content) == {
        "reportType": "GET_PROMOTION_PERFORMANCE_REPORT",
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "dataStartTime": "2025-01-01T00:00:00Z",
        "dataEndTime": "2025-01-31T23:59:59Z",
        "reportOptions": {"promotionStartDateFrom": "2025-01-01T00:00:00Z",
                          "promotionStartDateTo": "2025-01-31T00:00:00Z"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("status", "document_id", "done", "fails"),
    [("IN_QUEUE", None, False, False), ("IN_PROGRESS", None, False, False), ("DONE", "doc-1", True, False),
     ("CANCELLED", None, True, True), ("FATAL", "doc-err", True, True)],
)  # fmt: skip
def test_get_report_statuses(fake, sp, status, document_id, done, fails):
    body = {"reportId": "ID323", "reportType": "GET_SALES_AND_TRAFFIC_REPORT", "processingStatus": status,
            "createdTime": "2025-01-01T00:00:00Z"}  # fmt: skip
    if document_id:
        body["reportDocumentId"] = document_id
    fake.on("GET", f"{REPORTS}/reports/ID323", json_response(200, body))
    report = sp.get_report("ID323")
    assert (report.status, report.document_id, report.done) == (status, document_id, done)
    if fails:
        with pytest.raises(ReportFailed):
            report.raise_if_failed()
    else:
        report.raise_if_failed()


def test_sp_api_error_body_keeps_code_details_and_request_id(fake, sp, sleeps):
    body = {"errors": [{"code": "InvalidInput", "message": "Invalid input", "details": "marketplaceIds"}]}
    fake.on("GET", f"{REPORTS}/reports/bad", json_response(400, body, {"x-amzn-RequestId": "a1b2-c3"}))
    with pytest.raises(AmazonRequestError) as caught:
        sp.get_report("bad")
    error = caught.value
    assert (error.code, error.message, error.details, error.request_id, error.status) == (
        "InvalidInput", "Invalid input", "marketplaceIds", "a1b2-c3", 400
    )  # fmt: skip
    assert "a1b2-c3" in str(error)


def test_sp_api_throttle_without_retry_after_backs_off(fake, sp, sleeps):
    throttled = json_response(429, {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]})
    fake.on("GET", f"{REPORTS}/reports/x", throttled)
    with pytest.raises(Throttled) as caught:
        sp.get_report("x")
    assert sleeps == [0.5, 1.0, 2.0] and caught.value.code == "QuotaExceeded"


def test_report_document_and_gzip_download(fake, sp):
    fake.on("GET", f"{REPORTS}/documents/doc-1", json_response(200, {
        "reportDocumentId": "doc-1", "url": DOC_URL, "compressionAlgorithm": "GZIP"}))  # fmt: skip
    document = sp.get_report_document("doc-1")
    assert (document.document_id, document.url, document.compression) == ("doc-1", DOC_URL, "GZIP")
    assert "sig" not in repr(document)
    report = {
        "reportSpecification": {"reportType": "GET_SALES_AND_TRAFFIC_REPORT"},
        "salesAndTrafficByDate": [{"date": "2025-01-01", "salesByDate": {"unitsOrdered": 3}}],
        "salesAndTrafficByAsin": [{"parentAsin": "B0001", "salesByAsin": {"unitsOrdered": 2}},
                                  {"parentAsin": "B0002", "salesByAsin": {"unitsOrdered": 1}}],
    }  # fmt: skip
    fake.on("GET", DOC_PATH, httpx.Response(200, content=gzip.compress(orjson.dumps(report))))
    items = list(sp.iter_document_items(
        document.url, document.compression, ["salesAndTrafficByDate.item", "salesAndTrafficByAsin.item"]))  # fmt: skip
    assert items == [
        ("salesAndTrafficByDate.item", report["salesAndTrafficByDate"][0]),
        ("salesAndTrafficByAsin.item", report["salesAndTrafficByAsin"][0]),
        ("salesAndTrafficByAsin.item", report["salesAndTrafficByAsin"][1]),
    ]
    call = fake.calls("GET", DOC_PATH)[0]
    assert "x-amz-access-token" not in call.headers and "Authorization" not in call.headers


def test_uncompressed_document_passes_through(fake, sp):
    fake.on("GET", DOC_PATH, httpx.Response(200, content=b"sku\tqty\nA\t1\n"))
    assert b"".join(sp.download_document(DOC_URL, None)) == b"sku\tqty\nA\t1\n"


def test_document_scalar_prefix_and_broken_documents(fake, sp):
    fake.on("GET", DOC_PATH, httpx.Response(200, content=orjson.dumps({"reportSpecification": {"reportType": "X"}})))
    assert list(sp.iter_document_items(DOC_URL, None, ["reportSpecification.reportType"])) == [
        ("reportSpecification.reportType", "X")
    ]
    for content in (gzip.compress(b'{"promotions": [{"a": 1}')[:-8], gzip.compress(b'[{"a": 1}]')):
        fake.on("GET", DOC_PATH, httpx.Response(200, content=content))
        with pytest.raises(MalformedResponse):
            list(sp.iter_document_items(DOC_URL, "GZIP", ["promotions.item"]))


def test_document_answer_without_url_is_malformed(fake, sp):
    fake.on("GET", f"{REPORTS}/documents/doc-2", json_response(200, {"reportDocumentId": "doc-2"}))
    with pytest.raises(MalformedResponse):
        sp.get_report_document("doc-2")


def test_inventory_summaries_follow_pagination(fake, sp):
    pages = {
        None: {"payload": {"granularity": {}, "inventorySummaries": [{"sellerSku": "A"}, {"sellerSku": "B"}]},
               "pagination": {"nextToken": "n1"}},
        "n1": {"payload": {"granularity": {}, "inventorySummaries": [{"sellerSku": "C"}]}},
    }  # fmt: skip
    path = "/fba/inventory/v1/summaries"
    fake.on("GET", path, lambda r: json_response(200, pages[r.url.params.get("nextToken")]))
    skus = [s["sellerSku"] for s in sp.iter_inventory_summaries("ATVPDKIKX0DER")]
    assert skus == ["A", "B", "C"]
    first, second = fake.calls("GET", path)
    assert dict(first.url.params) == {"granularityType": "Marketplace", "granularityId": "ATVPDKIKX0DER",
                                      "marketplaceIds": "ATVPDKIKX0DER", "details": "true"}  # fmt: skip
    assert second.url.params["nextToken"] == "n1" and second.url.params["granularityId"] == "ATVPDKIKX0DER"


def test_inventory_error_payload_is_malformed(fake, sp):
    fake.on("GET", "/fba/inventory/v1/summaries", json_response(200, {"errors": []}))
    with pytest.raises(MalformedResponse):
        list(sp.iter_inventory_summaries("ATVPDKIKX0DER"))
