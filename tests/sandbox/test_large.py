"""The `large` market (1 seller, 1k campaigns, 100k targets) pages its structure and serves a complete 31-day
report (how long it takes is for `--durations` and bench/, not an assertion)."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import httpx

from marketing.sandbox.testing import running_sandbox

from .conftest import TODAY
from .helpers import CAMPAIGN, CREATE_REPORT, TARGET, ads_client, home_profile, post_vendor, report_request, wait_report


def test_large_profile_31_day_targeting_report():
    with running_sandbox(seed=1, size="large", today=TODAY) as sbx, ads_client(sbx, 0, home_profile(sbx)) as c:
        campaigns = post_vendor(c, "/sp/campaigns/list", CAMPAIGN, {"maxResults": 10}).json()
        targets = post_vendor(c, "/sp/targets/list", TARGET, {"maxResults": 1000}).json()
        keywords = post_vendor(c, "/sp/keywords/list", "application/vnd.spKeyword.v3+json", {"maxResults": 1}).json()
        assert campaigns["totalResults"] == 1000
        assert targets["totalResults"] + keywords["totalResults"] == 100_000
        assert len(targets["targetingClauses"]) == 1000 and "nextToken" in targets

        columns = ["date", "campaignId", "adGroupId", "keywordId", "keyword", "matchType", "keywordBid"]
        columns += ["impressions", "clicks", "cost", "purchases7d", "sales7d", "purchases14d", "sales14d"]
        body = report_request(TODAY - timedelta(days=31), TODAY - timedelta(days=1), columns=columns)
        rid = post_vendor(c, "/reporting/reports", CREATE_REPORT, body).json()["reportId"]
        done = wait_report(c, rid, timeout=120)
        assert done["status"] == "COMPLETED"
        rows = json.loads(gzip.decompress(httpx.get(done["url"]).content))
        assert len(rows) > 100_000 and len({r["date"] for r in rows}) == 31
