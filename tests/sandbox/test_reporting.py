"""Reporting v3 end to end: request validation, lifecycle, S3-style download, columns, faults."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import zlib
from datetime import timedelta

import httpx
import pytest

from marketing.sandbox.report_rows import PLACEMENTS
from marketing.sandbox.testing import running_sandbox

from .conftest import TODAY, load_notes, load_spec
from .helpers import (
    CREATE_REPORT,
    ads_client,
    check_openapi,
    fetch_report,
    home_profile,
    openapi,
    post_vendor,
    report_request,
    wait_report,
)

YESTERDAY = TODAY - timedelta(days=1)
WEEK = (TODAY - timedelta(days=7), YESTERDAY)


@pytest.fixture(scope="module")
def api():
    return openapi(load_spec("ads/OfflineReport_v3.json"))


@pytest.fixture(scope="module")
def client(sbx):
    with ads_client(sbx, 0, home_profile(sbx)) as c:
        yield c


def test_lifecycle_and_download(sbx, client, api):
    body = report_request(*WEEK)
    raw = json.dumps(body).encode()
    created = client.post("/reporting/reports", content=raw, headers={"Content-Type": CREATE_REPORT})
    assert created.status_code == 200
    check_openapi(api, "POST", "/reporting/reports", created, raw)
    assert created.json()["status"] in ("PENDING", "PROCESSING", "COMPLETED")
    report_id = created.json()["reportId"]
    done = wait_report(client, report_id)
    polled = client.get(f"/reporting/reports/{report_id}")
    check_openapi(api, "GET", f"/reporting/reports/{report_id}", polled)
    assert done["status"] == "COMPLETED"
    url = done["url"]
    assert url.startswith(sbx.url + "/offline-report-storage-")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url and done["urlExpiresAt"]
    download = httpx.get(url)
    assert download.status_code == 200
    assert "content-encoding" not in download.headers  # gzip, but not flagged: clients gunzip themselves
    assert download.content[:2] == b"\x1f\x8b" and len(download.content) == done["fileSize"]
    rows = json.loads(gzip.decompress(download.content))
    assert isinstance(rows, list) and rows
    assert {r["date"] for r in rows} <= {str(WEEK[0] + timedelta(days=i)) for i in range(7)}
    assert all(set(r) == set(body["configuration"]["columns"]) for r in rows)
    assert all(isinstance(r["keywordId"], int) for r in rows)  # ids are integers in report rows
    with_auth = httpx.get(url, headers={"Authorization": client.headers["Authorization"]})
    assert with_auth.status_code == 400
    assert "<Code>InvalidArgument</Code>" in with_auth.text and "Only one auth mechanism allowed" in with_auth.text
    tampered = httpx.get(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=9999"))
    assert tampered.status_code == 403 and "SignatureDoesNotMatch" in tampered.text


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda b: b["configuration"].update(reportTypeId="spNope"), "reportTypeId"),
        (lambda b: b["configuration"].update(groupBy=["campaign"]), "groupBy"),
        (lambda b: b["configuration"]["columns"].append("spend"), "spend"),
        (lambda b: b["configuration"].update(timeUnit="HOURLY"), "timeUnit"),
        (lambda b: b["configuration"].pop("timeUnit"), "timeUnit"),
        (lambda b: b.update(startDate=str(TODAY - timedelta(days=40))), "31 days"),
        (lambda b: b.update(startDate=str(TODAY - timedelta(days=96)), endDate=str(TODAY - timedelta(days=90))), "95"),
        (lambda b: b.update(endDate=str(TODAY + timedelta(days=5))), "future"),
        (lambda b: b["configuration"]["columns"].append("startDate"), "startDate"),
        (lambda b: b["configuration"].update(filters=[{"field": "campaignStatus", "values": ["ENABLED"]}]), "filter"),
    ],
)
def test_invalid_requests_get_400_with_detail(client, api, change, needle):
    body = report_request(*WEEK)
    change(body)
    raw = json.dumps(body).encode()
    resp = client.post("/reporting/reports", content=raw, headers={"Content-Type": CREATE_REPORT})
    assert resp.status_code == 400
    check_openapi(api, "POST", "/reporting/reports", resp, raw)
    assert resp.json()["code"] == "400" and needle in resp.json()["detail"]


def test_wrong_content_type_is_415(client):
    resp = client.post("/reporting/reports", content=b"{}", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415


def test_95_day_backfill_is_allowed(client):
    start = TODAY - timedelta(days=95)
    rows = fetch_report(client, report_request(start, start + timedelta(days=30), time_unit="DAILY"))
    assert min(r["date"] for r in rows) == str(start)


def test_duplicate_while_pending_is_425_naming_the_original():
    with running_sandbox(seed=8, today=TODAY, report_delay=30) as sbx, ads_client(sbx, 0, home_profile(sbx)) as c:
        body = report_request(*WEEK)
        first = post_vendor(c, "/reporting/reports", CREATE_REPORT, body)
        again = post_vendor(c, "/reporting/reports", CREATE_REPORT, body)
        assert again.status_code == 425
        assert again.json() == {"code": "425", "detail": f"The Request is a duplicate of : {first.json()['reportId']}"}
        body["configuration"]["columns"].append("matchType")
        assert post_vendor(c, "/reporting/reports", CREATE_REPORT, body).status_code == 200


def test_status_moves_with_wall_clock_and_url_expires(clock):
    with (
        running_sandbox(seed=8, today=TODAY, report_delay=10, wall_clock=clock) as sbx,
        ads_client(sbx, 0, home_profile(sbx)) as c,
    ):
        rid = post_vendor(c, "/reporting/reports", CREATE_REPORT, report_request(*WEEK)).json()["reportId"]
        assert c.get(f"/reporting/reports/{rid}").json()["status"] == "PENDING"
        clock.tick(6)
        assert c.get(f"/reporting/reports/{rid}").json()["status"] == "PROCESSING"
        clock.tick(5)
        done = wait_report(c, rid)
        assert done["status"] == "COMPLETED"
        assert httpx.get(done["url"]).status_code == 200
        clock.tick(3601)
        expired = httpx.get(done["url"])
        assert expired.status_code == 403 and "Request has expired" in expired.text
        assert c.get(f"/reporting/reports/{rid}").status_code == 401  # the access token expired too
        with ads_client(sbx, 0, home_profile(sbx)) as renewed:
            fresh = renewed.get(f"/reporting/reports/{rid}").json()["url"]  # every poll signs a new URL
        assert httpx.get(fresh).status_code == 200


def _names(text: str) -> set[str]:
    """Column names in the `backtick` spans of a notes phrase; `sales1d/7d/30d` and `ruleId/Name` expand."""
    names = set()
    for span in re.findall(r"`([^`]+)`", text):
        for item in span.split(","):
            first, *others = item.strip().split("/")
            names.add(first)
            names |= {re.sub(r"(\d+[a-z]*|[A-Z][a-z]*)$", "", first) + other for other in others}
    return names


def documented_columns() -> dict[str, dict[str, set[str]]]:
    """{reportTypeId: {groupBy: columns}} as ADS_API.md §4.4 lists them (groupBy values from §4.3).

    Read literally: spTargeting's "same metric family" is spCampaigns' base without its campaign attribute
    and time columns (spTargeting lists those itself); spCampaigns' "campaign fields" are the campaign*
    columns of its campaign groupBy; spSearchTerm's "spTargeting columns" include adKeywordStatus.
    """
    notes = load_notes("ADS_API.md")
    section = notes.split("### 4.4 Columns", 1)[1].split("\n---", 1)[0]
    group_by = dict(re.findall(r"^\| `(sp\w+)` \| [^|]+ \| `(\w+)`", notes, re.M))
    out: dict[str, dict[str, set[str]]] = {}
    bases: dict[str, set[str]] = {}
    for rtype, line in re.findall(r"^\*\*(sp\w+)\*\* (.*)$", section, re.M):
        line = re.split(r"\.(?:\s|$)", line)[0]  # the list ends with the first sentence
        excluded = set(re.findall(r"\(no `?(\w+)`?\)", line))
        line = re.sub(r"\(no [^)]*\)", "", line)
        if line.startswith("= "):
            source = re.match(r"= (sp\w+) columns", line).group(1)
            columns = set().union(*out[source].values()) | _names(line)
            out[rtype] = {group_by[rtype]: columns - excluded}
            continue
        base_text, *groups = line.split("; + ")
        base = bases[rtype] = _names(base_text)
        if "the same metric family" in base_text:
            base |= bases["spCampaigns"] - {"campaignBiddingStrategy", "date", "startDate", "endDate"} - excluded
        out[rtype] = {}
        for text in groups:
            group, listed = re.match(r"(?:groupBy )?(\w+): (.*)", text).groups()
            columns = _names(listed)
            if "the campaign fields" in listed:
                columns |= {c for c in out[rtype]["campaign"] - base if c.startswith("campaign")}
            out[rtype][group] = base | columns
    return out


def test_every_documented_column_is_served(client):
    """Every column ADS_API.md §4.4 documents for each type and groupBy, with Amazon's value types."""
    documented = documented_columns()
    assert {"spCampaigns", "spTargeting", "spSearchTerm"} <= set(documented), documented.keys()
    for report_type, groups in documented.items():
        for group, all_columns in groups.items():
            assert len(all_columns) > 20, (report_type, group, all_columns)
            for time_unit, other in (("DAILY", {"startDate", "endDate"}), ("SUMMARY", {"date"})):
                columns = sorted(all_columns - other)
                rows = fetch_report(client, report_request(*WEEK, report_type, (group,), columns, time_unit))
                assert rows, (report_type, group, time_unit)
                _check_rows(report_type, group, columns, rows)


def _check_rows(report_type: str, group: str, columns: list[str], rows: list[dict]) -> None:
    for row in rows[:200]:
        assert set(row) == set(columns)
        assert isinstance(row["impressions"], int) and row["impressions"] > 0
        assert isinstance(row["clicks"], int) and 0 <= row["clicks"] <= row["impressions"]
        assert isinstance(row["cost"], float | int) and row["cost"] >= 0
        for w in (1, 7, 14, 30):
            assert row[f"purchases{w}d"] <= row["clicks"] or report_type == "spCampaigns" and group != "campaign"
        assert row["sales7d"] <= row["sales14d"] <= row["sales30d"]
        assert row["purchases1d"] <= row["purchases7d"] <= row["purchases14d"]
        if "campaignId" in row:
            assert isinstance(row["campaignId"], int)
        if "keywordId" in row:
            assert isinstance(row["keywordId"], int) and isinstance(row["keywordBid"], float | int)
    if report_type == "spSearchTerm":
        assert all(r["clicks"] >= 1 and r["searchTerm"] for r in rows)


SP_CAMPAIGN_GROUPS = [
    list(combo) for n in (1, 2, 3) for combo in itertools.combinations(("campaign", "adGroup", "campaignPlacement"), n)
]


@pytest.mark.parametrize("group_by", SP_CAMPAIGN_GROUPS, ids="+".join)
def test_sp_campaigns_group_by_combinations(client, group_by):
    """Combined groupBy (ADS_API.md §4.3: combinable) gives one row per entity of the finest grain asked
    for — ad group if adGroup is in it, else campaign; split by placement if campaignPlacement is — and
    the rows add up to the same traffic as the campaign report."""
    documented = documented_columns()["spCampaigns"]
    columns = sorted(set().union(*(documented[g] for g in group_by)) - {"startDate", "endDate"})
    rows = fetch_report(client, report_request(*WEEK, "spCampaigns", group_by, columns))
    assert rows and all(set(r) == set(columns) for r in rows)
    key = ["date", "adGroupId" if "adGroup" in group_by else "campaignId"]
    if "campaignPlacement" in group_by:
        key.append("placementClassification")
        assert {r["placementClassification"] for r in rows} == set(PLACEMENTS)
    assert len({tuple(r[k] for k in key) for r in rows}) == len(rows)
    totals = fetch_report(client, report_request(*WEEK, "spCampaigns", ["campaign"], ["date", "impressions", "clicks"]))
    for metric in ("impressions", "clicks"):
        assert sum(r[metric] for r in rows) == sum(r[metric] for r in totals)


def test_summary_report_has_period_columns(client):
    columns = ["campaignId", "impressions", "clicks", "cost", "sales14d", "startDate", "endDate"]
    rows = fetch_report(client, report_request(*WEEK, "spCampaigns", ("campaign",), columns, time_unit="SUMMARY"))
    assert rows and all((r["startDate"], r["endDate"]) == (str(WEEK[0]), str(WEEK[1])) for r in rows)
    daily = fetch_report(
        client, report_request(*WEEK, "spCampaigns", ("campaign",), ["campaignId", "date", "impressions"])
    )
    assert sum(r["impressions"] for r in rows) == sum(r["impressions"] for r in daily)


def test_filters_narrow_rows(client):
    body = report_request(*WEEK, columns=["keywordId", "keywordType", "adKeywordStatus", "impressions", "date"])
    body["configuration"]["filters"] = [{"field": "keywordType", "values": ["EXACT"]}]
    rows = fetch_report(client, body)
    assert rows and {r["keywordType"] for r in rows} == {"EXACT"}


def _downloaded(sbx, kind: str) -> bytes:
    sbx.admin.fault(kind, path_prefix="/reporting")
    with ads_client(sbx, 0, home_profile(sbx)) as c:
        done = wait_report(
            c, post_vendor(c, "/reporting/reports", CREATE_REPORT, report_request(*WEEK)).json()["reportId"]
        )
    sbx.admin.clear_faults()
    assert done["status"] == "COMPLETED"
    return httpx.get(done["url"]).content


def test_report_faults(fresh_sbx):
    with pytest.raises((EOFError, zlib.error)):
        gzip.decompress(_downloaded(fresh_sbx, "truncated_gzip"))
    with pytest.raises(json.JSONDecodeError):
        json.loads(gzip.decompress(_downloaded(fresh_sbx, "invalid_json")))
    fresh_sbx.admin.fault("report_fail", path_prefix="/reporting", count=1)
    with ads_client(fresh_sbx, 0, home_profile(fresh_sbx)) as c:
        failed = wait_report(
            c, post_vendor(c, "/reporting/reports", CREATE_REPORT, report_request(*WEEK)).json()["reportId"]
        )
        assert failed["status"] == "FAILED" and failed["failureReason"] and failed["url"] is None
        fresh_sbx.admin.fault("report_pending", path_prefix="/reporting", count=1)
        body = report_request(*WEEK, columns=["date", "keywordId", "clicks"])
        stuck = post_vendor(c, "/reporting/reports", CREATE_REPORT, body).json()["reportId"]
        assert wait_report(c, stuck, timeout=1.0)["status"] == "PENDING"
        # count=1 faults are spent: the next report is fine
        body["configuration"]["columns"].append("cost")
        assert (
            wait_report(c, post_vendor(c, "/reporting/reports", CREATE_REPORT, body).json()["reportId"])["status"]
            == "COMPLETED"
        )
