"""Login throttling that protects an account without letting anyone lock its owner out.

Sources are limited (flask-limiter, on the login view): an address that keeps failing, and an address that keeps
failing for one email, get 429; a source with no failures is never refused. The account itself is only slowed:
once it collects SLOW_AFTER failures from anywhere within WINDOW_SECONDS, each further login attempt for it
waits a little longer (at most MAX_DELAY_SECONDS), which makes guessing from many addresses slow while its owner
still gets in. Admins see slowed accounts on the users page. Without Redis nothing is slowed (the limiter has
its own in-memory fallback), so logins never fail because Redis does. Callers pass the app's Redis connection
(`jobs.connection()`): security sits below the job layer.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

import redis

log = logging.getLogger("marketing.security")

WINDOW_SECONDS = 15 * 60
SLOW_AFTER = 10
MAX_DELAY_SECONDS = 3.0
_SLOWED = "login-slowed"  # sorted set: email -> time of its latest failure while slowed


@dataclass(frozen=True)
class SlowedAccount:
    email: str
    failures: int
    last_failure: dt.datetime


def _key(email: str) -> str:
    return "login-failures:" + email


def delay(connection: redis.Redis, email: str) -> float:
    """Seconds the next login attempt for `email` waits: 0 below SLOW_AFTER failures, then doubling."""
    try:
        failures = int(connection.get(_key(email)) or 0)
    except redis.RedisError as exc:
        log.warning("login throttle unavailable (%s): not slowing", type(exc).__name__)
        return 0.0
    if failures < SLOW_AFTER:
        return 0.0
    return min(MAX_DELAY_SECONDS, 0.25 * 2 ** (failures - SLOW_AFTER))


def slow_down(connection: redis.Redis, email: str) -> None:
    if seconds := delay(connection, email):
        time.sleep(seconds)


def failed(connection: redis.Redis, email: str) -> None:
    """Count a failed login for `email` (from any address); the count lapses WINDOW_SECONDS after the first."""
    try:
        pipe = connection.pipeline()
        pipe.set(_key(email), 0, ex=WINDOW_SECONDS, nx=True)  # INCR keeps this expiry
        pipe.incr(_key(email))
        _, failures = pipe.execute()
        if failures >= SLOW_AFTER:
            connection.zadd(_SLOWED, {email: time.time()})
    except redis.RedisError as exc:
        log.warning("login throttle unavailable (%s): failure not counted", type(exc).__name__)


def succeeded(connection: redis.Redis, email: str) -> None:
    """The owner got in: the account is not slowed any more."""
    try:
        connection.delete(_key(email))
        connection.zrem(_SLOWED, email)
    except redis.RedisError as exc:
        log.warning("login throttle unavailable (%s)", type(exc).__name__)


def slowed_accounts(connection: redis.Redis) -> list[SlowedAccount]:
    """Accounts slowed now (failures within the window), latest first; empty when Redis does not answer."""
    try:
        connection.zremrangebyscore(_SLOWED, "-inf", time.time() - WINDOW_SECONDS)
        rows = connection.zrevrange(_SLOWED, 0, 99, withscores=True)
        counts = connection.mget([_key(email.decode()) for email, _ in rows]) if rows else []
    except redis.RedisError as exc:
        log.warning("login throttle unavailable (%s)", type(exc).__name__)
        return []
    return [SlowedAccount(email.decode(), int(count or 0), dt.datetime.fromtimestamp(at, dt.UTC))
            for (email, at), count in zip(rows, counts, strict=True) if count]
