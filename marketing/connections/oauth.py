"""The browser side of connecting: consent URLs with a one-time `state` bound to the user's session, and
checking the callback.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import current_app, session

from marketing.accounts import external_url
from marketing.amazon import lwa
from marketing.amazon.hosts import Region
from marketing.connections import clients
from marketing.models import Seller

STATE_LIFETIME_SECONDS = 15 * 60
MAX_PENDING = 5
_SESSION_KEY = "amazon_oauth"


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
    pending = {k: v for k, v in session.get(_SESSION_KEY, {}).items()
               if v["at"] > time.time() - STATE_LIFETIME_SECONDS}
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k]["at"]))
    pending[state] = {"seller_id": seller.id, "api": api, "user_id": user_id, "at": time.time()}
    session[_SESSION_KEY] = pending
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
    """Consume the callback's state: valid once, for this session's user, this API, within its lifetime."""
    pending = session.get(_SESSION_KEY, {})
    entry = pending.pop(state, None) if state else None
    session[_SESSION_KEY] = pending
    if entry is None or entry["at"] <= time.time() - STATE_LIFETIME_SECONDS:
        raise OAuthError("This authorization response is not valid here: it was already used, expired, or was "
                         "started in another browser session. Start again from the seller page.")
    if entry["api"] != api or entry["user_id"] != user_id:
        raise OAuthError("This authorization response does not match the connection you started. "
                         "Start again from the seller page.")
    return Pending(entry["seller_id"], entry["api"], entry["user_id"])

