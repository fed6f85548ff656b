"""A renewal that brings another Amazon account is asked about before it replaces the stored one.

Another account: a Seller Central consent from a different selling partner, or an Ads authorization that sees
none of the profiles the seller's connection has known. Its proven refresh token is held in Redis, encrypted
like stored tokens and bound to the user, seller and API, for 15 minutes; the person who connected confirms
(the old profiles then become "no longer accessible", their history kept) or keeps the current account.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from marketing import jobs
from marketing.amazon.ads import AdsClient, Profile
from marketing.amazon.auth import AccessTokenSource
from marketing.amazon.hosts import Region
from marketing.amazon.transport import Transport
from marketing.connections import clients
from marketing.models import Seller

HOLD_SECONDS = 15 * 60


class HoldExpired(Exception):
    """The held authorization is gone (used, expired, or someone else's); nothing was changed."""


@dataclass(frozen=True)
class Difference:
    """What differs between the stored account and the new one, in words for the confirmation page."""

    current: str
    incoming: str


@dataclass(frozen=True)
class Held:
    seller_id: int
    api: str
    user_id: int
    token: str
    partner_id: str | None


def difference(seller: Seller, api: str, token: str, partner_id: str | None) -> Difference | None:
    """None when the new authorization is the same account (or there is nothing to compare it with)."""
    if api == "sp":
        if seller.selling_partner_id and partner_id and partner_id != seller.selling_partner_id:
            return Difference(f"Seller Central account {seller.selling_partner_id}",
                              f"Seller Central account {partner_id}")
        return None
    connection = seller.connection("ads")
    known = {p.profile_id: p for p in connection.profiles} if connection is not None else {}
    if connection is None or not connection.connected or not known:
        return None
    listed = _profiles(seller, token)
    if any(p.profile_id in known for p in listed):
        return None
    return Difference(f"the advertiser of {_names(known.values())}", f"an advertiser with {_names(listed)}"
                      if listed else "an advertiser with no advertising profiles")


def _profiles(seller: Seller, token: str) -> list[Profile]:
    client_id, secret = clients.credentials("ads")
    with clients.http_client() as http:
        transport = Transport(http)
        source = AccessTokenSource(transport, clients.hosts(), Region(seller.region), client_id, secret, token,
                                   clients.token_cache())
        return AdsClient(transport, clients.hosts(), Region(seller.region), client_id, source).list_profiles()


def _names(profiles) -> str:
    labels = sorted({f"{p.account_name or 'unnamed'} ({p.country_code})" for p in profiles})
    shown = ", ".join(labels[:4])
    return f"{shown} and {len(labels) - 4} more" if len(labels) > 4 else shown


def hold(seller: Seller, api: str, user_id: int, token: str, partner_id: str | None) -> str:
    """Keep the proven token until confirmed; returns the one-time key the confirmation form carries."""
    key = secrets.token_urlsafe(24)
    entry = {"seller_id": seller.id, "api": api, "user_id": user_id, "partner_id": partner_id,
             "token": clients.vault().encrypt(token).decode()}
    jobs.connection().set(_redis_key(key), json.dumps(entry), ex=HOLD_SECONDS)
    return key


def take(key: str | None, *, seller_id: int, api: str, user_id: int) -> Held:
    """Consume a held authorization (once, by the user who connected, for this seller and API)."""
    stored = jobs.connection().getdel(_redis_key(key)) if key else None
    entry = json.loads(stored) if stored is not None else None
    if entry is None or (entry["seller_id"], entry["api"], entry["user_id"]) != (seller_id, api, user_id):
        raise HoldExpired("That authorization is no longer waiting (it was used, cancelled or is older than "
                          "15 minutes). Nothing was changed; connect again from the seller page.")
    return Held(entry["seller_id"], entry["api"], entry["user_id"],
                clients.vault().decrypt(entry["token"].encode()), entry["partner_id"])


def _redis_key(key: str) -> str:
    return f"connection-hold:{key}"
