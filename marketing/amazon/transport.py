"""The single request path every Amazon call goes through.

Why one function: retry, throttling, token refresh and log redaction must behave
the same for Login with Amazon, the Ads API, the SP-API and report downloads.
Waiting is bounded (``RetryPolicy.max_total_wait``): a call that would need to
wait longer raises ``Throttled``/``AmazonUnavailable`` with ``retry_after`` so an
RQ job can reschedule itself instead of holding a worker asleep.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson
from redis.exceptions import RedisError

from .errors import (
    AmazonError,
    AmazonRequestError,
    AmazonUnavailable,
    MalformedResponse,
    Throttled,
    scrub,
)

log = logging.getLogger("marketing.amazon")

# Query parameters and headers whose values must never reach a log line.
_SECRET_PARAMS = frozenset(
    {
        "code",
        "spapi_oauth_code",
        "refresh_token",
        "access_token",
        "client_secret",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "signature",
    }
)
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Raised before a single byte of the request left: always safe to retry, even a POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRYABLE_NETWORK = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def redact_url(url: str | httpx.URL) -> str:
    """The URL with secret query values (codes, tokens, S3 signatures) replaced by ``[redacted]``."""
    parts = urlsplit(str(url))
    if not parts.query:
        return str(url)
    query = [
        (k, "[redacted]" if k.lower() in _SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="[]")))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    max_total_wait: float = 5.0  # seconds of sleeping one call may do, summed over retries
    base_delay: float = 0.5
    max_delay: float = 4.0

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        """Exponential delay after the ``attempt``-th failure, with jitter in [50 %, 100 %]."""
        nominal = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return nominal * (0.5 + 0.5 * rand())


@dataclass(frozen=True)
class Limit:
    """A token bucket: ``rate`` tokens added per second, at most ``burst`` held (Amazon's usage plans)."""

    rate: float
    burst: int

    def __post_init__(self):
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")


LOCAL_LIMIT_MESSAGE = "Local rate limit reached for this account"


class RateLimiter:
    """Token bucket per caller-chosen key (e.g. a profile id), shared across the threads of one process.

    Amazon's limits are per app + seller/profile; pacing ourselves keeps 429s rare. ``reserve`` takes a token
    and says how long to wait for it, or — past ``max_wait`` — takes nothing and raises `Throttled` with
    ``retry_after``: with ``max_wait=0`` a caller learns "wait N seconds" without sleeping. ``hold`` empties a
    bucket for as long as Amazon asked (a 429), so every caller of the key backs off, not only the one that
    was refused. `RedisRateLimiter` is the same across processes.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.limit = Limit(rate, burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, max_wait: float, limit: Limit | None = None) -> float:
        """Take one token of ``key``'s bucket (``limit``, else the limiter's); return how long to wait for it,
        or raise Throttled if over ``max_wait``."""
        limit = limit or self.limit
        rate, burst = limit.rate, limit.burst
        with self._lock:
            now = self._clock()
            level, last = self._buckets.get(key, (float(burst), now))
            level = min(float(burst), level + (now - last) * rate)
            wait = 0.0 if level >= 1 else (1 - level) / rate
            if wait > max_wait:
                self._buckets[key] = (level, now)
                raise Throttled(LOCAL_LIMIT_MESSAGE, retry_after=wait)
            self._buckets[key] = (level - 1, now)
            return wait

    def hold(self, key: str, seconds: float, limit: Limit | None = None) -> None:
        """Amazon said 429: no token for ``key`` for ``seconds`` (whoever asks next waits too)."""
        limit = limit or self.limit
        with self._lock:
            now = self._clock()
            level, last = self._buckets.get(key, (float(limit.burst), now))
            level = min(float(limit.burst), level + (now - last) * limit.rate)
            self._buckets[key] = (min(level, 1 - seconds * limit.rate), now)


# KEYS[1]: the bucket (a hash: level, at). ARGV: rate, burst, max_wait, now ("" = the Redis server's clock, one
# clock for every process), hold (> 0: take nothing, leave no token for that many seconds). Returns {taken (0/1),
# wait as text} (Lua numbers would come back truncated).
_BUCKET_SCRIPT = """
local rate, burst, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now, hold = tonumber(ARGV[4]), tonumber(ARGV[5])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level, at = tonumber(state[1]), tonumber(state[2])
if level == nil or at == nil then level, at = burst, now end
if now > at then
  level = math.min(burst, level + (now - at) * rate)
  at = now
end
local wait, taken = 0, 1
if hold > 0 then
  level, taken = math.min(level, 1 - hold * rate), 0
else
  if level < 1 then wait = (1 - level) / rate end
  if wait > max_wait then return {0, tostring(wait)} end
  level = level - 1
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - level) / rate * 1000) + 1000)
return {taken, tostring(wait)}
"""


class RedisRateLimiter:
    """`RateLimiter` with its buckets in Redis, shared by every worker process (one atomic Lua script per call).

    Amazon counts a limit per app and seller/profile, not per process: ten workers pacing themselves separately
    would send ten times the rate. A bucket idle long enough to be full again expires. If Redis does not answer,
    calls go unpaced (logged): Amazon's own 429s still slow them, and a Redis restart stops no sync.
    """

    def __init__(
        self,
        redis: Any,
        limit: Limit,
        *,
        prefix: str = "marketing:amazon:rate:",
        clock: Callable[[], float] | None = None,
    ):
        self.limit = limit
        self._prefix = prefix
        self._clock = clock  # None: the Redis server's clock
        self._script = redis.register_script(_BUCKET_SCRIPT)

    def reserve(self, key: str, max_wait: float, limit: Limit | None = None) -> float:
        """As `RateLimiter.reserve`."""
        taken, wait = self._run(key, limit, max_wait, 0.0)
        if not taken:
            raise Throttled(LOCAL_LIMIT_MESSAGE, retry_after=wait)
        return wait

    def hold(self, key: str, seconds: float, limit: Limit | None = None) -> None:
        """As `RateLimiter.hold`: every process waits out Amazon's 429."""
        self._run(key, limit, 0.0, seconds)

    def _run(self, key: str, limit: Limit | None, max_wait: float, hold: float) -> tuple[bool, float]:
        limit = limit or self.limit
        now = "" if self._clock is None else repr(self._clock())
        args = [repr(limit.rate), limit.burst, repr(max(0.0, max_wait)), now, repr(hold)]
        try:
            taken, wait = self._script(keys=[self._prefix + key], args=args)
        except RedisError as exc:
            log.warning("rate limiter unavailable, calling Amazon unpaced: %s", type(exc).__name__)
            return True, 0.0
        return bool(int(taken)), float(wait)


class TokenProvider(Protocol):
    """What the transport needs from an access-token source (see ``auth.AccessTokenSource``)."""

    def get(self) -> str: ...

    def invalidate(self) -> None: ...

    def report(self, error: AmazonError | None) -> None: ...


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """``Retry-After`` as seconds; accepts delta-seconds or an HTTP date. None when absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def json_body(response: httpx.Response) -> Any:
    """Parse a JSON body whatever Content-Type Amazon labelled it with (vendor types, or none)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise MalformedResponse(
            f"Amazon returned a body that is not JSON (HTTP {response.status_code})",
            status=response.status_code,
            request_id=request_id_of(response),
        ) from exc


def request_id_of(response: httpx.Response) -> str | None:
    headers = response.headers
    return headers.get("x-amzn-RequestId") or headers.get("x-amz-request-id")


def _summarise_item_errors(errors: list[Any]) -> str | None:
    """One line from SP v3's ``errors: [{errorType, errorValue: {<selector>: {reason, message}}}]``."""
    texts = []
    for err in errors[:5]:
        if not isinstance(err, dict):
            continue
        if "message" in err:  # SP-API ErrorList item
            texts.append(" ".join(str(err[k]) for k in ("code", "message", "details") if err.get(k)))
            continue
        for selector in (err.get("errorValue") or {}).values():
            if isinstance(selector, dict):
                reason = selector.get("reason", err.get("errorType", ""))
                texts.append(f"{reason}: {selector.get('message', '')}")
    return "; ".join(t for t in texts if t) or None


def parse_error(response: httpx.Response) -> AmazonError:
    """Normalise Amazon's error bodies into one exception.

    Shapes handled: SP-API ``{errors:[{code,message,details}]}``; SP v3 ``{code, message, errors?}``;
    reporting v3 ``{code, detail}``; profiles/v2 ``{code, details}``; LwA ``{error, error_description}``.
    """
    status = response.status_code
    code = message = details = None
    try:
        body = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        if "error" in body and isinstance(body["error"], str):
            code, message = body["error"], body.get("error_description")
        elif body.get("code") is not None:
            code = str(body["code"])
            message = body.get("message") or body.get("detail") or body.get("details")
            if isinstance(body.get("errors"), list):
                details = _summarise_item_errors(body["errors"])
            elif body.get("message") and body.get("details"):
                details = str(body["details"])
        elif isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            if isinstance(first, dict):
                code, message, details = first.get("code"), first.get("message"), first.get("details")
                if len(body["errors"]) > 1:
                    details = _summarise_item_errors(body["errors"])
    if not message:
        message = f"Amazon answered HTTP {status} {response.reason_phrase}".rstrip()
    kwargs = dict(
        code=code,
        status=status,
        details=details,
        request_id=request_id_of(response),
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )
    if status == 429:
        return Throttled(str(message), **kwargs)
    if status >= 500:
        return AmazonUnavailable(str(message), **kwargs)
    return AmazonRequestError(str(message), **kwargs)


def _is_expired_token(error: AmazonError) -> bool:
    # Ads API: 401. SP-API: 403 with code "Unauthorized" ("access token … expired/invalid").
    return error.status == 401 or (error.status == 403 and error.code == "Unauthorized")


class Transport:
    """Sends requests through an ``httpx.Client`` with Amazon-aware retries.

    ``sleep`` and ``rand`` are injectable so tests can assert the waits.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | RedisRateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ):
        self.client = client
        self.policy = policy or RetryPolicy()
        self.limiter = limiter
        self.sleep = sleep
        self.rand = rand

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send and read a request; see :meth:`_send` for the keyword arguments."""
        return self._send(method, url, stream=False, **kwargs)

    @contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """Like :meth:`request` but the body is left unread for streaming; closed on exit."""
        response = self._send(method, url, stream=True, **kwargs)
        try:
            yield response
        finally:
            response.close()

    def _send(
        self,
        method: str,
        url: str,
        *,
        stream: bool,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        token: TokenProvider | None = None,
        bearer: bool = True,
        rate_key: str | None = None,
        rate_limit: Limit | None = None,
        idempotent: bool | None = None,
        error_parser: Callable[[httpx.Response], AmazonError] = parse_error,
        strip_auth: bool = False,
    ) -> httpx.Response:
        """Keyword arguments:

        token / bearer: attach an access token as ``Authorization: Bearer`` (Ads, LwA) or as
            ``x-amz-access-token`` (SP-API); a rejected token is invalidated and the request retried
            exactly once with a fresh one.
        rate_key / rate_limit: pace through ``self.limiter`` under this key, with this limit (default: the
            limiter's own).
        idempotent: whether a request that may have reached Amazon can be resent after a network
            error; defaults by method (GET/PUT/DELETE yes, POST no).
        error_parser: maps a non-2xx response to an exception (LwA has its own).
        strip_auth: send no credentials at all (pre-signed S3 URLs reject them).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        content = orjson.dumps(json) if json is not None else None
        waited = 0.0
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None and rate_key is not None:
                pause = self.limiter.reserve(rate_key, self.policy.max_total_wait - waited, rate_limit)
                if pause:
                    self.sleep(pause)
                    waited += pause
            request = self.client.build_request(method, url, headers=headers, params=params, content=content, data=data)
            if strip_auth:
                for name in ("Authorization", "x-amz-access-token", "Cookie"):
                    request.headers.pop(name, None)
            elif token is not None:
                value = token.get()
                if bearer:
                    request.headers["Authorization"] = f"Bearer {value}"
                else:
                    request.headers["x-amz-access-token"] = value
            started = time.monotonic()
            try:
                response = self.client.send(
                    request, stream=stream, auth=None if strip_auth else httpx.USE_CLIENT_DEFAULT
                )
            except _RETRYABLE_NETWORK as exc:
                error: AmazonError = AmazonUnavailable(
                    f"Network error talking to Amazon: {type(exc).__name__}: {scrub(str(exc))}"
                )
                retryable = idempotent or isinstance(exc, _NOT_SENT)
            else:
                log.debug(
                    "%s %s -> %s in %.2fs",
                    method,
                    redact_url(request.url),
                    response.status_code,
                    time.monotonic() - started,
                )
                if response.is_success:
                    if token is not None:
                        token.report(None)
                    return response
                if stream:
                    response.read()
                    response.close()
                error = error_parser(response)
                if token is not None and not refreshed and _is_expired_token(error):
                    log.info("%s %s: access token rejected, refreshing once", method, redact_url(url))
                    token.invalidate()
                    refreshed = True
                    attempt -= 1  # a refresh is not a retry of a failure
                    continue
                retryable = isinstance(error, Throttled | AmazonUnavailable)
            delay = error.retry_after
            if retryable and delay is None:
                delay = self.policy.backoff(attempt, self.rand)
            if isinstance(error, Throttled) and self.limiter is not None and rate_key is not None:
                self.limiter.hold(rate_key, delay, rate_limit)  # Amazon is busy for every caller of this key
            if not retryable or attempt >= self.policy.max_attempts or waited + delay > self.policy.max_total_wait:
                error.retry_after = delay
                if token is not None:
                    token.report(error)
                raise error
            log.warning(
                "%s %s: %s; retrying in %.2fs (attempt %d of %d)",
                method,
                redact_url(url),
                error,
                delay,
                attempt + 1,
                self.policy.max_attempts,
            )
            self.sleep(delay)
            waited += delay


def as_transport(client: httpx.Client | Transport) -> Transport:
    """Accept either a ready ``Transport`` (custom retry policy, limiter, test sleep) or a bare client."""
    return client if isinstance(client, Transport) else Transport(client)
