import gzip
import zlib
from datetime import date
from decimal import Decimal

import httpx
import orjson
import pytest

from marketing.amazon import (
    AdsClient,
    AmazonRequestError,
    InvalidGrant,
    MalformedResponse,
    Region,
    ReportFailed,
)
from marketing.amazon.ads import SP_CAMPAIGNS_COLUMNS, SP_SEARCH_TERM_COLUMNS, SP_TARGETING_COLUMNS
from marketing.models.connections import MANAGEABLE_ACCOUNT_TYPES

from .conftest import CLIENT_ID, TOKEN_PATH, gzipped, json_response

PROFILE = 3_456_789_012_345_678
KEYWORD_TYPE = "application/vnd.spKeyword.v3+json"
REPORT_URL = "https://offline-report-storage-us-east-1-prod.s3.amazonaws.com/r.json.gz?X-Amz-Signature=sig"
REPORT_PATH = "/r.json.gz"


@pytest.fixture
def ads(transport, hosts, token_source) -> AdsClient:
    return AdsClient(transport, hosts, Region.NA, CLIENT_ID, token_source)


PROFILES = [
    {"profileId": PROFILE, "countryCode": "US", "currencyCode": "USD", "timezone": "America/Los_Angeles",
     "dailyBudget": 10.0, "accountInfo": {"marketplaceStringId": "ATVPDKIKX0DER", "id": "A1SELLER",
                                          "type": "seller", "name": ""}},
    {"profileId": 42, "countryCode": "CA", "currencyCode": "CAD", "timezone": "America/Los_Angeles",
     "accountInfo": {"marketplaceStringId": "A2EUQ1WTGCTBG2", "id": "ENTITY1", "type": "agency",
                     "name": "Big Agency"}},
]  # fmt: skip


def test_list_profiles(fake, ads):
    fake.on("GET", "/v2/profiles", json_response(200, PROFILES))
    seller, agency = ads.list_profiles()
    assert seller.profile_id == PROFILE and isinstance(seller.profile_id, int)
    assert (seller.country_code, seller.currency_code, seller.timezone, seller.marketplace_id) == (
        "US", "USD", "America/Los_Angeles", "ATVPDKIKX0DER"
    )  # fmt: skip
    assert (seller.account_type, agency.account_type, agency.account_name) == ("seller", "agency", "Big Agency")
    assert seller.account_type in MANAGEABLE_ACCOUNT_TYPES and agency.account_type not in MANAGEABLE_ACCOUNT_TYPES
    (request,) = fake.calls("GET", "/v2/profiles")
    assert request.url.host == "advertising-api.amazon.com"
    assert request.headers["Amazon-Advertising-API-ClientId"] == CLIENT_ID
    assert request.headers["Authorization"] == "Bearer Atza|access-1"
    assert "Amazon-Advertising-API-Scope" not in request.headers


def test_profile_with_missing_fields_is_malformed(fake, ads):
    fake.on("GET", "/v2/profiles", json_response(200, [{"profileId": 1, "countryCode": "US"}]))
    with pytest.raises(MalformedResponse):
        ads.list_profiles()
    fake.on("GET", "/v2/profiles", json_response(200, {"profiles": []}))
    with pytest.raises(MalformedResponse):
        ads.list_profiles()


def test_iter_entities_follows_next_token(fake, ads):
    pages = {
        None: {"keywords": [{"keywordId": "1"}, {"keywordId": "2"}], "nextToken": "t1", "totalResults": 5},
        "t1": {"keywords": [{"keywordId": "3"}, {"keywordId": "4"}], "nextToken": "t2"},
        "t2": {"keywords": [{"keywordId": "5"}]},
    }
    fake.on("POST", "/sp/keywords/list", lambda r: json_response(200, pages[orjson.loads(r.content).get("nextToken")]))
    rows = list(ads.iter_entities(PROFILE, "keywords", state_filter=["enabled", "PAUSED"]))
    assert [r["keywordId"] for r in rows] == ["1", "2", "3", "4", "5"]
    calls = fake.calls("POST", "/sp/keywords/list")
    assert len(calls) == 3
    bodies = [orjson.loads(c.content) for c in calls]
    assert bodies[0] == {"stateFilter": {"include": ["ENABLED", "PAUSED"]}}
    assert bodies[2] == {"stateFilter": {"include": ["ENABLED", "PAUSED"]}, "nextToken": "t2"}
    for call in calls:
        assert call.headers["Content-Type"] == KEYWORD_TYPE and call.headers["Accept"] == KEYWORD_TYPE
        assert call.headers["Amazon-Advertising-API-Scope"] == str(PROFILE)


@pytest.mark.parametrize(
    ("kind", "media_type", "key", "id_filter"),
    [
        ("campaigns", "application/vnd.spCampaign.v3+json", "campaigns", "campaignIdFilter"),
        ("adGroups", "application/vnd.spAdGroup.v3+json", "adGroups", "adGroupIdFilter"),
        ("targets", "application/vnd.spTargetingClause.v3+json", "targetingClauses", "targetIdFilter"),
        ("productAds", "application/vnd.spProductAd.v3+json", "productAds", "adIdFilter"),
    ],
)
def test_each_kind_uses_its_media_type_and_keys(fake, transport, hosts, token_source, kind, media_type, key,
                                                id_filter):  # fmt: skip
    ads = AdsClient(transport, hosts, Region.NA, CLIENT_ID, token_source, page_size=100)
    fake.on("POST", f"/sp/{kind}/list", json_response(200, {key: [{"x": 1}]}))
    assert list(ads.iter_entities(PROFILE, kind, id_filter=[11, "12"])) == [{"x": 1}]
    (call,) = fake.calls("POST", f"/sp/{kind}/list")
    assert call.headers["Content-Type"] == media_type == call.headers["Accept"]
    assert orjson.loads(call.content) == {"maxResults": 100, id_filter: {"include": ["11", "12"]}}


def test_large_id_filters_are_split_to_amazons_limit(fake, ads):
    fake.on("POST", "/sp/keywords/list", json_response(200, {"keywords": []}))
    list(ads.iter_entities(PROFILE, "keywords", id_filter=[str(i) for i in range(2500)]))
    sizes = [
        len(orjson.loads(c.content)["keywordIdFilter"]["include"]) for c in fake.calls("POST", "/sp/keywords/list")
    ]
    assert sizes == [1000, 1000, 500]


def test_unexpected_list_shape_is_malformed(fake, ads):
    fake.on("POST", "/sp/keywords/list", json_response(200, {"keywords": {"oops": 1}}))
    with pytest.raises(MalformedResponse):
        list(ads.iter_entities(PROFILE, "keywords"))


def test_agency_profile_refusal_is_explained(fake, ads):
    fake.on("POST", "/sp/campaigns/list", json_response(401, {"code": "UNAUTHORIZED", "message": "Not authorized"}))
    with pytest.raises(AmazonRequestError) as caught:
        list(ads.iter_entities(42, "campaigns"))
    assert "agency/DSP" in str(caught.value) and "profile 42" in str(caught.value)
    assert caught.value.status == 401


def test_known_agency_profile_refusal_is_explained(fake, ads):
    fake.on("GET", "/v2/profiles", json_response(200, PROFILES))
    ads.list_profiles()
    body = {"code": "INVALID_ARGUMENT", "message": "The request input is invalid. Advertiser ID cannot be decrypted"}
    fake.on("POST", "/sp/keywords/list", json_response(400, body))
    with pytest.raises(AmazonRequestError) as caught:
        list(ads.iter_entities(42, "keywords"))
    assert str(caught.value).startswith("Profile 42 is an agency/DSP profile")
    assert "cannot be decrypted" in caught.value.message and caught.value.code == "INVALID_ARGUMENT"
    fake.on("POST", "/sp/keywords/list", json_response(400, {"code": "INVALID_ARGUMENT", "message": "bad filter"}))
    with pytest.raises(AmazonRequestError) as caught:
        list(ads.iter_entities(PROFILE, "keywords"))
    assert caught.value.message == "bad filter"  # a seller profile's 400 is left as Amazon said it


MULTI_STATUS = {
    "keywords": {
        "success": [{"index": 0, "keywordId": "k1"}, {"index": 2, "keywordId": "k3"}],
        "error": [{"index": 1, "errors": [{"errorType": "biddingError", "errorValue": {"biddingError": {
            "reason": "BID_OUT_OF_MARKET_PLACE_RANGE", "message": "Bid must be at most 1000",
            "cause": {"location": "$.keywords[1].bid"}}}}]}],
    }
}  # fmt: skip


def test_update_bids_parses_207_per_item(fake, ads):
    fake.on("PUT", "/sp/keywords", json_response(207, MULTI_STATUS))
    results = ads.update_bids(PROFILE, "keywords", [("k1", Decimal("0.55")), ("k2", 5000), ("k3", 1.2)])
    assert [(r.entity_id, r.bid, r.ok) for r in results] == [("k1", 0.55, True), ("k2", 5000.0, False),
                                                           ("k3", 1.2, True)]  # fmt: skip
    assert results[1].error_code == "BID_OUT_OF_MARKET_PLACE_RANGE"
    assert results[1].error_message == "Bid must be at most 1000"
    (call,) = fake.calls("PUT", "/sp/keywords")
    assert call.headers["Content-Type"] == KEYWORD_TYPE
    assert orjson.loads(call.content) == {
        "keywords": [
            {"keywordId": "k1", "bid": 0.55},
            {"keywordId": "k2", "bid": 5000.0},
            {"keywordId": "k3", "bid": 1.2},
        ]
    }


def test_update_targets_uses_targeting_clauses(fake, ads):
    body = {"targetingClauses": {"success": [{"index": 0, "targetId": "t1"}], "error": []}}
    fake.on("PUT", "/sp/targets", json_response(207, body))
    (result,) = ads.update_bids(PROFILE, "targets", [(77, 0.4)])
    assert result.ok and result.entity_id == "t1"
    call = fake.calls("PUT", "/sp/targets")[0]
    assert call.headers["Content-Type"] == "application/vnd.spTargetingClause.v3+json"
    assert orjson.loads(call.content) == {"targetingClauses": [{"targetId": "77", "bid": 0.4}]}


def test_update_bids_batches_and_maps_whole_batch_failures(fake, ads):
    def handler(request):
        items = orjson.loads(request.content)["keywords"]
        if len(fake.calls("PUT", "/sp/keywords")) == 2:
            return json_response(400, {"code": "INVALID_ARGUMENT", "message": "Profile is paused"})
        return json_response(207, {"keywords": {"success": [{"index": i, "keywordId": k["keywordId"]}
                                                            for i, k in enumerate(items)]}})  # fmt: skip

    fake.on("PUT", "/sp/keywords", handler)
    results = ads.update_bids(PROFILE, "keywords", [(str(i), 1.0) for i in range(2500)])
    assert [len(orjson.loads(c.content)["keywords"]) for c in fake.calls("PUT", "/sp/keywords")] == [1000, 1000, 500]
    assert len(results) == 2500
    assert all(r.ok for r in results[:1000]) and all(r.ok for r in results[2000:])
    failed = results[1000:2000]
    assert all(not r.ok and r.error_code == "INVALID_ARGUMENT" and r.error_message == "Profile is paused"
               and not r.retryable for r in failed)  # fmt: skip
    assert [r.entity_id for r in results] == [str(i) for i in range(2500)]


def test_throttled_batch_is_marked_retryable(fake, ads, sleeps):
    fake.on("PUT", "/sp/keywords", json_response(429, {"code": "THROTTLED", "message": "slow"}, {"Retry-After": "90"}))
    (result,) = ads.update_bids(PROFILE, "keywords", [("k1", 1.0)])
    assert not result.ok and result.retryable and result.error_code == "THROTTLED"


def test_item_missing_from_207_is_reported_not_assumed_ok(fake, ads):
    fake.on("PUT", "/sp/keywords", json_response(207, {"keywords": {"success": [{"index": 0, "keywordId": "a"}]}}))
    results = ads.update_bids(PROFILE, "keywords", [("a", 1.0), ("b", 2.0)])
    assert results[0].ok and not results[1].ok and results[1].error_code == "NO_RESULT"


def test_revoked_connection_during_bid_update_raises(fake, ads):
    fake.on("POST", TOKEN_PATH, json_response(400, {"error": "invalid_grant", "error_description": "revoked"}))
    with pytest.raises(InvalidGrant):
        ads.update_bids(PROFILE, "keywords", [("a", 1.0)])


def test_create_report_request(fake, ads):
    fake.on("POST", "/reporting/reports", json_response(200, {"reportId": "r-1", "status": "PENDING"}))
    request = ads.create_report(PROFILE, "spTargeting", date(2025, 1, 1), "2025-01-31", SP_TARGETING_COLUMNS,
                                ["targeting"], filters=[{"field": "keywordType", "values": ["EXACT"]}])  # fmt: skip
    assert (request.report_id, request.reused) == ("r-1", False)
    (call,) = fake.calls("POST", "/reporting/reports")
    assert call.headers["Content-Type"] == "application/vnd.createasyncreportrequest.v3+json"
    assert call.headers["Amazon-Advertising-API-Scope"] == str(PROFILE)
    assert orjson.loads(call.content) == {
        "startDate": "2025-01-01",
        "endDate": "2025-01-31",
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "reportTypeId": "spTargeting",
            "groupBy": ["targeting"],
            "columns": list(SP_TARGETING_COLUMNS),
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
            "filters": [{"field": "keywordType", "values": ["EXACT"]}],
        },
    }


def test_duplicate_report_425_is_reused(fake, ads):
    report_id = "9f0c2b8e-8b7a-4b1e-9d3c-2a1b0c9d8e7f"
    fake.on("POST", "/reporting/reports",
            json_response(425, {"code": "425", "detail": f"The Request is a duplicate of : {report_id}"}))  # fmt: skip
    request = ads.create_report(PROFILE, "spCampaigns", "2025-01-01", "2025-01-02", SP_CAMPAIGNS_COLUMNS,
                                ["campaign"])  # fmt: skip
    assert (request.report_id, request.reused) == (report_id, True)


def test_425_without_an_id_is_an_error(fake, ads):
    fake.on("POST", "/reporting/reports", json_response(425, {"code": "425", "detail": "Too early"}))
    with pytest.raises(AmazonRequestError) as caught:
        ads.create_report(PROFILE, "spCampaigns", "2025-01-01", "2025-01-02", ["clicks"], ["campaign"])
    assert caught.value.status == 425


def test_get_report_status(fake, ads):
    fake.on("GET", "/reporting/reports/r-1", json_response(200, {
        "reportId": "r-1", "status": "COMPLETED", "url": REPORT_URL, "fileSize": 1234,
        "urlExpiresAt": "2025-02-01T10:00:00Z", "failureReason": None}))  # fmt: skip
    status = ads.get_report(PROFILE, "r-1")
    assert (status.status, status.url, status.file_size, status.done) == ("COMPLETED", REPORT_URL, 1234, True)
    status.raise_if_failed()
    fake.on("GET", "/reporting/reports/r-2", json_response(200, {
        "reportId": "r-2", "status": "FAILED", "failureReason": "Report generation failed"}))  # fmt: skip
    failed = ads.get_report(PROFILE, "r-2")
    with pytest.raises(ReportFailed, match="Report generation failed"):
        failed.raise_if_failed()
    fake.on("GET", "/reporting/reports/r-3", json_response(200, {"reportId": "r-3"}))
    with pytest.raises(MalformedResponse):
        ads.get_report(PROFILE, "r-3")


ROWS = [{"campaignId": 111 + i, "date": "2025-01-01", "clicks": i, "cost": 1.25 + i} for i in range(50)]


def test_report_rows_are_streamed_gunzipped_without_credentials(fake, http, sleeps):
    from marketing.amazon import AccessTokenSource, Hosts, MemoryTokenCache, Transport

    from .conftest import CLIENT_SECRET, REFRESH_TOKEN

    # Even a client configured with default credentials must not send them to S3.
    http.headers["Authorization"] = "Bearer Atza|default"
    http.auth = httpx.BasicAuth("u", "p")
    transport = Transport(http, sleep=sleeps.append)
    source = AccessTokenSource(transport, Hosts(), Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN,
                               MemoryTokenCache())  # fmt: skip
    ads = AdsClient(transport, Hosts(), Region.NA, CLIENT_ID, source)
    fake.on("GET", REPORT_PATH, httpx.Response(200, content=gzipped(ROWS),
                                               headers={"Content-Type": "application/octet-stream"}))  # fmt: skip
    rows = list(ads.iter_report_rows(REPORT_URL))
    assert rows[0] == {"campaignId": 111, "date": "2025-01-01", "clicks": 0, "cost": Decimal("1.25")}
    assert len(rows) == 50
    (call,) = fake.calls("GET", REPORT_PATH)
    assert "Authorization" not in call.headers and "x-amz-access-token" not in call.headers
    assert call.url.params["X-Amz-Signature"] == "sig"
    assert fake.tokens_issued == 0


def test_report_rows_arrive_before_the_download_finishes(fake, ads):
    data = gzipped([{"n": i, "pad": "x" * 200} for i in range(20_000)])
    chunk = 16 * 1024
    pulled = []

    def body():
        for start in range(0, len(data), chunk):
            pulled.append(start)
            yield data[start : start + chunk]

    fake.on("GET", REPORT_PATH, lambda r: httpx.Response(200, content=body()))
    rows = ads.iter_report_rows(REPORT_URL)
    assert next(rows) == {"n": 0, "pad": "x" * 200}
    total_chunks = -(-len(data) // chunk)
    assert len(pulled) < total_chunks / 2  # only the head of the file was read
    assert sum(1 for _ in rows) == 19_999


def test_report_served_with_content_encoding_is_not_gunzipped_twice(fake, ads):
    fake.on("GET", REPORT_PATH, httpx.Response(200, content=gzipped(ROWS), headers={"Content-Encoding": "gzip"}))
    assert len(list(ads.iter_report_rows(REPORT_URL))) == 50


def test_multi_member_gzip_is_read_whole(fake, ads):
    raw = orjson.dumps(ROWS)
    content = gzip.compress(raw[:100]) + gzip.compress(raw[100:])
    fake.on("GET", REPORT_PATH, httpx.Response(200, content=content))
    assert len(list(ads.iter_report_rows(REPORT_URL))) == 50


@pytest.mark.parametrize(
    "content",
    [
        gzipped(ROWS)[:-4],  # gzip trailer cut off: the JSON inside is complete, the file is not
        gzipped(ROWS)[:-20],  # truncated inside the compressed data
        gzipped(ROWS)[: len(gzipped(ROWS)) // 2],  # cut in the middle
        b'[{"a": 1}]',  # not gzip at all
        gzip.compress(b'[{"a": 1}, {"a": '),  # valid gzip, truncated JSON
        gzip.compress(b'[{"a": nope}]'),  # invalid JSON
        gzip.compress(b'{"rows": []}'),  # unknown shape: not an array
        b"",
    ],
    # gzip stamps the time: ids from the bytes would differ between pytest-xdist workers collecting apart
    ids=["no-trailer", "truncated", "half", "not-gzip", "truncated-json", "invalid-json", "not-an-array", "empty"],
)
def test_broken_report_files_are_malformed(fake, ads, content):
    fake.on("GET", REPORT_PATH, httpx.Response(200, content=content))
    with pytest.raises(MalformedResponse):
        list(ads.iter_report_rows(REPORT_URL))


def test_expired_report_url_is_a_request_error(fake, ads):
    fake.on("GET", REPORT_PATH, httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>"))
    with pytest.raises(AmazonRequestError) as caught:
        list(ads.iter_report_rows(REPORT_URL))
    assert caught.value.status == 403 and fake.tokens_issued == 0


def test_documented_column_lists():
    assert "spend" in SP_CAMPAIGNS_COLUMNS and "spend" not in SP_TARGETING_COLUMNS
    assert "searchTerm" in SP_SEARCH_TERM_COLUMNS and "topOfSearchImpressionShare" not in SP_SEARCH_TERM_COLUMNS
    for columns in (SP_CAMPAIGNS_COLUMNS, SP_TARGETING_COLUMNS, SP_SEARCH_TERM_COLUMNS):
        assert len(set(columns)) == len(columns) and "date" in columns and "sales14d" in columns


def test_zlib_sanity_of_fixture():
    assert zlib.decompress(gzipped([1]), wbits=31) == b"[1]"
