"""The consent pages a browser walks through: Login with Amazon (Ads) and Seller Central (SP-API).

Plain HTML forms: pick which sandbox seller is "logged in", then Allow or Deny. Allow redirects to the
app's redirect_uri with a one-time code (Ads: `code`, `scope`, `state`; SP-API: `spapi_oauth_code`,
`selling_partner_id`, `state`); Deny redirects with `error=access_denied`. A redirect_uri that is not
exactly one of that app's own Allowed Return URLs (`App.redirect_uris`) gets an error page and no
redirect, as LWA does for a URL missing from the security profile.
"""

from __future__ import annotations

import hmac
from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, redirect, request

from .state import Sandbox, current

blueprint = Blueprint("consent", __name__)
ADS_SCOPE = "advertising::campaign_management"


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def _error_page(message: str) -> Response:
    return _page("Sign-in error", f"<p id='error'>{escape(message)}</p>", 400)


def _form(action: str, hidden: dict[str, str], sb: Sandbox, app_name: str) -> Response:
    fields = "".join(f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in hidden.items())
    options = "".join(
        f"<option value='{s.index}'>{escape(s.name)} ({s.region}, {s.selling_partner_id})</option>"
        for s in sb.accounts.sellers
    )
    body = (
        f"<p>{escape(app_name)} would like to access your account.</p>"
        f"<form method='post' action='{escape(action)}'>{fields}"
        f"<label>Signed in as <select name='seller'>{options}</select></label> "
        "<button type='submit' name='decision' value='allow'>Allow</button> "
        "<button type='submit' name='decision' value='deny'>Deny</button></form>"
    )
    return _page("Consent", body)


def _seller_index(sb: Sandbox, raw: str | None) -> int | None:
    if raw is None or not raw.isdigit() or int(raw) >= len(sb.accounts.sellers):
        return None
    return int(raw)


@blueprint.route("/ap/oa", methods=["GET", "POST"])
def ads_consent():
    """Login with Amazon's authorization page for the Ads API (`advertising::campaign_management`)."""
    sb = current()
    p = request.values
    client_id, redirect_uri = p.get("client_id", ""), p.get("redirect_uri", "")
    if not hmac.compare_digest(client_id, sb.accounts.ads.client_id):
        return _error_page("An unknown client_id was supplied.")
    if redirect_uri not in sb.accounts.ads.redirect_uris:
        return _error_page("The redirect URI you provided has not been whitelisted for your application.")
    state = p.get("state")
    extra = {"state": state} if state is not None else {}
    if p.get("response_type") != "code":
        return redirect(_with_query(redirect_uri, {"error": "unsupported_response_type", **extra}))
    if p.get("scope") != ADS_SCOPE:
        return redirect(
            _with_query(
                redirect_uri,
                {"error": "invalid_scope", "error_description": "An unknown scope was requested", **extra},
            )
        )
    if request.method == "GET":
        hidden = {k: p[k] for k in ("client_id", "scope", "response_type", "redirect_uri", "state") if k in p}
        return _form("/ap/oa", hidden, sb, "Amazon Ads API application")
    if p.get("decision") != "allow":
        return redirect(
            _with_query(
                redirect_uri,
                {"error": "access_denied", "error_description": "The user denied the request", **extra},
            )
        )
    seller = _seller_index(sb, p.get("seller"))
    if seller is None:
        return _error_page("Choose an account to sign in with.")
    code = sb.tokens.new_code(sb.tokens.new_grant("ads", seller), redirect_uri)
    return redirect(_with_query(redirect_uri, {"code": code, "scope": ADS_SCOPE, **extra}))


@blueprint.route("/apps/authorize/consent", methods=["GET", "POST"])
def sp_consent():
    """Seller Central's website-authorization page for the SP-API app (`version=beta` is tolerated)."""
    sb = current()
    p = request.values
    if not hmac.compare_digest(p.get("application_id", ""), sb.accounts.sp.app_id or ""):
        return _error_page("The application you are trying to authorize was not found.")
    allowed = sb.accounts.sp.redirect_uris
    redirect_uri = p.get("redirect_uri") or (allowed[0] if allowed else "")
    if redirect_uri not in allowed:
        return _error_page("The redirect URI you provided is not registered for this application.")
    state = p.get("state")
    extra = {"state": state} if state is not None else {}
    if request.method == "GET":
        hidden = {k: p[k] for k in ("application_id", "state", "redirect_uri", "version") if k in p}
        return _form("/apps/authorize/consent", hidden, sb, "Selling Partner API application")
    if p.get("decision") != "allow":
        return redirect(_with_query(redirect_uri, {"error": "access_denied", **extra}))
    seller = _seller_index(sb, p.get("seller"))
    if seller is None:
        return _error_page("Choose an account to sign in with.")
    code = sb.tokens.new_code(sb.tokens.new_grant("sp", seller), redirect_uri)
    spid = sb.accounts.sellers[seller].selling_partner_id
    return redirect(_with_query(redirect_uri, {"spapi_oauth_code": code, "selling_partner_id": spid, **extra}))
