from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from marketing.amazon import (
    AmazonRequestError,
    AmazonUnavailable,
    InvalidClient,
    InvalidGrant,
    MalformedResponse,
    Region,
    ads_consent_url,
    exchange_code,
    refresh_access_token,
    sp_consent_url,
)

from .conftest import AUTH_CODE, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, TOKEN_PATH, json_response

REDIRECT = "https://dash.example.com/amazon/callback"


def test_ads_consent_url(hosts):
    url = ads_consent_url(hosts, Region.EU, CLIENT_ID, REDIRECT, "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://eu.account.amazon.com/ap/oa"
    assert parse_qs(parts.query) == {
        "client_id": [CLIENT_ID],
        "scope": ["advertising::campaign_management"],
        "response_type": ["code"],
        "redirect_uri": [REDIRECT],
        "state": ["st4te"],
    }


def test_sp_consent_url_with_and_without_beta(hosts):
    url = sp_consent_url(hosts, Region.NA, "amzn1.sp.solution.abc", "st4te", REDIRECT, beta=True)
    parts = urlsplit(url)
    assert parts.netloc == "sellercentral.amazon.com" and parts.path == "/apps/authorize/consent"
    assert parse_qs(parts.query) == {
        "application_id": ["amzn1.sp.solution.abc"],
        "state": ["st4te"],
        "redirect_uri": [REDIRECT],
        "version": ["beta"],
    }
    published = parse_qs(urlsplit(sp_consent_url(hosts, Region.NA, "app", "s")).query)
    assert published == {"application_id": ["app"], "state": ["s"]}


def test_exchange_code_posts_the_form_and_returns_the_grant(fake, transport, hosts):
    grant = exchange_code(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, AUTH_CODE, REDIRECT)
    assert grant.access_token == "Atza|access-1"
    assert grant.refresh_token == REFRESH_TOKEN
    assert (grant.expires_in, grant.token_type) == (3600, "bearer")
    (request,) = fake.calls("POST", TOKEN_PATH)
    assert request.url.host == "api.amazon.com"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["authorization_code"],
        "code": [AUTH_CODE],
        "redirect_uri": [REDIRECT],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert "Atza" not in repr(grant) and "Atzr" not in repr(grant)


def test_refresh_uses_the_regional_token_host(fake, transport, hosts):
    grant = refresh_access_token(transport, hosts, Region.FE, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
    assert grant.access_token == "Atza|access-1"
    (request,) = fake.calls("POST", TOKEN_PATH)
    assert request.url.host == "api.amazon.co.jp"
    form = parse_qs(request.content.decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [REFRESH_TOKEN]


@pytest.mark.parametrize(
    ("status", "error", "exc_type"),
    [
        (400, "invalid_grant", InvalidGrant),
        (401, "invalid_client", InvalidClient),
        (400, "unauthorized_client", InvalidClient),
        (400, "invalid_request", AmazonRequestError),
        (400, "unsupported_grant_type", AmazonRequestError),
    ],
)
def test_lwa_errors_map_to_exceptions(fake, transport, hosts, sleeps, status, error, exc_type):
    fake.on("POST", TOKEN_PATH, json_response(status, {"error": error, "error_description": f"{error} happened"}))
    with pytest.raises(exc_type) as caught:
        refresh_access_token(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
    assert caught.type is exc_type
    assert (caught.value.code, caught.value.status) == (error, status)
    assert f"{error} happened" in str(caught.value)
    assert len(fake.calls("POST", TOKEN_PATH)) == 1 and sleeps == []  # never retried


def test_invalid_grant_on_refresh_message_is_for_humans(fake, transport, hosts):
    description = (
        "The request has an invalid grant parameter : refresh_token. "
        "User may have revoked or didn't grant the permission."
    )
    fake.on("POST", TOKEN_PATH, json_response(400, {"error": "invalid_grant", "error_description": description}))
    with pytest.raises(InvalidGrant) as caught:
        refresh_access_token(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
    assert "revoked" in str(caught.value)
    assert REFRESH_TOKEN not in str(caught.value) and CLIENT_SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        json_response(500, {"error": "server_error", "error_description": "oops"}),
        json_response(503, {"error": "temporarily_unavailable", "error_description": "later"}),
        json_response(400, {"error": "temporarily_unavailable", "error_description": "later"}),
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.ReadTimeout("timed out"),
    ],
)
def test_transient_lwa_failures_are_retried(fake, transport, hosts, sleeps, failure):
    fake.on("POST", TOKEN_PATH, failure, json_response(200, {"access_token": "Atza|x", "expires_in": 3600}))
    grant = refresh_access_token(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
    assert grant.access_token == "Atza|x" and grant.token_type == "bearer"
    assert len(fake.calls("POST", TOKEN_PATH)) == 2
    assert sleeps == [0.5]


def test_lwa_outage_outlasting_retries_raises_unavailable(fake, transport, hosts, sleeps):
    fake.on("POST", TOKEN_PATH, json_response(503, {"error": "temporarily_unavailable"}))
    with pytest.raises(AmazonUnavailable) as caught:
        refresh_access_token(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
    assert len(fake.calls("POST", TOKEN_PATH)) == 4
    assert sleeps == [0.5, 1.0, 2.0]
    assert caught.value.retry_after == 4.0


def test_code_exchange_is_not_resent_after_it_may_have_reached_amazon(fake, transport, hosts, sleeps):
    # A code is single-use: resending it after a read timeout would only earn a misleading invalid_grant.
    fake.on("POST", TOKEN_PATH, httpx.ReadTimeout("timed out"))
    with pytest.raises(AmazonUnavailable):
        exchange_code(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, AUTH_CODE, REDIRECT)
    assert len(fake.calls("POST", TOKEN_PATH)) == 1 and sleeps == []


def test_code_exchange_is_resent_when_the_connection_never_opened(fake, transport, hosts, sleeps):
    fake.on("POST", TOKEN_PATH, httpx.ConnectError("refused"), fake._issue_token)
    grant = exchange_code(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, AUTH_CODE, REDIRECT)
    assert grant.refresh_token == REFRESH_TOKEN and sleeps == [0.5]


@pytest.mark.parametrize(
    "body",
    [{"token_type": "bearer", "expires_in": 3600}, {"access_token": "Atza|x"}, {"access_token": 5, "expires_in": 1}],
)
def test_token_answer_without_usable_token_is_malformed(fake, transport, hosts, body):
    fake.on("POST", TOKEN_PATH, json_response(200, body))
    with pytest.raises(MalformedResponse):
        refresh_access_token(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)


def test_code_exchange_without_refresh_token_is_malformed(fake, transport, hosts):
    fake.on("POST", TOKEN_PATH, json_response(200, {"access_token": "Atza|x", "expires_in": 3600}))
    with pytest.raises(MalformedResponse):
        exchange_code(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, AUTH_CODE, REDIRECT)


def test_non_json_token_answer_is_malformed(fake, transport, hosts):
    fake.on("POST", TOKEN_PATH, httpx.Response(200, text="<html>captive portal</html>"))
    with pytest.raises(MalformedResponse):
        refresh_access_token(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
