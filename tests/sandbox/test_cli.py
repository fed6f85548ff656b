"""`marketing sandbox` as a user runs it: start-up lines, JSON mode, argument errors."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from marketing.sandbox.cli import sandbox_command

LAUNCH = "from marketing.sandbox.cli import sandbox_command; sandbox_command(prog_name='marketing sandbox')"


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--port", "0", "--today", "2025-06-18", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_prints_shell_exports_and_serves():
    proc = _start("--seed", "3")
    try:
        lines = [proc.stdout.readline().rstrip("\n") for _ in range(10)]
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
        assert list(exports) == [
            "AMAZON_BASE_URL",
            "AMAZON_ADS_CLIENT_ID",
            "AMAZON_ADS_CLIENT_SECRET",
            "AMAZON_SP_CLIENT_ID",
            "AMAZON_SP_CLIENT_SECRET",
            "AMAZON_SP_APP_ID",
            "AMAZON_SANDBOX_ADMIN_KEY",
        ]
        assert exports["AMAZON_ADS_CLIENT_ID"].startswith("amzn1.application-oa2-client.")
        assert exports["AMAZON_SP_APP_ID"].startswith("amzn1.sp.solution.")
        sellers = [line for line in lines if line.startswith("# seller ")]
        assert len(sellers) == 3 and all("ads_refresh_token=Atzr|" in s and "region=" in s for s in sellers)
        base = exports["AMAZON_BASE_URL"]
        assert not base.endswith(":0")
        token = sellers[0].split("ads_refresh_token=")[1].split()[0]
        resp = httpx.post(
            f"{base}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token,
                "client_id": exports["AMAZON_ADS_CLIENT_ID"],
                "client_secret": exports["AMAZON_ADS_CLIENT_SECRET"],
            },
        )
        assert resp.status_code == 200
        clock = httpx.get(f"{base}/_sandbox/clock", headers={"X-Sandbox-Key": exports["AMAZON_SANDBOX_ADMIN_KEY"]})
        assert clock.json()["today"] == "2025-06-18"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_json_mode_and_many_sellers():
    proc = _start("--json", "--sellers", "100", "--seed", "3")
    try:
        info = json.loads(proc.stdout.readline())
        assert len(info["sellers"]) == 100
        assert info["AMAZON_BASE_URL"].startswith("http://127.0.0.1:")
        assert {s["region"] for s in info["sellers"]} == {"NA", "EU", "FE"}
        assert len({s["ads_refresh_token"] for s in info["sellers"]}) == 100
        assert httpx.get(f"{info['AMAZON_BASE_URL']}/v2/profiles").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_redirect_uri_options_set_each_apps_return_urls():
    ads = ["https://dash.example.com/connections/ads/callback", "http://127.0.0.1:8000/connections/ads/callback"]
    proc = _start("--json", "--ads-redirect-uri", ads[0], "--ads-redirect-uri", ads[1])
    try:
        info = json.loads(proc.stdout.readline())
        apps = httpx.get(
            f"{info['AMAZON_BASE_URL']}/_sandbox/accounts", headers={"X-Sandbox-Key": info["AMAZON_SANDBOX_ADMIN_KEY"]}
        ).json()
        assert apps["ads"]["redirect_uris"] == ads
        assert apps["sp"]["redirect_uris"][0] == "http://127.0.0.1:5000/connections/sp/callback"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_market_option_chooses_the_shape():
    proc = _start("--json", "--market", "duds", "--promo-shape", "pull-forward", "--sellers", "1")
    try:
        info = json.loads(proc.stdout.readline())
        market = httpx.get(
            f"{info['AMAZON_BASE_URL']}/_sandbox/market", headers={"X-Sandbox-Key": info["AMAZON_SANDBOX_ADMIN_KEY"]}
        ).json()
        assert market["name"] == "duds" and market["promo_shape"] == "pull-forward"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    "args",
    [
        ["--size", "huge"],
        ["--port", "-1"],
        ["--today", "tomorrow"],
        ["--sellers", "0"],
        ["--bogus"],
        ["--ads-redirect-uri", "/no/host"],
        ["--market", "auction-house"],
        ["--promo-shape", "bogof"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args):
    result = CliRunner().invoke(sandbox_command, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
