"""No access token, refresh token, client secret or auth code in any exception or log record."""

import logging

import httpx
import pytest

from marketing.amazon import (
    AccessTokenSource,
    AdsClient,
    AmazonError,
    MemoryTokenCache,
    Region,
    SpClient,
    exchange_code,
)
from marketing.amazon.errors import scrub

from .conftest import AUTH_CODE, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, TOKEN_PATH, gzipped, json_response

SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, AUTH_CODE, "Atza|access-1", "Atza|access-2", "s3cr3t", "sig-s3cr3t")


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_scrub_masks_token_shapes():
    text = "bad Atza|IwEBIabc and Atzr|IwEBIdef with amzn1.oa2-cs.v1.0123abcd"
    assert scrub(text) == "bad [redacted] and [redacted] with [redacted]"


def test_amazon_echoing_a_token_does_not_reach_the_message(fake, transport, hosts):
    # Amazon does not normally echo credentials, but a proxy or a future error text might.
    echo = f"token {REFRESH_TOKEN} for client secret {CLIENT_SECRET} is bad"
    fake.on("POST", TOKEN_PATH, json_response(400, {"error": "invalid_grant", "error_description": echo}))
    source = AccessTokenSource(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN,
                               MemoryTokenCache())  # fmt: skip
    with pytest.raises(AmazonError) as caught:
        source.get()
    assert_clean(str(caught.value))
    assert_clean(repr(caught.value))
    assert_clean(caught.value.message)


def test_logs_and_errors_stay_clean_across_a_busy_session(fake, transport, hosts, token_source, caplog):
    caplog.set_level(logging.DEBUG)
    errors: list[AmazonError] = []
    ads = AdsClient(transport, hosts, Region.NA, CLIENT_ID, token_source)
    sp = SpClient(transport, hosts, Region.NA, token_source)

    exchange_code(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, AUTH_CODE, "https://x/cb")
    fake.on("GET", "/v2/profiles", json_response(401, {"code": "UNAUTHORIZED", "message": "expired"}),
            json_response(500, {"code": "INTERNAL_ERROR", "message": "x"}), json_response(200, []))  # fmt: skip
    ads.list_profiles()
    fake.on("POST", "/sp/keywords/list", httpx.ReadTimeout("slow"), json_response(200, {"keywords": []}))
    list(ads.iter_entities(1, "keywords"))
    fake.on("GET", "/reports/2021-06-30/reports/r", json_response(401, {"errors": [
        {"code": "Unauthorized", "message": "Access denied", "details": "token"}]}))  # fmt: skip
    try:
        sp.get_report("r")
    except AmazonError as exc:
        errors.append(exc)
    fake.on("GET", "/r.gz", httpx.Response(200, content=gzipped([{"a": 1}])))
    list(ads.iter_report_rows("https://s3.amazonaws.com/r.gz?X-Amz-Signature=sig-s3cr3t&X-Amz-Security-Token=s3cr3t"))
    fake.on("POST", TOKEN_PATH, json_response(400, {"error": "invalid_grant", "error_description": "revoked"}))
    token_source.invalidate()
    try:
        ads.list_profiles()
    except AmazonError as exc:
        errors.append(exc)

    assert len(errors) == 2
    for exc in errors:
        assert_clean(str(exc))
    ours = [r for r in caplog.records if r.name.startswith("marketing.amazon")]
    assert any(r.levelno == logging.WARNING for r in ours) and any(r.levelno == logging.DEBUG for r in ours)
    assert any("[redacted]" in r.getMessage() for r in ours)  # the S3 URL was logged, signature masked
    for record in ours:
        assert_clean(record.getMessage())
