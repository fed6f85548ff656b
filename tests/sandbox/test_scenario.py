"""The "done when" scenario with nothing but httpx, the way the product will use Amazon."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import httpx

from marketing.sandbox.testing import running_sandbox

from .conftest import TODAY

KEYWORD = "application/vnd.spKeyword.v3+json"


def _report(http, start, end, keyword_id=None):
    body = {
        "startDate": str(start),
        "endDate": str(end),
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "reportTypeId": "spTargeting",
            "groupBy": ["targeting"],
            "columns": ["date", "keywordId", "keywordBid", "impressions", "clicks", "cost", "sales7d"],
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
        },
    }
    created = http.post(
        "/reporting/reports",
        content=json.dumps(body),
        headers={"Content-Type": "application/vnd.createasyncreportrequest.v3+json"},
    )
    assert created.status_code == 200, created.text
    while (status := http.get(f"/reporting/reports/{created.json()['reportId']}").json())["status"] != "COMPLETED":
        assert status["status"] in ("PENDING", "PROCESSING")
    refused = httpx.get(status["url"], headers={"Authorization": http.headers["Authorization"]})
    assert refused.status_code == 400
    rows = json.loads(gzip.decompress(httpx.get(status["url"]).content))
    return [r for r in rows if keyword_id is None or r["keywordId"] == keyword_id]


def test_token_profiles_keywords_report_bid_change_and_a_week_later():
    with running_sandbox(seed=2, today=TODAY) as sbx:
        seller = sbx.sellers[0]
        token = httpx.post(
            f"{sbx.url}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": seller.ads_refresh_token,
                "client_id": sbx.ads_client_id,
                "client_secret": sbx.ads_client_secret,
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Amazon-Advertising-API-ClientId": sbx.ads_client_id}
        profiles = httpx.get(f"{sbx.url}/v2/profiles", headers=headers).json()
        profile = next(p for p in profiles if p["countryCode"] == "US")
        http = httpx.Client(
            base_url=sbx.url, headers={**headers, "Amazon-Advertising-API-Scope": str(profile["profileId"])}
        )

        keywords, body = [], {"maxResults": 50, "stateFilter": {"include": ["ENABLED"]}}
        while True:
            page = http.post(
                "/sp/keywords/list", content=json.dumps(body), headers={"Content-Type": KEYWORD, "Accept": KEYWORD}
            ).json()
            keywords += page["keywords"]
            if "nextToken" not in page:
                break
            body["nextToken"] = page["nextToken"]
        assert len(keywords) > 50

        week = (TODAY - timedelta(days=7), TODAY - timedelta(days=1))
        rows = _report(http, *week)
        enabled_ids = {int(k["keywordId"]) for k in keywords}
        totals: dict[int, list[float]] = {}
        for r in rows:
            t = totals.setdefault(r["keywordId"], [0, 0, 0.0, r["keywordBid"]])
            t[0], t[1], t[2] = t[0] + r["impressions"], t[1] + r["clicks"], t[2] + r["cost"]
        # a keyword whose CPC is close to its bid is losing auctions at the margin: more bid, more traffic
        kid = max(
            (k for k, t in totals.items() if k in enabled_ids and t[0] >= 100 and t[1] >= 3),
            key=lambda k: totals[k][2] / (totals[k][1] * totals[k][3]),
        )
        keyword = next(k for k in keywords if int(k["keywordId"]) == kid)
        old_bid = totals[kid][3]
        before = [r for r in rows if r["keywordId"] == kid]

        new_bid = round(old_bid * 4, 2)
        put = http.put(
            "/sp/keywords",
            content=json.dumps({"keywords": [{"keywordId": keyword["keywordId"], "bid": new_bid}]}),
            headers={"Content-Type": KEYWORD, "Accept": KEYWORD},
        )
        assert put.status_code == 207 and put.json()["keywords"]["success"][0]["keywordId"] == keyword["keywordId"]

        assert sbx.admin.advance(7) == TODAY + timedelta(days=7)
        after = _report(http, TODAY, TODAY + timedelta(days=6), kid)
        assert len(after) == 7 and all(r["keywordBid"] == new_bid for r in after)
        assert sum(r["impressions"] for r in after) > 1.2 * sum(r["impressions"] for r in before)
        assert sum(r["cost"] for r in after) > sum(r["cost"] for r in before)
        assert all(r["cost"] <= r["clicks"] * new_bid + 1e-9 for r in after)
        # history stays as it was: the week before the change reads the same
        again = _report(http, *week, kid)
        assert [(r["date"], r["impressions"], r["clicks"]) for r in again] == [
            (r["date"], r["impressions"], r["clicks"]) for r in before
        ]
        assert sum(r["sales7d"] for r in again) >= sum(r["sales7d"] for r in before)
