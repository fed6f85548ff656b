"""Ads API responses checked against Amazon's OpenAPI documents (profiles, Sponsored Products v3)."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import load_spec
from .helpers import (
    AD_GROUP,
    CAMPAIGN,
    KEYWORD,
    PRODUCT_AD,
    TARGET,
    ads_client,
    check_openapi,
    home_profile,
    list_all,
    openapi,
    post_vendor,
)

LISTS = [
    ("campaigns", CAMPAIGN, "campaigns", "campaignId"),
    ("adGroups", AD_GROUP, "adGroups", "adGroupId"),
    ("keywords", KEYWORD, "keywords", "keywordId"),
    ("targets", TARGET, "targetingClauses", "targetId"),
    ("productAds", PRODUCT_AD, "productAds", "adId"),
]


@pytest.fixture(scope="module")
def sp_api():
    return openapi(load_spec("ads/SponsoredProducts_prod_3p.json"))


@pytest.fixture(scope="module")
def profiles_api():
    return openapi(load_spec("ads/Profiles_prod_3p.json"))


@pytest.fixture(scope="module")
def client(sbx):
    with ads_client(sbx, 0, home_profile(sbx)) as c:
        yield c


def test_profiles_match_the_spec_and_span_marketplaces(sbx, profiles_api):
    with ads_client(sbx, 1) as c:
        resp = c.get("/v2/profiles")
    assert resp.status_code == 200
    check_openapi(profiles_api, "GET", "/profiles", resp)  # the spec names the path /profiles
    profiles = resp.json()
    assert {p["countryCode"] for p in profiles} == {"UK", "DE", "FR"}
    assert {p["currencyCode"] for p in profiles} == {"GBP", "EUR"}
    assert all(isinstance(p["profileId"], int) for p in profiles)
    vendor = [p for p in profiles if p["accountInfo"]["type"] == "vendor"]
    assert vendor and vendor[0]["accountInfo"]["validPaymentMethod"] is True
    with ads_client(sbx, 0) as c:
        na = c.get("/v2/profiles").json()
    assert {p["accountInfo"]["type"] for p in na} == {"seller", "agency"}
    only_sellers = ads_client(sbx, 0).get("/v2/profiles", params={"profileTypeFilter": "seller"}).json()
    assert {p["accountInfo"]["type"] for p in only_sellers} == {"seller"}


@pytest.mark.parametrize(("entity", "media", "key", "id_field"), LISTS)
def test_list_responses_match_the_spec(client, sp_api, entity, media, key, id_field):
    body = json.dumps({"maxResults": 50}).encode()
    resp = client.post(f"/sp/{entity}/list", content=body, headers={"Content-Type": media, "Accept": media})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith(media)
    check_openapi(sp_api, "POST", f"/sp/{entity}/list", resp, body)
    items = resp.json()[key]
    assert 0 < len(items) <= 50
    assert all(it[id_field].isdigit() and 15 <= len(it[id_field]) <= 18 for it in items)


def test_paging_visits_every_entity_once(client):
    keywords = list_all(client, "keywords", KEYWORD, "keywords", page=37)
    ids = [k["keywordId"] for k in keywords]
    assert len(ids) == len(set(ids))
    first = post_vendor(client, "/sp/keywords/list", KEYWORD, {"maxResults": 5}).json()
    assert first["totalResults"] == len(ids)
    assert [k["keywordId"] for k in first["keywords"]] == ids[:5]


def test_entities_carry_what_bidding_needs(client):
    campaigns = list_all(client, "campaigns", CAMPAIGN, "campaigns")
    assert all(c["budget"]["budgetType"] == "DAILY" and c["budget"]["budget"] > 0 for c in campaigns)
    assert all(c["dynamicBidding"]["placementBidding"] for c in campaigns)
    assert {c["targetingType"] for c in campaigns} == {"AUTO", "MANUAL"}
    ad_groups = list_all(client, "adGroups", AD_GROUP, "adGroups")
    assert all(g["defaultBid"] >= 0.02 for g in ad_groups)
    keywords = list_all(client, "keywords", KEYWORD, "keywords")
    assert {k["matchType"] for k in keywords} == {"BROAD", "PHRASE", "EXACT"}
    assert any("bid" not in k for k in keywords), "some keywords inherit the ad group default bid"
    assert {"ENABLED", "PAUSED", "ARCHIVED"} <= {k["state"] for k in keywords}
    targets = list_all(client, "targets", TARGET, "targetingClauses")
    assert {t["expressionType"] for t in targets} == {"AUTO", "MANUAL"}
    assert all(t["expression"] and t["expression"][0]["type"] for t in targets)
    ads = list_all(client, "productAds", PRODUCT_AD, "productAds")
    assert all(a["asin"].startswith("B0") and a["sku"] for a in ads)


def test_filters(client):
    every = list_all(client, "keywords", KEYWORD, "keywords")
    chosen = sorted({k["campaignId"] for k in every})[:2]
    keywords = list_all(client, "keywords", KEYWORD, "keywords", {"campaignIdFilter": {"include": chosen}})
    assert {k["campaignId"] for k in keywords} == set(chosen)
    assert len(keywords) == sum(k["campaignId"] in chosen for k in every)
    archived = list_all(client, "keywords", KEYWORD, "keywords", {"stateFilter": {"include": ["ARCHIVED"]}})
    assert archived and all(k["state"] == "ARCHIVED" for k in archived)
    some = [k["keywordId"] for k in keywords[:3]]
    by_id = list_all(client, "keywords", KEYWORD, "keywords", {"keywordIdFilter": {"include": some}})
    assert sorted(k["keywordId"] for k in by_id) == sorted(some)
    exact = list_all(client, "keywords", KEYWORD, "keywords", {"matchTypeFilter": ["EXACT"]})
    assert exact and {k["matchType"] for k in exact} == {"EXACT"}
    auto = list_all(client, "targets", TARGET, "targetingClauses", {"expressionTypeFilter": {"include": ["AUTO"]}})
    assert auto and {t["expressionType"] for t in auto} == {"AUTO"}
    group = keywords[0]["adGroupId"]
    in_group = list_all(client, "keywords", KEYWORD, "keywords", {"adGroupIdFilter": {"include": [group]}})
    assert {k["adGroupId"] for k in in_group} == {group}


def test_bad_requests(client, sp_api):
    wrong_type = client.post("/sp/keywords/list", json={}, headers={"Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    check_openapi(sp_api, "POST", "/sp/keywords/list", wrong_type)
    assert wrong_type.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    # media types compare case-insensitively, as clients send them in lower case
    lower = client.post("/sp/keywords/list", content=b"{}", headers={"Content-Type": KEYWORD.lower()})
    assert lower.status_code == 200
    bad_token = post_vendor(client, "/sp/keywords/list", KEYWORD, {"nextToken": "garbage"})
    assert bad_token.status_code == 400
    check_openapi(sp_api, "POST", "/sp/keywords/list", bad_token)
    too_many = post_vendor(client, "/sp/keywords/list", KEYWORD, {"campaignIdFilter": {"include": ["1"] * 101}})
    assert too_many.status_code == 400 and too_many.json()["code"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Authorization": None}, "UNAUTHORIZED"),
        ({"Authorization": "Bearer Atza|IwEBIforged"}, "UNAUTHORIZED"),
        ({"Amazon-Advertising-API-ClientId": "amzn1.application-oa2-client.other"}, "UNAUTHORIZED"),
        ({"Amazon-Advertising-API-Scope": None}, "UNAUTHORIZED"),
        ({"Amazon-Advertising-API-Scope": "123"}, "UNAUTHORIZED"),
    ],
)
def test_auth_failures_are_401_with_amazon_bodies(sbx, client, sp_api, headers, expected):
    merged = httpx.Headers(client.headers)
    for name, value in headers.items():
        if value is None:
            del merged[name]
        else:
            merged[name] = value
    merged["Content-Type"] = CAMPAIGN
    resp = httpx.post(f"{sbx.url}/sp/campaigns/list", content=b"{}", headers=merged)
    assert resp.status_code == 401
    check_openapi(sp_api, "POST", "/sp/campaigns/list", resp)
    assert resp.json()["code"] == expected


def test_another_sellers_profile_is_out_of_scope(sbx):
    with ads_client(sbx, 0, home_profile(sbx, 1)) as c:
        resp = post_vendor(c, "/sp/campaigns/list", CAMPAIGN, {})
    assert resp.status_code == 401


def test_agency_profile_is_refused(sbx, sp_api):
    agency = next(p for p in sbx.sellers[0].profiles if p["accountInfo"]["type"] == "agency")
    with ads_client(sbx, 0, agency["profileId"]) as c:
        resp = post_vendor(c, "/sp/campaigns/list", CAMPAIGN, {})
    assert resp.status_code == 400
    check_openapi(sp_api, "POST", "/sp/campaigns/list", resp)
    assert "Advertiser ID cannot be decrypted" in resp.json()["message"]


def test_put_keywords_multi_status(fresh_sbx, sp_api):
    with ads_client(fresh_sbx, 0, home_profile(fresh_sbx)) as c:
        keywords = list_all(c, "keywords", KEYWORD, "keywords")
        live = next(k for k in keywords if k["state"] == "ENABLED")
        archived = next(k for k in keywords if k["state"] == "ARCHIVED")
        items = [
            {"keywordId": live["keywordId"], "bid": 0.77},
            {"keywordId": "999999999999999", "bid": 0.5},
            {"keywordId": live["keywordId"], "bid": 0.01},
            {"keywordId": archived["keywordId"], "bid": 0.5},
            {"keywordId": live["keywordId"], "bid": 1000.01},
        ]
        body = json.dumps({"keywords": items}).encode()
        resp = c.put("/sp/keywords", content=body, headers={"Content-Type": KEYWORD, "Accept": KEYWORD})
        assert resp.status_code == 207
        check_openapi(sp_api, "PUT", "/sp/keywords", resp, body)
        result = resp.json()["keywords"]
        assert [s["index"] for s in result["success"]] == [0]
        errors = {e["index"]: e["errors"][0] for e in result["error"]}
        assert errors[1]["errorType"] == "entityNotFoundError"
        assert errors[1]["errorValue"]["entityNotFoundError"]["entityId"] == "999999999999999"
        assert errors[2]["errorValue"]["biddingError"]["reason"] == "BID_OUT_OF_MARKET_PLACE_RANGE"
        assert errors[2]["errorValue"]["biddingError"]["lowerLimit"] == "0.02"
        assert errors[3]["errorValue"]["entityStateError"]["reason"] == "ARCHIVED_ENTITY_CANNOT_BE_MODIFIED"
        assert errors[4]["errorValue"]["biddingError"]["upperLimit"] == "1000"
        stored = list_all(c, "keywords", KEYWORD, "keywords", {"keywordIdFilter": {"include": [live["keywordId"]]}})
        assert stored[0]["bid"] == 0.77


def test_put_targets_and_representation(fresh_sbx, sp_api):
    with ads_client(fresh_sbx, 0, home_profile(fresh_sbx)) as c:
        target = next(t for t in list_all(c, "targets", TARGET, "targetingClauses") if t["state"] == "ENABLED")
        body = json.dumps(
            {"targetingClauses": [{"targetId": target["targetId"], "bid": 0.42, "state": "PAUSED"}]}
        ).encode()
        resp = c.put(
            "/sp/targets",
            content=body,
            headers={"Content-Type": TARGET, "Accept": TARGET, "Prefer": "return=representation"},
        )
        assert resp.status_code == 207
        check_openapi(sp_api, "PUT", "/sp/targets", resp, body)
        assert resp.headers["Preference-Applied"] == "return=representation"
        clause = resp.json()["targetingClauses"]["success"][0]["targetingClause"]
        assert (clause["bid"], clause["state"]) == (0.42, "PAUSED")
        malformed = c.put(
            "/sp/targets", content=b'{"targetingClauses": [{"bid": 1}]}', headers={"Content-Type": TARGET}
        )
        assert malformed.status_code == 400
        check_openapi(sp_api, "PUT", "/sp/targets", malformed)


def test_japanese_bid_range(sbx):
    jp = sbx.sellers[2].profiles[0]
    assert jp["countryCode"] == "JP"
    with ads_client(sbx, 2, jp["profileId"]) as c:
        keyword = next(k for k in list_all(c, "keywords", KEYWORD, "keywords") if k["state"] == "ARCHIVED")
        resp = c.put(
            "/sp/keywords",
            content=json.dumps({"keywords": [{"keywordId": keyword["keywordId"], "bid": 1}]}),
            headers={"Content-Type": KEYWORD},
        )
    errors = resp.json()["keywords"]["error"][0]["errors"]
    bidding = next(e for e in errors if e["errorType"] == "biddingError")["errorValue"]["biddingError"]
    assert (bidding["lowerLimit"], bidding["upperLimit"], bidding["marketplace"]) == ("2", "100000", "JP")
