"""The consent pages, walked with a real HTTP client: Allow, Deny, bad redirect_uri, reuse, expiry."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from marketing.sandbox.testing import running_sandbox

from .conftest import TODAY

CALLBACK = "http://127.0.0.1:5000/connections/amazon/callback"


def _form(html: str) -> tuple[str, dict[str, str], list[str]]:
    """The consent form's action, hidden fields and seller choices, read like a browser would."""
    action = re.search(r"<form method='post' action='([^']+)'", html).group(1)
    hidden = dict(re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", html))
    sellers = re.findall(r"<option value='(\d+)'>", html)
    return action, hidden, sellers


def _walk(base: str, path: str, params: dict, decision: str, seller: str = "0") -> httpx.Response:
    with httpx.Client(base_url=base, follow_redirects=False) as browser:
        page = browser.get(path, params=params)
        assert page.status_code == 200, page.text
        assert "text/html" in page.headers["content-type"]
        action, hidden, sellers = _form(page.text)
        assert seller in sellers
        assert {"Allow", "Deny"} <= set(re.findall(r"value='(?:allow|deny)'>(\w+)</button>", page.text))
        return browser.post(action, data={**hidden, "seller": seller, "decision": decision})


def _redirect_params(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 302
    location = resp.headers["location"]
    assert location.startswith(CALLBACK)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _ads_params(sbx, **over):
    return {
        "client_id": sbx.ads_client_id,
        "scope": "advertising::campaign_management",
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "state": "st-123",
        **over,
    }


def _exchange(sbx, code, redirect_uri=CALLBACK, app="ads"):
    client_id = sbx.ads_client_id if app == "ads" else sbx.sp_client_id
    secret = sbx.ads_client_secret if app == "ads" else sbx.sp_client_secret
    form = {"grant_type": "authorization_code", "code": code, "client_id": client_id, "client_secret": secret}
    if redirect_uri is not None:
        form["redirect_uri"] = redirect_uri
    return httpx.post(f"{sbx.url}/auth/o2/token", data=form)


def test_ads_allow_yields_a_working_refresh_token(fresh_sbx):
    params = _redirect_params(_walk(fresh_sbx.url, "/ap/oa", _ads_params(fresh_sbx), "allow", seller="1"))
    assert params["state"] == "st-123"
    assert params["scope"] == "advertising::campaign_management"
    resp = _exchange(fresh_sbx, params["code"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["refresh_token"].startswith("Atzr|") and body["access_token"].startswith("Atza|")
    assert body["refresh_token"] != fresh_sbx.sellers[1].ads_refresh_token  # every consent is a new grant
    profiles = httpx.get(
        f"{fresh_sbx.url}/v2/profiles",
        headers={
            "Authorization": f"Bearer {body['access_token']}",
            "Amazon-Advertising-API-ClientId": fresh_sbx.ads_client_id,
        },
    ).json()
    assert {p["profileId"] for p in profiles} == {p["profileId"] for p in fresh_sbx.sellers[1].profiles}


def test_code_works_once(fresh_sbx):
    code = _redirect_params(_walk(fresh_sbx.url, "/ap/oa", _ads_params(fresh_sbx), "allow"))["code"]
    assert _exchange(fresh_sbx, code).status_code == 200
    again = _exchange(fresh_sbx, code)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert again.json()["error_description"].endswith(": code")


def test_code_exchange_checks_redirect_uri_and_app(fresh_sbx):
    code = _redirect_params(_walk(fresh_sbx.url, "/ap/oa", _ads_params(fresh_sbx), "allow"))["code"]
    assert _exchange(fresh_sbx, code, redirect_uri="http://127.0.0.1:5000/other").json()["error"] == "invalid_grant"
    code = _redirect_params(_walk(fresh_sbx.url, "/ap/oa", _ads_params(fresh_sbx), "allow"))["code"]
    assert _exchange(fresh_sbx, code, app="sp").json()["error"] == "invalid_grant"


def test_deny_redirects_with_access_denied(fresh_sbx):
    params = _redirect_params(_walk(fresh_sbx.url, "/ap/oa", _ads_params(fresh_sbx), "deny"))
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123"
    assert "code" not in params


@pytest.mark.parametrize("uri", ["https://evil.example.com/callback", "ftp://127.0.0.1/x", "http://127.0.0.1:5000/x"])
def test_unlisted_redirect_uri_shows_an_error_page_and_never_redirects(fresh_sbx, uri):
    resp = httpx.get(f"{fresh_sbx.url}/ap/oa", params=_ads_params(fresh_sbx, redirect_uri=uri))
    assert resp.status_code == 400
    assert "location" not in resp.headers
    assert "evil.example.com" not in resp.headers.get("location", "")
    sp = httpx.get(
        f"{fresh_sbx.url}/apps/authorize/consent",
        params={"application_id": fresh_sbx.sp_app_id, "state": "s", "redirect_uri": uri},
    )
    assert sp.status_code == 400 and "location" not in sp.headers


def _ads_page(sbx, uri: str) -> int:
    return httpx.get(f"{sbx.url}/ap/oa", params=_ads_params(sbx, redirect_uri=uri)).status_code


def _sp_page(sbx, uri: str) -> int:
    return httpx.get(
        f"{sbx.url}/apps/authorize/consent", params={"application_id": sbx.sp_app_id, "redirect_uri": uri}
    ).status_code


def test_each_app_accepts_only_its_own_return_urls():
    """Exact matches against the app's own list: no other loopback port or path, nor the other app's URL."""
    ads_cb, sp_cb = "https://app.example.com/connections/ads/callback", "http://127.0.0.1:5000/sp/cb"
    with running_sandbox(seed=4, today=TODAY, redirect_uris={"ads": [ads_cb], "sp": [sp_cb]}) as sbx:
        with httpx.Client(base_url=sbx.url) as browser:
            action, hidden, _ = _form(browser.get("/ap/oa", params=_ads_params(sbx, redirect_uri=ads_cb)).text)
            resp = browser.post(action, data={**hidden, "seller": "0", "decision": "allow"})
        assert resp.headers["location"].startswith(f"{ads_cb}?code=")
        assert _ads_page(sbx, sp_cb) == 400 and _sp_page(sbx, ads_cb) == 400
        assert _ads_page(sbx, "") == 400  # Ads requires one
        assert _sp_page(sbx, sp_cb) == 200
        for other in ("http://127.0.0.1:5001/sp/cb", "http://127.0.0.1:5000/sp/cb/x", "http://localhost:5000/sp/cb"):
            assert _sp_page(sbx, other) == 400 and _ads_page(sbx, other) == 400
        # SP-API without redirect_uri goes to the app's first return URL
        params = {"application_id": sbx.sp_app_id, "state": "s"}
        assert _walk(sbx.url, "/apps/authorize/consent", params, "allow").headers["location"].startswith(sp_cb)


def test_unconfigured_apps_list_the_products_callbacks_on_its_default_address():
    with running_sandbox(seed=4, today=TODAY, redirect_uris={"ads": ["https://app.example.com/cb"]}) as sbx:
        assert _sp_page(sbx, "http://127.0.0.1:5000/connections/sp/callback") == 200
        assert _ads_page(sbx, "http://127.0.0.1:5000/connections/ads/callback") == 400


def test_return_urls_can_be_registered_once_the_product_runs(fresh_sbx):
    """A product on an ephemeral port registers its callback through the admin API."""
    late = "http://127.0.0.1:41234/connections/ads/callback"
    assert _ads_page(fresh_sbx, late) == 400
    assert fresh_sbx.admin.set_redirect_uris("ads", [late]) == [late]
    assert _ads_page(fresh_sbx, late) == 200 and _ads_page(fresh_sbx, CALLBACK) == 400
    assert _sp_page(fresh_sbx, CALLBACK) == 200  # the SP-API app's list is its own
    assert fresh_sbx.admin.accounts()["ads"]["redirect_uris"] == [late]
    with pytest.raises(httpx.HTTPStatusError):
        fresh_sbx.admin.set_redirect_uris("ads", ["/relative/callback"])


def test_demo_registers_the_products_own_callbacks(make_app, fresh_sbx):
    from marketing.demo import register_sandbox_callbacks

    app = make_app(PUBLIC_URL="http://127.0.0.1:6123")
    register_sandbox_callbacks(app, fresh_sbx.env())
    apps = fresh_sbx.admin.accounts()
    assert apps["ads"]["redirect_uris"] == ["http://127.0.0.1:6123/connections/ads/callback"]
    assert apps["sp"]["redirect_uris"] == ["http://127.0.0.1:6123/connections/sp/callback"]


def test_unknown_client_and_bad_scope(fresh_sbx):
    unknown = httpx.get(
        f"{fresh_sbx.url}/ap/oa", params=_ads_params(fresh_sbx, client_id="amzn1.application-oa2-client.x")
    )
    assert unknown.status_code == 400 and "location" not in unknown.headers
    bad_scope = httpx.get(f"{fresh_sbx.url}/ap/oa", params=_ads_params(fresh_sbx, scope="profile"))
    assert _redirect_params(bad_scope)["error"] == "invalid_scope"


def test_code_expires_after_five_minutes(clock):
    with running_sandbox(seed=6, today=TODAY, wall_clock=clock) as sbx:
        late = _redirect_params(_walk(sbx.url, "/ap/oa", _ads_params(sbx), "allow"))["code"]
        in_time = _redirect_params(_walk(sbx.url, "/ap/oa", _ads_params(sbx), "allow"))["code"]
        clock.tick(299)
        assert _exchange(sbx, in_time).status_code == 200
        clock.tick(2)
        assert _exchange(sbx, late).json()["error"] == "invalid_grant"


def test_sp_consent_flow(fresh_sbx):
    params = {"application_id": fresh_sbx.sp_app_id, "state": "xyz", "redirect_uri": CALLBACK, "version": "beta"}
    got = _redirect_params(_walk(fresh_sbx.url, "/apps/authorize/consent", params, "allow", seller="2"))
    assert got["state"] == "xyz"
    assert got["selling_partner_id"] == fresh_sbx.sellers[2].selling_partner_id
    resp = _exchange(fresh_sbx, got["spapi_oauth_code"], app="sp")
    assert resp.status_code == 200
    # an SP-API code is no good to the Ads app, and SP-API tolerates a missing redirect_uri
    got = _redirect_params(_walk(fresh_sbx.url, "/apps/authorize/consent", params, "allow"))
    assert _exchange(fresh_sbx, got["spapi_oauth_code"], app="ads").json()["error"] == "invalid_grant"
    got = _redirect_params(_walk(fresh_sbx.url, "/apps/authorize/consent", params, "allow"))
    assert _exchange(fresh_sbx, got["spapi_oauth_code"], redirect_uri=None, app="sp").status_code == 200
    denied = _redirect_params(_walk(fresh_sbx.url, "/apps/authorize/consent", params, "deny"))
    assert denied == {"error": "access_denied", "state": "xyz"}
    wrong_app = httpx.get(f"{fresh_sbx.url}/apps/authorize/consent", params={**params, "application_id": "nope"})
    assert wrong_app.status_code == 400
