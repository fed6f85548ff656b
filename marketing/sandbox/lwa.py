"""Login with Amazon's token endpoint, `POST /auth/o2/token`, with LWA's error bodies.

Grants: `refresh_token` (returns the same refresh token) and `authorization_code` (codes from the
consent pages). Client authentication comes first, so a wrong secret is `invalid_client` (401) even
when the grant is also bad. Bodies are form-encoded as Amazon documents; JSON (as Amazon's Java
client sends) and HTTP Basic client credentials are accepted too.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request

from .state import current
from .tokens import ACCESS_TTL

blueprint = Blueprint("lwa", __name__)


def _error(status: int, error: str, description: str):
    resp = jsonify({"error": error, "error_description": description})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


def _params() -> dict[str, str]:
    if request.is_json:
        body = request.get_json(silent=True)
        return {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    params = dict(request.form.items())
    if request.authorization and request.authorization.type == "basic":
        params.setdefault("client_id", request.authorization.username or "")
        params.setdefault("client_secret", request.authorization.password or "")
    return params


@blueprint.post("/auth/o2/token")
def token():
    sb = current()
    p = _params()
    grant_type = p.get("grant_type")
    if not grant_type:
        return _error(400, "invalid_request", "The request is missing a required parameter : grant_type")
    if grant_type not in ("refresh_token", "authorization_code"):
        return _error(
            400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server"
        )
    for name in ("client_id", "client_secret"):
        if not p.get(name):
            return _error(400, "invalid_request", f"The request is missing a required parameter : {name}")
    app = sb.accounts.app_by_client_id(p["client_id"])
    if app is None or not hmac.compare_digest(app.client_secret, p["client_secret"]):
        return _error(401, "invalid_client", "Client authentication failed")

    if grant_type == "refresh_token":
        raw = p.get("refresh_token")
        if not raw:
            return _error(400, "invalid_request", "The request is missing a required parameter : refresh_token")
        grant = sb.tokens.parse_refresh(raw)
        if grant is None or grant.app != app.kind:
            return _error(
                400,
                "invalid_grant",
                "The request has an invalid grant parameter : refresh_token. "
                "User may have revoked or didn't grant the permission.",
            )
        refresh = raw
    else:
        code = p.get("code")
        if not code:
            return _error(400, "invalid_request", "The request is missing a required parameter : code")
        grant = sb.tokens.redeem_code(code, app.kind, p.get("redirect_uri"))
        if grant is None:
            return _error(400, "invalid_grant", "The request has an invalid grant parameter : code")
        refresh = sb.tokens.refresh_token(grant)
    resp = jsonify(
        {
            "access_token": sb.tokens.access_token(grant),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": ACCESS_TTL,
        }
    )
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp
