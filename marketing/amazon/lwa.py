"""Login with Amazon: consent URLs and the token endpoint (ADS_API.md §1, SP_API.md §1-2).

Both the Ads API and the SP-API authorise through LwA; only the consent page differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import orjson

from .errors import (
    AmazonError,
    AmazonRequestError,
    AmazonUnavailable,
    InvalidClient,
    InvalidGrant,
    MalformedResponse,
    Throttled,
)
from .hosts import Hosts, Region
from .transport import Transport, as_transport, json_body, parse_retry_after, request_id_of

ADS_SCOPE = "advertising::campaign_management"

_ERROR_CLASSES: dict[str, type[AmazonError]] = {
    "invalid_grant": InvalidGrant,
    "invalid_client": InvalidClient,
    "unauthorized_client": InvalidClient,
    "server_error": AmazonUnavailable,
    "temporarily_unavailable": AmazonUnavailable,
}


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int
    token_type: str


def ads_consent_url(hosts: Hosts, region: Region, client_id: str, redirect_uri: str, state: str) -> str:
    """Where to send the advertiser's browser to grant our app access to their Ads accounts."""
    query = {
        "client_id": client_id,
        "scope": ADS_SCOPE,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{hosts.ads_consent_url(region)}?{urlencode(query)}"


def sp_consent_url(
    hosts: Hosts,
    region: Region,
    application_id: str,
    state: str,
    redirect_uri: str | None = None,
    *,
    marketplace_id: str | None = None,
    beta: bool = False,
) -> str:
    """Seller Central consent page; ``beta=True`` is required while the app is still a Draft."""
    query = {"application_id": application_id, "state": state}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    if beta:
        query["version"] = "beta"
    return f"{hosts.sp_consent_url(region, marketplace_id)}?{urlencode(query)}"


def lwa_error(response: httpx.Response) -> AmazonError:
    """Map LwA's ``{error, error_description}`` to the exception the product acts on."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    code = body.get("error") if isinstance(body, dict) else None
    description = body.get("error_description") if isinstance(body, dict) else None
    status = response.status_code
    if code in _ERROR_CLASSES:
        cls = _ERROR_CLASSES[code]
    elif status == 429:
        cls = Throttled
    elif status >= 500:
        cls = AmazonUnavailable
    else:
        cls = AmazonRequestError
    message = f"Login with Amazon refused the request: {description or code or f'HTTP {status}'}"
    return cls(
        message,
        code=code,
        status=status,
        request_id=request_id_of(response),
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _token_request(client: httpx.Client | Transport, hosts: Hosts, region: Region, form: dict) -> TokenGrant:
    response = as_transport(client).request(
        "POST",
        hosts.token_url(region),
        data=form,
        headers={"Accept": "application/json"},
        error_parser=lwa_error,
        # The refresh grant has no side effect; a code is single-use, so never resend it blindly.
        idempotent=form["grant_type"] == "refresh_token",
    )
    body = json_body(response)
    try:
        access_token = body["access_token"]
        expires_in = int(body["expires_in"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponse("Login with Amazon returned no usable access token") from exc
    if not isinstance(access_token, str) or not access_token:
        raise MalformedResponse("Login with Amazon returned no usable access token")
    return TokenGrant(
        access_token=access_token,
        refresh_token=body.get("refresh_token"),
        expires_in=expires_in,
        token_type=body.get("token_type", "bearer"),
    )


def exchange_code(
    client: httpx.Client | Transport,
    hosts: Hosts,
    region: Region,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
) -> TokenGrant:
    """Trade a consent callback's code (valid 5 minutes, once) for a refresh token."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    grant = _token_request(client, hosts, region, form)
    if not grant.refresh_token:
        raise MalformedResponse("Login with Amazon returned no refresh token for the authorization code")
    return grant


def refresh_access_token(
    client: httpx.Client | Transport,
    hosts: Hosts,
    region: Region,
    client_id: str,
    client_secret: str,
    refresh_token: str,
) -> TokenGrant:
    """Get a fresh one-hour access token; ``InvalidGrant`` means the seller must reconnect."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return _token_request(client, hosts, region, form)
