"""Login with Amazon token endpoint: grants, Amazon's error bodies, revocation, rotation, expiry."""

from __future__ import annotations

import httpx
import pytest

from marketing.sandbox.testing import running_sandbox

from .conftest import TODAY
from .helpers import home_profile


def _token(sbx, **form) -> httpx.Response:
    return httpx.post(f"{sbx.url}/auth/o2/token", data=form)


def _refresh(sbx, refresh_token, app="ads", secret=None):
    client_id = sbx.ads_client_id if app == "ads" else sbx.sp_client_id
    default = sbx.ads_client_secret if app == "ads" else sbx.sp_client_secret
    return _token(
        sbx,
        grant_type="refresh_token",
        refresh_token=refresh_token,
        client_id=client_id,
        client_secret=secret or default,
    )


def test_refresh_grant_returns_documented_fields(sbx):
    seller = sbx.sellers[0]
    resp = _refresh(sbx, seller.ads_refresh_token)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["access_token"].startswith("Atza|")
    assert body["refresh_token"] == seller.ads_refresh_token  # the same refresh token comes back
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        (
            {"grant_type": "refresh_token", "client_id": "x", "client_secret": "y", "refresh_token": "z"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "refresh_token", "client_secret": "y", "refresh_token": "z"}, 400, "invalid_request"),
    ],
)
def test_error_bodies(sbx, form, status, error):
    resp = _token(sbx, **form)
    assert resp.status_code == status
    body = resp.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]


def test_missing_and_bogus_refresh_token(sbx):
    base = {"grant_type": "refresh_token", "client_id": sbx.ads_client_id, "client_secret": sbx.ads_client_secret}
    missing = _token(sbx, **base)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert "refresh_token" in missing.json()["error_description"]
    bogus = _token(sbx, **base, refresh_token="Atzr|IwEBIforged")
    assert (bogus.status_code, bogus.json()["error"]) == (400, "invalid_grant")


def test_tokens_are_bound_to_their_app(sbx):
    seller = sbx.sellers[0]
    # an SP-API refresh token presented by the Ads client is not a grant for it
    resp = _refresh(sbx, seller.sp_refresh_token, app="ads")
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_grant")
    ads_access = _refresh(sbx, seller.ads_refresh_token).json()["access_token"]
    sp = httpx.get(f"{sbx.url}/fba/inventory/v1/summaries", headers={"x-amz-access-token": ads_access})
    assert sp.status_code == 403


def test_basic_auth_and_json_bodies_are_accepted(sbx):
    seller = sbx.sellers[1]
    basic = httpx.post(
        f"{sbx.url}/auth/o2/token",
        data={"grant_type": "refresh_token", "refresh_token": seller.sp_refresh_token},
        auth=(sbx.sp_client_id, sbx.sp_client_secret),
    )
    assert basic.status_code == 200
    as_json = httpx.post(
        f"{sbx.url}/auth/o2/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": seller.sp_refresh_token,
            "client_id": sbx.sp_client_id,
            "client_secret": sbx.sp_client_secret,
        },
    )
    assert as_json.status_code == 200


def test_revoked_refresh_token_gets_invalid_grant(fresh_sbx):
    seller = fresh_sbx.sellers[2]
    assert _refresh(fresh_sbx, seller.ads_refresh_token).status_code == 200
    fresh_sbx.admin.revoke(seller.ads_refresh_token)
    resp = _refresh(fresh_sbx, seller.ads_refresh_token)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"
    assert "revoked" in resp.json()["error_description"]
    # other sellers are untouched
    assert _refresh(fresh_sbx, fresh_sbx.sellers[0].ads_refresh_token).status_code == 200


def test_rotated_secret_invalidates_the_old_one(fresh_sbx):
    seller = fresh_sbx.sellers[0]
    old = fresh_sbx.sp_client_secret
    new = fresh_sbx.admin.rotate_secret("sp")
    assert new != old and new == fresh_sbx.sp_client_secret
    stale = _refresh(fresh_sbx, seller.sp_refresh_token, app="sp", secret=old)
    assert (stale.status_code, stale.json()["error"]) == (401, "invalid_client")
    assert _refresh(fresh_sbx, seller.sp_refresh_token, app="sp", secret=new).status_code == 200
    # the Ads app is a different security profile
    assert _refresh(fresh_sbx, seller.ads_refresh_token).status_code == 200


def test_access_token_expires_after_an_hour_of_wall_clock(clock):
    with running_sandbox(seed=3, today=TODAY, wall_clock=clock) as sbx:
        access = _refresh(sbx, sbx.sellers[0].ads_refresh_token).json()["access_token"]
        headers = {"Authorization": f"Bearer {access}", "Amazon-Advertising-API-ClientId": sbx.ads_client_id}
        assert httpx.get(f"{sbx.url}/v2/profiles", headers=headers).status_code == 200
        clock.tick(3599)
        assert httpx.get(f"{sbx.url}/v2/profiles", headers=headers).status_code == 200
        clock.tick(2)
        expired = httpx.get(f"{sbx.url}/v2/profiles", headers=headers)
        assert expired.status_code == 401
        assert expired.json()["code"] == "UNAUTHORIZED"
        # refreshing gives a working token again; the market is still there
        access = _refresh(sbx, sbx.sellers[0].ads_refresh_token).json()["access_token"]
        headers["Authorization"] = f"Bearer {access}"
        headers["Amazon-Advertising-API-Scope"] = str(home_profile(sbx))
        assert httpx.get(f"{sbx.url}/v2/profiles", headers=headers).status_code == 200


def test_credentials_survive_a_restart():
    with running_sandbox(seed=21, today=TODAY) as first:
        creds = (first.ads_client_id, first.ads_client_secret, first.sellers[0].ads_refresh_token, first.admin_key)
    with running_sandbox(seed=21, today=TODAY) as second:
        assert (
            second.ads_client_id,
            second.ads_client_secret,
            second.sellers[0].ads_refresh_token,
            second.admin_key,
        ) == creds
        assert _refresh(second, creds[2]).status_code == 200
    with running_sandbox(seed=22, today=TODAY) as other:
        assert other.ads_client_id != creds[0]
        assert _refresh(other, creds[2], secret=other.ads_client_secret).json()["error"] == "invalid_grant"
