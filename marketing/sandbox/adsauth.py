"""The Ads API gateway checks: bearer token, client id header, profile scope — with each API family's
own error body (profiles `{code, details}`, SP v3 `{code, message}`, reporting v3 `{code, detail}`)."""

from __future__ import annotations

import hmac

from flask import Response, jsonify, request

from .accounts import Profile
from .state import current
from .tokens import Grant


def error(family: str, status: int, code: str, message: str) -> Response:
    if family == "profiles":
        body = {"code": code, "details": message}
    elif family == "reporting":
        body = {"code": str(status), "detail": message}
    else:
        body = {"code": code, "message": message}
    resp = jsonify(body)
    resp.status_code = status
    return resp


def authenticate(family: str, scoped: bool = True) -> tuple[Grant, Profile | None] | Response:
    """(grant, profile) for a good request, else the 401/400 Amazon would send."""
    sb = current()
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    grant, problem = sb.tokens.check_access(token, "ads")
    if grant is None:
        message = {
            "missing": "Authorization header is missing or malformed",
            "invalid": "Not authorized to access this advertiser",
            "expired": "The access token has expired",
        }[problem]
        return error(family, 401, "UNAUTHORIZED", message)
    client_id = request.headers.get("Amazon-Advertising-API-ClientId", "")
    if not hmac.compare_digest(client_id, sb.accounts.ads.client_id):
        return error(family, 401, "UNAUTHORIZED", "Invalid or missing Amazon-Advertising-API-ClientId")
    if not scoped:
        return grant, None
    scope = request.headers.get("Amazon-Advertising-API-Scope", "")
    if not scope:
        return error(family, 401, "UNAUTHORIZED", "Scope header is missing")
    profile = sb.accounts.profiles.get(int(scope)) if scope.isdigit() else None
    if profile is None or profile.seller_index != grant.seller:
        return error(family, 401, "UNAUTHORIZED", f"Not authorized to access scope {scope}")
    if not profile.serves_sponsored_products:
        if family == "reporting":
            return error(family, 400, "400", "Invalid Advertiser or Marketplace ID.")
        return error(family, 400, "INVALID_ARGUMENT", "The request input is invalid. Advertiser ID cannot be decrypted")
    return grant, profile


def media_type_ok(header: str | None, expected: str) -> bool:
    """Vendor media types compare case-insensitively and may carry parameters (e.g. charset)."""
    if not header:
        return False
    return header.split(";")[0].strip().lower() == expected.lower()
