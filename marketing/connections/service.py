"""Connect, renew, check and disconnect a seller's Amazon authorizations.

Every path that stores a token first proves it with a real token exchange, so nothing unusable is saved,
and an old token stays untouched until the new one is proven.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

from redis import RedisError
from sqlalchemy import select

from marketing import audit, settings_registry
from marketing.amazon import lwa
from marketing.amazon.ads import Profile
from marketing.amazon.auth import cache_key
from marketing.amazon.errors import AmazonError, AmazonUnavailable, InvalidClient, InvalidGrant, Throttled
from marketing.amazon.hosts import Region
from marketing.clock import now
from marketing.connections import alerts, clients, status
from marketing.extensions import db
from marketing.models import AdsProfile, Connection, ConnectionEvent, Seller, User
from marketing.models.connections import MANAGEABLE_ACCOUNT_TYPES, EventKind
from marketing.security.crypto import SecretUnreadable

SP_AUTHORIZATION_DAYS = 365
# LWA refresh tokens: "Atzr|" then url-safe characters; Amazon's are a few hundred characters long.
_TOKEN_SHAPE = re.compile(r"^Atzr\|[A-Za-z0-9\-_.~+/=|]{20,2048}$")


class ConnectError(Exception):
    """A user-facing reason a token could not be stored; nothing was changed."""


def clean_token(raw: str) -> str:
    """Validate the shape of a pasted refresh token (surrounding whitespace is forgiven)."""
    token = (raw or "").strip()
    if not token:
        raise ConnectError("Paste the refresh token.")
    if token.startswith("amzn.mws.") or re.fullmatch(r"[0-9a-f-]{36}", token):
        raise ConnectError("That looks like an MWS auth token. Amazon retired MWS in 2024; authorize the "
                           "SP-API app instead (Seller Central → Apps → Authorize) and paste its refresh token.")
    if not _TOKEN_SHAPE.fullmatch(token):
        raise ConnectError("That is not a Login with Amazon refresh token: they start with Atzr| and contain "
                           "no spaces or line breaks.")
    return token


def _amazon_message(exc: AmazonError, api: str) -> str:
    if isinstance(exc, InvalidGrant):
        return ("Amazon rejected the authorization: it was revoked, has expired, was already used, or belongs to "
                "another app. Nothing was changed.")
    if isinstance(exc, InvalidClient):
        return f"{alerts.invalid_client(api)} Nothing was changed."
    if isinstance(exc, AmazonUnavailable | Throttled):
        return "Amazon did not answer in time. Nothing was changed; try again in a minute."
    return f"Amazon refused the request ({exc.code or 'error'}): {exc}. Nothing was changed."


def _raise_for_client(exc: AmazonError, api: str) -> None:
    if isinstance(exc, InvalidClient):
        alerts.raise_invalid_client(api)
        db.session.commit()
    raise ConnectError(_amazon_message(exc, api)) from None


def _credentials_or_error(api: str) -> tuple[str, str]:
    try:
        return clients.credentials(api)
    except clients.NotConfigured as exc:
        raise ConnectError(str(exc)) from None


def prove_refresh_token(seller: Seller, api: str, refresh_token: str) -> lwa.TokenGrant:
    """A real token exchange, so only working tokens are stored."""
    client_id, secret = _credentials_or_error(api)
    with clients.http_client() as http:
        try:
            grant = lwa.refresh_access_token(http, clients.hosts(), Region(seller.region), client_id, secret,
                                             refresh_token)
        except AmazonError as exc:
            _raise_for_client(exc, api)
    # Prime the shared cache so the first API call doesn't exchange again.
    clients.token_cache().set(cache_key(client_id, refresh_token), grant.access_token, max(grant.expires_in - 300, 1))
    return grant


def exchange_code(seller: Seller, api: str, code: str, redirect_uri: str) -> str:
    """Trade a consent callback's code for a refresh token (at once: codes live 5 minutes, work once)."""
    client_id, secret = _credentials_or_error(api)
    with clients.http_client() as http:
        try:
            grant = lwa.exchange_code(http, clients.hosts(), Region(seller.region), client_id, secret, code,
                                      redirect_uri)
        except AmazonError as exc:
            _raise_for_client(exc, api)
    clients.token_cache().set(cache_key(client_id, grant.refresh_token), grant.access_token,
                              max(grant.expires_in - 300, 1))
    return grant.refresh_token


def expiry_for(api: str, authorized_at: dt.datetime) -> dt.datetime | None:
    if api == "sp":
        return authorized_at + dt.timedelta(days=SP_AUTHORIZATION_DAYS)
    days = settings_registry.get("ads_authorization_days")
    return authorized_at + dt.timedelta(days=int(days)) if days else None


def apply_ads_lifetime(days, seller_id: int | None = None) -> int:
    """Re-date every Ads authorization's expiry for a changed lifetime (None: Ads tokens do not expire); the
    caller commits. Returns how many connections were re-dated. The settings registry calls it when the
    (app-wide: `seller_id` is None) `ads_authorization_days` setting changes."""
    connections = db.session.scalars(select(Connection).where(Connection.api == "ads",
                                                              Connection.authorized_at.is_not(None))).all()
    for connection in connections:
        connection.expires_at = connection.authorized_at + dt.timedelta(days=int(days)) if days else None
    return len(connections)


def store_token(seller: Seller, api: str, refresh_token: str, *, authorized_at: dt.datetime, actor: User | None,
                method: str) -> Connection:
    """Save a proven token as the seller's `api` connection (new, or renewing the existing one)."""
    connection = seller.connection(api)
    kind = EventKind.RENEWED if connection is not None and connection.connected else EventKind.CONNECTED
    if connection is None:
        connection = Connection(seller=seller, api=api)
        db.session.add(connection)
    connection.refresh_token_ciphertext = clients.vault().encrypt(refresh_token)
    connection.token_last4 = refresh_token[-4:]
    connection.authorized_at = authorized_at
    connection.expires_at = expiry_for(api, authorized_at)
    connection.revoked_at = None
    connection.last_success_at = now()
    connection.last_error_code = connection.last_error_message = connection.last_error_at = None
    connection.error_transient = False
    _history(seller, api, kind, method=method, actor=actor, last4=connection.token_last4, authorized_at=authorized_at)
    audit.record(f"connection.{kind}", actor=actor, target_type="connection", target_id=f"{seller.id}/{api}",
                 seller_id=seller.id, api=api, method=method, token_last4=connection.token_last4,
                 authorized_at=authorized_at.date().isoformat())
    return connection


def _history(seller: Seller, api: str, kind: EventKind, *, method: str | None, actor: User | None,
             last4: str | None, authorized_at: dt.datetime | None = None) -> None:
    db.session.add(ConnectionEvent(seller_id=seller.id, api=api, kind=kind, method=method,
                                   actor_id=actor.id if actor else None, actor_email=actor.email if actor else None,
                                   token_last4=last4, authorized_at=authorized_at))


def disconnect(seller: Seller, api: str, *, actor: User | None) -> bool:
    """Erase the stored token (history stays); False when there was nothing to disconnect."""
    connection = seller.connection(api)
    if connection is None or not connection.connected:
        return False
    try:
        client_id, _ = clients.credentials(api)
        clients.token_cache().delete(cache_key(client_id, clients.decrypt_refresh_token(connection)))
    except (clients.NotConfigured, SecretUnreadable, RedisError):
        pass  # best effort: the cached access token expires within the hour anyway
    last4 = connection.token_last4
    connection.refresh_token_ciphertext = None
    for profile in connection.profiles:
        profile.managed = False
    _history(seller, api, EventKind.DISCONNECTED, method=None, actor=actor, last4=last4)
    audit.record("connection.disconnected", actor=actor, target_type="connection", target_id=f"{seller.id}/{api}",
                 seller_id=seller.id, api=api, token_last4=last4)
    return True


def token_status(connection: Connection | None) -> status.TokenStatus:
    return status.derive(connection, now(), int(settings_registry.get("token_expiry_warning_days")))


def check(connection: Connection) -> status.TokenStatus:
    """Exchange the token with Amazon now (bypassing the cache) and record the outcome."""
    with clients.http_client() as http:
        source = clients.token_source(connection, http)
        source.invalidate()
        with contextlib.suppress(AmazonError):  # either way, the observer recorded the outcome
            source.get()
    return token_status(connection)


def refresh_profiles(connection: Connection, *, manage_new: bool) -> list[AdsProfile]:
    """Fetch the advertiser's profiles from Amazon and upsert them; agency/DSP profiles are never managed, and
    one Amazon no longer lists becomes "no longer accessible" (kept with its history, unmanaged)."""
    with clients.http_client() as http:
        profiles: list[Profile] = clients.ads_client(connection, http).list_profiles()
    existing = {p.profile_id: p for p in connection.profiles}
    listed = {p.profile_id for p in profiles}
    for row in existing.values():
        row.accessible = row.profile_id in listed
        row.managed = row.managed and row.accessible
    for profile in profiles:
        row = existing.get(profile.profile_id)
        if row is None:
            row = AdsProfile(profile_id=profile.profile_id,
                             managed=manage_new and profile.account_type in MANAGEABLE_ACCOUNT_TYPES)
            connection.profiles.append(row)
        row.country_code = profile.country_code
        row.currency_code = profile.currency_code
        row.timezone = profile.timezone
        row.marketplace_id = profile.marketplace_id
        row.account_type = profile.account_type
        row.account_name = profile.account_name
        if not row.manageable:
            row.managed = False
    _merge_marketplaces(connection.seller, [p.marketplace_id for p in profiles if p.account_type != "agency"])
    return connection.profiles


def _merge_marketplaces(seller: Seller, marketplace_ids: list[str]) -> None:
    merged = sorted(set(seller.marketplaces or []) | {m for m in marketplace_ids if m})
    if merged != sorted(seller.marketplaces or []):
        seller.marketplaces = merged


def set_managed_profiles(connection: Connection, profile_ids: set[int], *, actor: User | None) -> None:
    before = sorted(p.profile_id for p in connection.profiles if p.managed)
    for profile in connection.profiles:
        profile.managed = profile.manageable and profile.profile_id in profile_ids
    after = sorted(p.profile_id for p in connection.profiles if p.managed)
    if before != after:
        audit.record("connection.profiles_changed", actor=actor, target_type="connection",
                     target_id=f"{connection.seller_id}/ads", seller_id=connection.seller_id,
                     old=[str(p) for p in before], new=[str(p) for p in after])


def rotate_key() -> int:
    """Re-encrypt every stored secret with the first key; all-or-nothing."""
    vault = clients.vault()
    rows = db.session.scalars(select(Connection).where(Connection.refresh_token_ciphertext.is_not(None))).all()
    rotated = [(row, vault.rotate(row.refresh_token_ciphertext)) for row in rows]  # raises before any write
    for row, ciphertext in rotated:
        row.refresh_token_ciphertext = ciphertext
    audit.record("tokens.key_rotated", count=len(rotated))
    db.session.commit()
    return len(rotated)

