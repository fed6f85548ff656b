"""The browser side of connecting: consent URLs with a one-time `state`, and checking the callback.

The state lives in Redis (not in the session cookie, whose older copies would still hold it), bound to the
user, for 15 minutes, and is consumed atomically (GETDEL) by the first callback that presents it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from flask import current_app

from marketing import jobs
from marketing.accounts import external_url
from marketing.amazon import lwa
from marketing.amazon.hosts import Region
from marketing.connections import clients
from marketing.models import Seller

STATE_LIFETIME_SECONDS = 15 * 60


class OAuthError(Exception):
    """A user-facing reason the callback was refused; nothing was stored."""


@dataclass(frozen=True)
class Pending:
    seller_id: int
    api: str
    user_id: int


def redirect_uri(api: str) -> str:
    """Built on PUBLIC_URL; must be on the Amazon app's allowed return URLs."""
    return external_url("connections.callback", api=api)


def consent_url(seller: Seller, api: str, user_id: int) -> str:
    state = secrets.token_urlsafe(32)
    entry = {"seller_id": seller.id, "api": api, "user_id": user_id}
    jobs.connection().set(_key(state), json.dumps(entry), ex=STATE_LIFETIME_SECONDS)
    region = Region(seller.region)
    if api == "ads":
        client_id, _ = clients.credentials("ads")
        return lwa.ads_consent_url(clients.hosts(), region, client_id, redirect_uri("ads"), state)
    app_id = current_app.config.get("AMAZON_SP_APP_ID")
    if not app_id:
        raise clients.NotConfigured("AMAZON_SP_APP_ID must be set to connect Seller Central")
    # The seller's own Seller Central host (AU and SG have theirs); a Draft app needs version=beta.
    market = next(iter(sorted(seller.marketplaces or [])), None)
    return lwa.sp_consent_url(clients.hosts(), region, app_id, state, redirect_uri("sp"), marketplace_id=market,
                              beta=bool(current_app.config.get("AMAZON_SP_APP_DRAFT")))


def take_state(api: str, state: str | None, user_id: int) -> Pending:
    """Consume the callback's state: valid once, for this user, this API, within its lifetime."""
    stored = jobs.connection().getdel(_key(state)) if state else None
    if stored is None:
        raise OAuthError("This authorization response is not valid here: it was already used, expired, or was "
                         "started by someone else. Start again from the seller page.")
    entry = json.loads(stored)
    if entry["api"] != api or entry["user_id"] != user_id:
        raise OAuthError("This authorization response does not match the connection you started. "
                         "Start again from the seller page.")
    return Pending(entry["seller_id"], entry["api"], entry["user_id"])


def _key(state: str) -> str:
    """Only a digest of the state is a key: whoever can list Redis keys still cannot complete a consent."""
    return "oauth-state:" + hashlib.sha256(state.encode()).hexdigest()
