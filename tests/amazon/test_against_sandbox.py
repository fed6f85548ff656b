"""The clients end to end against the Amazon sandbox (a real HTTP server on loopback)."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from marketing.amazon import (
    AccessTokenSource,
    AdsClient,
    AmazonRequestError,
    Hosts,
    InvalidClient,
    InvalidGrant,
    MalformedResponse,
    MemoryTokenCache,
    Region,
    ReportFailed,
    RetryPolicy,
    SpClient,
    Transport,
    ads_consent_url,
    exchange_code,
    marketplace,
    sp_consent_url,
)
from marketing.amazon.ads import REPORT_COLUMNS, REPORT_GROUP_BY
from marketing.models.connections import MANAGEABLE_ACCOUNT_TYPES

testing = pytest.importorskip("marketing.sandbox.testing")

TODAY = date(2025, 6, 18)
CALLBACK = "http://127.0.0.1:5000/connections/amazon/callback"


@pytest.fixture(scope="module")
def sbx():
    with testing.running_sandbox(seed=1, size="demo", report_delay=0.0, today=TODAY) as handle:
        yield handle


@pytest.fixture
def fresh_sbx():
    """For tests that revoke tokens, rotate secrets or inject faults."""
    with testing.running_sandbox(seed=2, size="demo", report_delay=0.0, today=TODAY) as handle:
        yield handle


class Wiring:
    """The product's wiring in miniature: one httpx client, a transport, a token cache."""

    def __init__(self, sbx, sleeps: list[float] | None = None):
        self.sbx = sbx
        self.hosts = Hosts(sbx.url)
        self.sleeps = sleeps if sleeps is not None else []
        self.http = httpx.Client(timeout=60)
        self.transport = Transport(
            self.http, policy=RetryPolicy(max_total_wait=5.0), sleep=self.sleeps.append, rand=lambda: 1.0
        )
        self.cache = MemoryTokenCache()

    def ads_source(self, refresh_token: str, region: str, observer=None) -> AccessTokenSource:
        return AccessTokenSource(self.transport, self.hosts, Region(region), self.sbx.ads_client_id,
                                 self.sbx.ads_client_secret, refresh_token, self.cache, observer=observer)  # fmt: skip

    def ads(self, seller_index: int = 0, **kw) -> AdsClient:
        seller = self.sbx.sellers[seller_index]
        source = self.ads_source(seller.ads_refresh_token, seller.region)
        return AdsClient(self.transport, self.hosts, Region(seller.region), self.sbx.ads_client_id, source, **kw)

    def sp(self, seller_index: int = 0) -> SpClient:
        seller = self.sbx.sellers[seller_index]
        source = AccessTokenSource(self.transport, self.hosts, Region(seller.region), self.sbx.sp_client_id,
                                   self.sbx.sp_client_secret, seller.sp_refresh_token, self.cache)  # fmt: skip
        return SpClient(self.transport, self.hosts, Region(seller.region), source)


@pytest.fixture
def wiring(sbx):
    w = Wiring(sbx)
    yield w
    w.http.close()


def manageable_profile(ads: AdsClient):
    return next(p for p in ads.list_profiles() if p.account_type in MANAGEABLE_ACCOUNT_TYPES)


def click_allow(consent_url: str, seller: int) -> dict[str, str]:
    """Walk the sandbox's consent page the way a browser would; return the callback's query."""
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(consent_url)
        assert page.status_code == 200, page.text
        action = re.search(r"<form method='post' action='([^']+)'", page.text).group(1)
        hidden = dict(re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page.text))
        answer = browser.post(httpx.URL(consent_url).join(action), data={**hidden, "seller": str(seller),
                                                                          "decision": "allow"})  # fmt: skip
    assert answer.status_code == 302 and answer.headers["location"].startswith(CALLBACK)
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def test_ads_consent_code_exchange_and_profiles(sbx, wiring):
    seller = sbx.sellers[1]
    url = ads_consent_url(wiring.hosts, Region(seller.region), sbx.ads_client_id, CALLBACK, "state-1")
    callback = click_allow(url, seller=1)
    assert callback["state"] == "state-1"
    grant = exchange_code(wiring.transport, wiring.hosts, Region(seller.region), sbx.ads_client_id,
                          sbx.ads_client_secret, callback["code"], CALLBACK)  # fmt: skip
    assert grant.refresh_token.startswith("Atzr|") and grant.expires_in > 300
    ads = AdsClient(wiring.transport, wiring.hosts, Region(seller.region), sbx.ads_client_id,
                    wiring.ads_source(grant.refresh_token, seller.region))  # fmt: skip
    profiles = ads.list_profiles()
    assert {p.profile_id for p in profiles} == {p["profileId"] for p in seller.profiles}
    with pytest.raises(InvalidGrant):  # a code works once
        exchange_code(wiring.transport, wiring.hosts, Region(seller.region), sbx.ads_client_id,
                      sbx.ads_client_secret, callback["code"], CALLBACK)  # fmt: skip


def test_sp_consent_code_exchange(sbx, wiring):
    seller = sbx.sellers[2]
    url = sp_consent_url(wiring.hosts, Region(seller.region), sbx.sp_app_id, "state-2", CALLBACK, beta=True)
    callback = click_allow(url, seller=2)
    assert callback["selling_partner_id"] == seller.selling_partner_id and callback["state"] == "state-2"
    grant = exchange_code(wiring.transport, wiring.hosts, Region(seller.region), sbx.sp_client_id,
                          sbx.sp_client_secret, callback["spapi_oauth_code"], CALLBACK)  # fmt: skip
    sp = SpClient(wiring.transport, wiring.hosts, Region(seller.region),
                  AccessTokenSource(wiring.transport, wiring.hosts, Region(seller.region), sbx.sp_client_id,
                                    sbx.sp_client_secret, grant.refresh_token, wiring.cache))  # fmt: skip
    assert next(sp.iter_inventory_summaries(seller.marketplace_ids[0]))["sellerSku"]


def test_profiles_and_agency_refusal(sbx, wiring):
    ads = wiring.ads(0)
    profiles = ads.list_profiles()
    assert {p.profile_id for p in profiles} == {p["profileId"] for p in sbx.sellers[0].profiles}
    agency = [p for p in profiles if p.account_type not in MANAGEABLE_ACCOUNT_TYPES]
    assert [p.account_type for p in agency] == ["agency"]
    for p in profiles:
        assert marketplace(p.marketplace_id).country_code == p.country_code
        assert marketplace(p.marketplace_id).currency == p.currency_code
    with pytest.raises(AmazonRequestError, match="agency/DSP"):
        list(ads.iter_entities(agency[0].profile_id, "campaigns"))


@pytest.mark.parametrize("kind", ["campaigns", "adGroups", "keywords", "targets", "productAds"])
def test_paging_returns_every_entity_once(sbx, wiring, kind):
    whole = wiring.ads(0)
    profile = manageable_profile(whole)
    everything = list(whole.iter_entities(profile.profile_id, kind))
    assert everything, f"the demo sandbox should have {kind}"
    requests = []
    wiring.http.event_hooks["request"].append(lambda r: requests.append(r) if r.url.path.endswith("/list") else None)
    paged = list(wiring.ads(0, page_size=7).iter_entities(profile.profile_id, kind))
    assert paged == everything
    assert len(requests) == -(-len(everything) // 7)  # ceil: a page per 7 entities
    id_field = {"campaigns": "campaignId", "adGroups": "adGroupId", "keywords": "keywordId",
                "targets": "targetId", "productAds": "adId"}[kind]  # fmt: skip
    ids = [e[id_field] for e in everything]
    assert len(set(ids)) == len(ids) and all(isinstance(i, str) for i in ids)


def test_state_and_id_filters(sbx, wiring):
    ads = wiring.ads(0)
    profile = manageable_profile(ads)
    enabled = list(ads.iter_entities(profile.profile_id, "keywords", state_filter=["ENABLED"]))
    assert enabled and {k["state"] for k in enabled} == {"ENABLED"}
    some = [k["keywordId"] for k in enabled[:3]]
    assert [k["keywordId"] for k in ads.iter_entities(profile.profile_id, "keywords", id_filter=some)] == some


def test_bid_update_round_trip(sbx, wiring):
    ads = wiring.ads(0)
    profile = manageable_profile(ads)
    keywords = [k for k in ads.iter_entities(profile.profile_id, "keywords", state_filter=["ENABLED"])][:2]
    too_high = float(marketplace(profile.marketplace_id).max_bid) + 1
    new_bid = round(float(keywords[0].get("bid") or 0.5) + 0.07, 2)
    results = ads.update_bids(profile.profile_id, "keywords",
                              [(keywords[0]["keywordId"], new_bid), (keywords[1]["keywordId"], too_high)])  # fmt: skip
    assert results[0].ok and results[0].entity_id == keywords[0]["keywordId"]
    assert not results[1].ok and results[1].error_code and results[1].error_message
    after = {k["keywordId"]: k for k in ads.iter_entities(profile.profile_id, "keywords",
                                                          id_filter=[k["keywordId"] for k in keywords])}  # fmt: skip
    assert after[keywords[0]["keywordId"]]["bid"] == pytest.approx(new_bid)
    assert after[keywords[1]["keywordId"]].get("bid") == keywords[1].get("bid")

    targets = list(ads.iter_entities(profile.profile_id, "targets", state_filter=["ENABLED"]))[:1]
    (target_result,) = ads.update_bids(profile.profile_id, "targets", [(targets[0]["targetId"], 0.42)])
    assert target_result.ok


def wait_ads_report(ads: AdsClient, profile_id: int, report_id: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        status = ads.get_report(profile_id, report_id)
        if status.done or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


@pytest.mark.parametrize("report_type", sorted(REPORT_COLUMNS))
def test_report_create_poll_and_stream(sbx, wiring, report_type):
    ads = wiring.ads(0)
    profile = manageable_profile(ads)
    end = TODAY - timedelta(days=1)
    request = ads.create_report(profile.profile_id, report_type, end - timedelta(days=6), end,
                                REPORT_COLUMNS[report_type], REPORT_GROUP_BY[report_type])  # fmt: skip
    assert not request.reused
    status = wait_ads_report(ads, profile.profile_id, request.report_id)
    status.raise_if_failed()
    assert status.status == "COMPLETED" and status.url
    rows = list(ads.iter_report_rows(status.url))
    assert rows, f"{report_type} for a demo profile should have rows"
    assert set(rows[0]) <= set(REPORT_COLUMNS[report_type])
    assert {r["date"] for r in rows} <= {(end - timedelta(days=i)).isoformat() for i in range(7)}


def test_duplicate_report_is_reused(wiring):
    with testing.running_sandbox(seed=3, size="demo", report_delay=30.0, today=TODAY) as slow:
        w = Wiring(slow)
        ads = w.ads(0)
        profile = manageable_profile(ads)
        args = (profile.profile_id, "spCampaigns", TODAY - timedelta(days=3), TODAY - timedelta(days=1),
                REPORT_COLUMNS["spCampaigns"], REPORT_GROUP_BY["spCampaigns"])  # fmt: skip
        first = ads.create_report(*args)
        second = ads.create_report(*args)
        assert (second.report_id, second.reused, first.reused) == (first.report_id, True, False)
        assert ads.get_report(profile.profile_id, first.report_id).status in ("PENDING", "PROCESSING")
        w.http.close()


def test_sp_reports_and_documents(sbx, wiring):
    seller = sbx.sellers[0]
    sp = wiring.sp(0)
    mp = seller.marketplace_ids[0]
    options = {"dateGranularity": "DAY", "asinGranularity": "CHILD"}
    report_id = sp.create_report(
        "GET_SALES_AND_TRAFFIC_REPORT", [mp], TODAY - timedelta(days=7), TODAY - timedelta(days=1), options
    )
    report = wait_sp_report(sp, report_id)
    report.raise_if_failed()
    document = sp.get_report_document(report.document_id)
    assert document.compression == "GZIP"
    items = list(sp.iter_document_items(document.url, document.compression,
                                        ["salesAndTrafficByDate.item", "salesAndTrafficByAsin.item"]))  # fmt: skip
    by_date = [i for p, i in items if p == "salesAndTrafficByDate.item"]
    by_asin = [i for p, i in items if p == "salesAndTrafficByAsin.item"]
    assert len(by_date) == 7 and by_asin
    assert {"salesByDate", "trafficByDate"} <= set(by_date[0]) and "childAsin" in by_asin[0]

    promo_id = sp.create_report("GET_PROMOTION_PERFORMANCE_REPORT", [mp], options={
        "promotionStartDateFrom": f"{TODAY - timedelta(days=60)}T00:00:00Z",
        "promotionStartDateTo": f"{TODAY}T00:00:00Z"})  # fmt: skip
    promo = wait_sp_report(sp, promo_id)
    assert promo.status == "DONE", promo  # seed 1 has deals in the window; no data would be CANCELLED
    doc = sp.get_report_document(promo.document_id)
    promotions = [i for _, i in sp.iter_document_items(doc.url, doc.compression, ["promotions.item"])]
    assert promotions and all({"promotionId", "type", "includedProducts"} <= set(p) for p in promotions)


def wait_sp_report(sp: SpClient, report_id: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        report = sp.get_report(report_id)
        if report.done or time.monotonic() > deadline:
            return report
        time.sleep(0.05)


def test_inventory_summaries_page_through(sbx, wiring):
    seller = sbx.sellers[0]
    summaries = list(wiring.sp(0).iter_inventory_summaries(seller.marketplace_ids[0]))
    skus = [s["sellerSku"] for s in summaries]
    assert skus and len(set(skus)) == len(skus)
    assert all("fulfillableQuantity" in s["inventoryDetails"] for s in summaries)


def test_rejected_access_token_is_refreshed_once(sbx, wiring):
    ads = wiring.ads(0)
    ads.list_profiles()
    key = next(iter(wiring.cache._items))
    wiring.cache.set(key, "Atza|not-a-real-token", 3000)  # as if Amazon had expired it early
    assert ads.list_profiles()
    assert wiring.cache.get(key) != "Atza|not-a-real-token"


def test_revoked_refresh_token_and_rotated_secret(fresh_sbx):
    w = Wiring(fresh_sbx)
    seller = fresh_sbx.sellers[0]
    events = []

    class Observer:
        def on_success(self):
            events.append("ok")

        def on_error(self, exc):
            events.append(type(exc).__name__)

    source = w.ads_source(seller.ads_refresh_token, seller.region, observer=Observer())
    ads = AdsClient(w.transport, w.hosts, Region(seller.region), fresh_sbx.ads_client_id, source)
    ads.list_profiles()
    fresh_sbx.admin.revoke(seller.ads_refresh_token)
    source.invalidate()
    with pytest.raises(InvalidGrant):
        ads.list_profiles()
    assert events == ["ok", "InvalidGrant"]

    old_secret = fresh_sbx.ads_client_secret
    new_secret = fresh_sbx.admin.rotate_secret("ads")
    other = fresh_sbx.sellers[1]
    stale = AccessTokenSource(w.transport, w.hosts, Region(other.region), fresh_sbx.ads_client_id, old_secret,
                              other.ads_refresh_token, w.cache)  # fmt: skip
    with pytest.raises(InvalidClient) as caught:
        AdsClient(w.transport, w.hosts, Region(other.region), fresh_sbx.ads_client_id, stale).list_profiles()
    assert old_secret not in str(caught.value) and new_secret not in str(caught.value)
    assert w.ads(1).list_profiles()  # the seller's grant is fine; only our app secret changed
    w.http.close()


def test_faults_are_retried_or_surface_as_typed_errors(fresh_sbx):
    w = Wiring(fresh_sbx)
    ads = w.ads(0)
    profile = manageable_profile(ads)
    admin = fresh_sbx.admin

    admin.fault("throttle", path_prefix="/v2/profiles", retry_after=1, count=1)
    assert ads.list_profiles() and w.sleeps == [1.0]
    admin.fault("error", path_prefix="/sp/campaigns/list", status=503, count=2)
    assert list(ads.iter_entities(profile.profile_id, "campaigns")) and w.sleeps == [1.0, 0.5, 1.0]

    end = TODAY - timedelta(days=1)
    for kind, expected in (("truncated_gzip", MalformedResponse), ("invalid_json", MalformedResponse),
                           ("report_fail", ReportFailed)):  # fmt: skip
        admin.clear_faults()
        admin.fault(kind, path_prefix="/reporting", count=1)
        request = ads.create_report(profile.profile_id, "spCampaigns", end - timedelta(days=1), end,
                                    ["date", "campaignId", "clicks"], ["campaign"])  # fmt: skip
        status = wait_ads_report(ads, profile.profile_id, request.report_id)
        with pytest.raises(expected):
            status.raise_if_failed()
            list(ads.iter_report_rows(status.url))
    w.http.close()
