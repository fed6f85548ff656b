"""Plain-httpx helpers that talk to the sandbox the way the product will: Amazon paths only."""

from __future__ import annotations

import gzip
import json
import time

import httpx
import jsonschema
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

KEYWORD = "application/vnd.spKeyword.v3+json"
TARGET = "application/vnd.spTargetingClause.v3+json"
CAMPAIGN = "application/vnd.spCampaign.v3+json"
AD_GROUP = "application/vnd.spAdGroup.v3+json"
PRODUCT_AD = "application/vnd.spProductAd.v3+json"
CREATE_REPORT = "application/vnd.createasyncreportrequest.v3+json"


def token(sbx, refresh_token: str, app: str = "ads") -> str:
    client_id = sbx.ads_client_id if app == "ads" else sbx.sp_client_id
    secret = sbx.ads_client_secret if app == "ads" else sbx.sp_client_secret
    resp = httpx.post(
        f"{sbx.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": secret,
        },
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def ads_client(sbx, seller_index: int = 0, profile_id: int | None = None) -> httpx.Client:
    seller = sbx.sellers[seller_index]
    headers = {
        "Authorization": f"Bearer {token(sbx, seller.ads_refresh_token)}",
        "Amazon-Advertising-API-ClientId": sbx.ads_client_id,
    }
    if profile_id is not None:
        headers["Amazon-Advertising-API-Scope"] = str(profile_id)
    return httpx.Client(base_url=sbx.url, headers=headers, timeout=60)


def sp_client(sbx, seller_index: int = 0) -> httpx.Client:
    seller = sbx.sellers[seller_index]
    headers = {"x-amz-access-token": token(sbx, seller.sp_refresh_token, "sp")}
    return httpx.Client(base_url=sbx.url, headers=headers, timeout=60)


def home_profile(sbx, seller_index: int = 0) -> int:
    return sbx.sellers[seller_index].profiles[0]["profileId"]


def post_vendor(client: httpx.Client, path: str, media: str, body: dict) -> httpx.Response:
    return client.post(path, content=json.dumps(body), headers={"Content-Type": media, "Accept": media})


def list_all(client: httpx.Client, entity: str, media: str, key: str, body: dict | None = None, page: int = 100):
    """Page through a v3 list call with maxResults + nextToken; returns every item."""
    items, body = [], dict(body or {}, maxResults=page)
    while True:
        resp = post_vendor(client, f"/sp/{entity}/list", media, body)
        assert resp.status_code == 200, resp.text
        data = resp.json()
        items += data[key]
        if "nextToken" not in data:
            return items
        body["nextToken"] = data["nextToken"]


def report_request(start, end, report_type="spTargeting", group_by=("targeting",), columns=None, time_unit="DAILY"):
    columns = columns or ["date", "keywordId", "keywordBid", "impressions", "clicks", "cost", "purchases7d", "sales7d"]
    return {
        "startDate": str(start),
        "endDate": str(end),
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "reportTypeId": report_type,
            "groupBy": list(group_by),
            "columns": list(columns),
            "timeUnit": time_unit,
            "format": "GZIP_JSON",
        },
    }


def wait_report(client: httpx.Client, report_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = client.get(f"/reporting/reports/{report_id}").json()
        if data["status"] in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def fetch_report(client: httpx.Client, body: dict) -> list[dict]:
    resp = post_vendor(client, "/reporting/reports", CREATE_REPORT, body)
    assert resp.status_code == 200, resp.text
    done = wait_report(client, resp.json()["reportId"])
    assert done["status"] == "COMPLETED", done
    return json.loads(gzip.decompress(httpx.get(done["url"]).content))


def wait_sp_report(client: httpx.Client, report_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = client.get(f"/reports/2021-06-30/reports/{report_id}").json()
        if data["processingStatus"] in ("DONE", "CANCELLED", "FATAL") or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def openapi(spec: dict) -> OpenAPI:
    """An OpenAPI 3.0 validator that reads Amazon's vendor `+json` media types as JSON.

    Amazon's SP v3 document has a few invalid defaults ('200' for a number), so the spec lint is off.
    """
    vendor = {
        media.lower()  # openapi-core looks media types up in lower case
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for part in [op.get("requestBody", {}), *op.get("responses", {}).values()]
        for media in part.get("content", {})
        if media.endswith("+json")
    }
    config = Config(spec_validator_cls=None, extra_media_type_deserializers=dict.fromkeys(vendor, json.loads))
    return OpenAPI.from_dict(spec, config=config)


def check_openapi(api: OpenAPI, method: str, path: str, resp: httpx.Response, request_body: bytes | None = None):
    """Validate a real response against the operation at `path` in an OpenAPI 3.0 document."""
    content_type = resp.headers.get("content-type", "application/json").split(";")[0]
    req = MockRequest("http://localhost", method.lower(), path, data=request_body)
    res = MockResponse(
        resp.content, status_code=resp.status_code, headers=dict(resp.headers), content_type=content_type
    )
    api.validate_response(req, res)


def check_swagger(spec: dict, definition: str, body: object) -> None:
    """Validate against a Swagger 2.0 `#/definitions/...` model with draft-4 semantics."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]}
    jsonschema.Draft4Validator(schema).validate(body)


def sp_document(client: httpx.Client, body: dict) -> dict | None:
    """Create an SP-API report, wait for it and return its JSON document (None when Amazon cancels it)."""
    created = client.post("/reports/2021-06-30/reports", json=body)
    assert created.status_code == 202, created.text
    report = wait_sp_report(client, created.json()["reportId"])
    if report["processingStatus"] == "CANCELLED":
        return None
    assert report["processingStatus"] == "DONE", report
    doc = client.get(f"/reports/2021-06-30/documents/{report['reportDocumentId']}")
    assert doc.status_code == 200, doc.text
    return json.loads(gzip.decompress(httpx.get(doc.json()["url"]).content))
