"""Amazon clients for a stored connection: credentials from config, the encrypted Redis token cache, and an
observer that records every outcome on the connection row.
"""

from __future__ import annotations

import logging

import httpx
from flask import current_app
from redis import Redis

from marketing import jobs
from marketing.amazon.ads import AdsClient
from marketing.amazon.auth import AccessTokenSource
from marketing.amazon.errors import AmazonError, AmazonUnavailable, InvalidClient, InvalidGrant, Throttled
from marketing.amazon.hosts import Hosts, Region
from marketing.amazon.sp import SpClient
from marketing.amazon.transport import Transport
from marketing.clock import now
from marketing.connections import alerts, notices, status
from marketing.extensions import db
from marketing.models import Connection, ConnectionEvent
from marketing.models.connections import EventKind
from marketing.security.crypto import SecretUnreadable, Vault

log = logging.getLogger("marketing.connections")

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class NotConfigured(Exception):
    """Our Amazon app credentials are missing from the deployment's environment."""


def vault() -> Vault:
    app = current_app._get_current_object()
    if "marketing.vault" not in app.extensions:
        app.extensions["marketing.vault"] = Vault(tuple(app.config["TOKEN_ENCRYPTION_KEYS"]))
    return app.extensions["marketing.vault"]


def hosts() -> Hosts:
    return Hosts(current_app.config.get("AMAZON_BASE_URL"))


def credentials(api: str) -> tuple[str, str]:
    """(client id, client secret) of our Login-with-Amazon app for `api`."""
    prefix = "AMAZON_ADS" if api == "ads" else "AMAZON_SP"
    client_id = current_app.config.get(f"{prefix}_CLIENT_ID")
    secret = current_app.config.get(f"{prefix}_CLIENT_SECRET")
    if not client_id or not secret:
        raise NotConfigured(f"{prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET must be set to connect to Amazon")
    return client_id, secret


def http_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


class RedisTokenCache:
    """Access tokens shared by every worker, encrypted like refresh tokens, expiring before Amazon's expiry."""

    def __init__(self, redis: Redis, vault: Vault):
        self._redis, self._vault = redis, vault

    def get(self, key: str) -> str | None:
        value = self._redis.get(key)
        if value is None:
            return None
        try:
            return self._vault.decrypt(value)
        except SecretUnreadable:  # encrypted under a key since removed: fetch a new one
            self._redis.delete(key)
            return None

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._redis.set(key, self._vault.encrypt(value), ex=ttl_seconds)

    def delete(self, key: str) -> None:
        self._redis.delete(key)


def token_cache() -> RedisTokenCache:
    return RedisTokenCache(jobs.connection(), vault())


class ConnectionObserver:
    """Records how Amazon answered on the connection (the caller commits)."""

    def __init__(self, connection: Connection, refresh_token: str):
        self.connection, self._refresh_token = connection, refresh_token

    def on_success(self) -> None:
        record_success(self.connection)

    def on_exchange(self) -> None:
        record_exchange(self.connection, self._refresh_token)

    def on_error(self, exc: AmazonError) -> None:
        record_error(self.connection, exc)


class ConnectionTokenSource(AccessTokenSource):
    """Also tells the observer when the refresh token itself was exchanged: only that proves the token works,
    since a cached access token can outlive a revoked refresh token."""

    _observer: ConnectionObserver

    def get(self) -> str:
        cached = self._cache.get(self.cache_key)
        if cached:
            return cached
        access_token = super().get()
        try:
            self._observer.on_exchange()
        except Exception:  # as in report(): the observer never fails the Amazon call
            log.exception("Amazon auth observer failed")
        return access_token


def record_success(connection: Connection) -> None:
    connection.last_success_at = now()
    connection.error_transient = False
    alerts.clear_alert(f"invalid-client-{connection.api}")


def record_exchange(connection: Connection, refresh_token: str) -> None:
    """Amazon exchanged `refresh_token` just now. If that is still the stored token, an earlier invalid_grant
    was spurious: the revocation is lifted, so syncs run again and a later revocation is notified afresh."""
    record_success(connection)
    if connection.revoked_at is None or not connection.connected or decrypt_refresh_token(connection) != refresh_token:
        return
    was_revoked, revoked_at = status.revoked(connection), connection.revoked_at
    connection.revoked_at = None
    if was_revoked:
        record_event(connection, EventKind.RESTORED)
        notices.notify_restored(connection, revoked_at)


def record_error(connection: Connection, exc: AmazonError) -> None:
    """Revocation changes the status; transient failures only degrade it; our own bad credentials are an
    app-level alert, not the seller's problem."""
    if isinstance(exc, InvalidClient):
        alerts.raise_invalid_client(connection.api)
        return
    connection.last_error_code = exc.code or type(exc).__name__
    connection.last_error_message = str(exc)[:1000]
    connection.last_error_at = now()
    connection.error_transient = isinstance(exc, AmazonUnavailable | Throttled)
    if isinstance(exc, InvalidGrant) and connection.revoked_at is None:
        connection.revoked_at = now()
        if status.revoked(connection):  # a refusal after expiry is recorded by the check as `expired`
            record_event(connection, EventKind.REVOKED)


def record_event(connection: Connection, kind: EventKind) -> None:
    """A history row for what Amazon told us, with no actor (the history page says `system`)."""
    db.session.add(ConnectionEvent(seller_id=connection.seller_id, api=connection.api, kind=kind,
                                   token_last4=connection.token_last4, authorized_at=connection.authorized_at))


def decrypt_refresh_token(connection: Connection) -> str:
    if connection.refresh_token_ciphertext is None:
        raise ValueError(f"the {connection.label} connection has no token")
    return vault().decrypt(connection.refresh_token_ciphertext)


def token_source(connection: Connection, transport: Transport | httpx.Client) -> AccessTokenSource:
    client_id, secret = credentials(connection.api)
    refresh_token = decrypt_refresh_token(connection)
    return ConnectionTokenSource(
        transport, hosts(), Region(connection.seller.region), client_id, secret,
        refresh_token, token_cache(), observer=ConnectionObserver(connection, refresh_token),
    )


def ads_client(connection: Connection, http: httpx.Client, **options) -> AdsClient:
    transport = Transport(http)
    client_id, _ = credentials("ads")
    return AdsClient(transport, hosts(), Region(connection.seller.region), client_id,
                     token_source(connection, transport), **options)


def sp_client(connection: Connection, http: httpx.Client) -> SpClient:
    transport = Transport(http)
    return SpClient(transport, hosts(), Region(connection.seller.region), token_source(connection, transport))
