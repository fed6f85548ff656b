"""Access tokens for one connection, cached so each worker doesn't refresh on every call.

The cache is a tiny protocol so the product can back it with Redis (and encrypt the
values) while tests use :class:`MemoryTokenCache`. Keys are a SHA-256 of client id and
refresh token: they identify the connection without ever containing the token.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

import httpx

from .errors import AmazonError
from .hosts import Hosts, Region
from .lwa import refresh_access_token
from .transport import Transport

log = logging.getLogger("marketing.amazon")

# Stop using a token this long before Amazon's expiry, so a call never starts with a dying token.
EXPIRY_MARGIN_SECONDS = 300


class TokenCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    def delete(self, key: str) -> None: ...


class AuthObserver(Protocol):
    """Told how calls made with a connection's token went (last used / last error / status)."""

    def on_success(self) -> None: ...

    def on_error(self, exc: AmazonError) -> None: ...


class MemoryTokenCache:
    """In-process :class:`TokenCache` for tests and single-process use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._items: dict[str, tuple[str, float]] = {}

    def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None or item[1] <= self._clock():
            self._items.pop(key, None)
            return None
        return item[0]

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._items[key] = (value, self._clock() + ttl_seconds)

    def delete(self, key: str) -> None:
        self._items.pop(key, None)


def cache_key(client_id: str, refresh_token: str) -> str:
    digest = hashlib.sha256(f"{client_id}\n{refresh_token}".encode()).hexdigest()
    return f"amazon:lwa:{digest}"


class AccessTokenSource:
    """Hands out a valid access token for one refresh token, refreshing through LwA when needed."""

    def __init__(
        self,
        http_client: httpx.Client | Transport,
        hosts: Hosts,
        region: Region,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        cache: TokenCache,
        *,
        observer: AuthObserver | None = None,
        expiry_margin: int = EXPIRY_MARGIN_SECONDS,
    ):
        self._http = http_client
        self._hosts = hosts
        self._region = Region(region)
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._cache = cache
        self._observer = observer
        self._margin = expiry_margin
        self.cache_key = cache_key(client_id, refresh_token)

    def __repr__(self) -> str:
        return f"<AccessTokenSource region={self._region} key={self.cache_key[-12:]}>"

    def get(self) -> str:
        cached = self._cache.get(self.cache_key)
        if cached:
            return cached
        try:
            grant = refresh_access_token(
                self._http,
                self._hosts,
                self._region,
                self._client_id,
                self._client_secret,
                self._refresh_token,
            )
        except AmazonError as exc:
            self.report(exc)
            raise
        ttl = grant.expires_in - self._margin
        if ttl > 0:
            self._cache.set(self.cache_key, grant.access_token, ttl)
        return grant.access_token

    def invalidate(self) -> None:
        """Forget the cached token (Amazon rejected it before its time)."""
        self._cache.delete(self.cache_key)

    def report(self, error: AmazonError | None) -> None:
        """Pass a call's outcome to the observer; an observer failure never fails the Amazon call."""
        if self._observer is None:
            return
        try:
            if error is None:
                self._observer.on_success()
            else:
                self._observer.on_error(error)
        except Exception:
            log.exception("Amazon auth observer failed")
