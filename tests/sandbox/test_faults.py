"""Fault injection through the admin API: throttling, server errors, latency, scoping, admin auth."""

from __future__ import annotations

import time
from http import HTTPStatus

import httpx
import pytest

from .helpers import CAMPAIGN, ads_client, home_profile, post_vendor, sp_client


def test_admin_requires_the_key(fresh_sbx):
    assert httpx.get(f"{fresh_sbx.url}/_sandbox/clock").status_code == 401
    assert httpx.get(f"{fresh_sbx.url}/_sandbox/clock", headers={"X-Sandbox-Key": "nope"}).status_code == 401


def test_throttle_with_and_without_retry_after(fresh_sbx):
    with ads_client(fresh_sbx, 0, home_profile(fresh_sbx)) as c:
        fresh_sbx.admin.fault("throttle", path_prefix="/sp/", retry_after=3, count=1)
        first = post_vendor(c, "/sp/campaigns/list", CAMPAIGN, {})
        assert first.status_code == 429 and first.headers["Retry-After"] == "3"
        assert first.json()["code"] == "THROTTLED"
        assert post_vendor(c, "/sp/campaigns/list", CAMPAIGN, {}).status_code == 200  # count spent
        fresh_sbx.admin.fault("throttle", path_prefix="/reporting/")
        report = c.post("/reporting/reports", json={})
        assert report.status_code == 429 and "Retry-After" not in report.headers
        assert report.json()["code"] == "429"
        assert c.get("/v2/profiles").status_code == 200  # out of scope
    with sp_client(fresh_sbx, 0) as sp:
        fresh_sbx.admin.fault("throttle", path_prefix="/fba/")
        resp = sp.get("/fba/inventory/v1/summaries")
        assert resp.status_code == 429 and resp.json()["errors"][0]["code"] == "QuotaExceeded"
        assert resp.headers["x-amzn-RequestId"]
    fresh_sbx.admin.clear_faults()
    assert fresh_sbx.admin.faults() == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(fresh_sbx, status):
    """Amazon's services answer 500/503, its gateways 502/504 (ADS_API.md §5): each in the family's shape."""
    fresh_sbx.admin.fault("error", status=status, path_prefix="/auth/o2/token", count=1)
    seller = fresh_sbx.sellers[0]
    form = {
        "grant_type": "refresh_token",
        "refresh_token": seller.ads_refresh_token,
        "client_id": fresh_sbx.ads_client_id,
        "client_secret": fresh_sbx.ads_client_secret,
    }
    resp = httpx.post(f"{fresh_sbx.url}/auth/o2/token", data=form)
    assert resp.status_code == status and resp.json()["error"] in ("server_error", "temporarily_unavailable")
    assert httpx.post(f"{fresh_sbx.url}/auth/o2/token", data=form).status_code == 200
    fresh_sbx.admin.fault("error", status=status, path_prefix="/reporting/", count=1)
    with ads_client(fresh_sbx, 0, home_profile(fresh_sbx)) as c:
        report = c.get("/reporting/reports/nope")
    assert report.status_code == status and report.json() == {"code": str(status), "detail": HTTPStatus(status).phrase}


def test_rate_is_a_probability(fresh_sbx):
    fresh_sbx.admin.fault("error", rate=0.5, path_prefix="/v2/profiles")
    with ads_client(fresh_sbx, 0) as c:
        codes = [c.get("/v2/profiles").status_code for _ in range(60)]
    assert 10 < codes.count(500) < 50 and codes.count(200) + codes.count(500) == 60


def test_latency(fresh_sbx):
    fresh_sbx.admin.fault("latency", seconds=0.4, path_prefix="/v2/profiles", count=1)
    with ads_client(fresh_sbx, 0) as c:
        start = time.monotonic()
        assert c.get("/v2/profiles").status_code == 200
        assert time.monotonic() - start >= 0.4


def test_bad_fault_specs_are_rejected(fresh_sbx):
    with pytest.raises(httpx.HTTPStatusError):
        fresh_sbx.admin.fault("meteor")
    with pytest.raises(httpx.HTTPStatusError):
        fresh_sbx.admin.fault("error", status=418)
