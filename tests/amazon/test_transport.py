from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from marketing.amazon import (
    AmazonRequestError,
    AmazonUnavailable,
    RateLimiter,
    RetryPolicy,
    Throttled,
    Transport,
)
from marketing.amazon.transport import parse_error, parse_retry_after, redact_url

from .conftest import json_response

URL = "https://advertising-api.amazon.com/v2/profiles"
PATH = "/v2/profiles"
OK = json_response(200, [])


def get(transport, token_source=None, **kw):
    return transport.request("GET", URL, token=token_source, **kw)


def test_429_honours_retry_after_seconds(fake, transport, sleeps):
    fake.on("GET", PATH, json_response(429, {"code": "THROTTLED", "message": "slow"}, {"Retry-After": "2"}), OK)
    assert get(transport).status_code == 200
    assert sleeps == [2.0]


def test_429_honours_retry_after_http_date(fake, http, sleeps):
    when = datetime.now(UTC) + timedelta(seconds=3)
    fake.on("GET", PATH, json_response(429, {}, {"Retry-After": format_datetime(when, usegmt=True)}), OK)
    transport = Transport(http, sleep=sleeps.append, rand=lambda: 1.0)
    get(transport)
    assert len(sleeps) == 1 and 1.5 < sleeps[0] <= 3.0


def test_retry_after_parsing():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", lambda: now) == 7.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", lambda: now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", lambda: now) == 0.0
    assert parse_retry_after("soon", lambda: now) is None
    assert parse_retry_after(None) is None


def test_429_without_retry_after_backs_off_exponentially(fake, transport, sleeps):
    throttled = json_response(429, {"code": "THROTTLED", "message": "slow"})
    fake.on("GET", PATH, throttled, throttled, throttled, OK)
    assert get(transport).status_code == 200
    assert sleeps == [0.5, 1.0, 2.0]


def test_jitter_stays_within_half_to_full_delay(fake, http, sleeps):
    throttled = json_response(429, {})
    fake.on("GET", PATH, throttled, throttled, OK)
    transport = Transport(http, sleep=sleeps.append, rand=lambda: 0.0)
    get(transport)
    assert sleeps == [0.25, 0.5]


def test_5xx_is_retried_then_succeeds(fake, transport, sleeps):
    fake.on("GET", PATH, json_response(500, {"code": "INTERNAL_ERROR", "message": "x"}), httpx.Response(502), OK)
    assert get(transport).status_code == 200
    assert sleeps == [0.5, 1.0] and len(fake.calls("GET", PATH)) == 3


def test_exhausted_retries_raise_with_retry_after(fake, transport, sleeps):
    fake.on("GET", PATH, json_response(503, {"code": "INTERNAL_ERROR", "message": "down"}))
    with pytest.raises(AmazonUnavailable) as caught:
        get(transport)
    assert len(fake.calls("GET", PATH)) == 4
    assert sleeps == [0.5, 1.0, 2.0]
    assert caught.value.retry_after == 4.0 and caught.value.status == 503


def test_wait_budget_caps_sleeping(fake, http, sleeps):
    fake.on("GET", PATH, json_response(429, {"code": "THROTTLED", "message": "slow"}))
    transport = Transport(http, policy=RetryPolicy(max_attempts=10, max_total_wait=2.0), sleep=sleeps.append,
                          rand=lambda: 1.0)  # fmt: skip
    with pytest.raises(Throttled) as caught:
        get(transport)
    assert sleeps == [0.5, 1.0]  # the next 2 s wait would exceed the 2 s budget
    assert caught.value.retry_after == 2.0


def test_long_retry_after_raises_at_once_for_the_job_to_reschedule(fake, transport, sleeps):
    fake.on("GET", PATH, json_response(429, {"code": "THROTTLED", "message": "slow"}, {"Retry-After": "60"}))
    with pytest.raises(Throttled) as caught:
        get(transport)
    assert sleeps == [] and len(fake.calls("GET", PATH)) == 1
    assert caught.value.retry_after == 60.0 and caught.value.code == "THROTTLED"


def test_other_4xx_is_not_retried(fake, transport, sleeps):
    fake.on("GET", PATH, json_response(400, {"code": "INVALID_ARGUMENT", "message": "bad filter"}))
    with pytest.raises(AmazonRequestError) as caught:
        get(transport)
    assert len(fake.calls("GET", PATH)) == 1 and sleeps == []
    assert (caught.value.code, caught.value.message, caught.value.status) == ("INVALID_ARGUMENT", "bad filter", 400)


def test_network_errors_retry_idempotent_requests_only(fake, transport, sleeps):
    fake.on("GET", PATH, httpx.ReadError("reset"), OK)
    assert get(transport).status_code == 200
    fake.on("POST", PATH, httpx.ReadTimeout("slow"), OK)
    with pytest.raises(AmazonUnavailable):
        transport.request("POST", URL, json={})
    assert len(fake.calls("POST", PATH)) == 1
    assert transport.request("POST", URL, json={}, idempotent=True).status_code == 200


def test_401_refreshes_the_token_once_and_succeeds(fake, transport, token_source, sleeps):
    seen = []

    def handler(request):
        seen.append(request.headers["Authorization"])
        if len(seen) == 1:
            return json_response(401, {"code": "UNAUTHORIZED", "message": "expired"})
        return OK

    fake.on("GET", PATH, handler)
    assert get(transport, token_source).status_code == 200
    assert seen == ["Bearer Atza|access-1", "Bearer Atza|access-2"]
    assert fake.tokens_issued == 2 and sleeps == []


def test_second_401_is_an_error_not_a_loop(fake, transport, token_source, sleeps):
    fake.on("GET", PATH, json_response(401, {"code": "UNAUTHORIZED", "message": "Not authorized to access scope"}))
    with pytest.raises(AmazonRequestError) as caught:
        get(transport, token_source)
    assert caught.value.status == 401 and "scope" in caught.value.message
    assert len(fake.calls("GET", PATH)) == 2 and fake.tokens_issued == 2 and sleeps == []


def test_sp_api_403_unauthorized_counts_as_an_expired_token(fake, transport, token_source):
    body = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                        "details": "The access token you provided has expired."}]}  # fmt: skip
    fake.on("GET", PATH, json_response(403, body), OK)
    assert transport.request("GET", URL, token=token_source, bearer=False).status_code == 200
    assert [r.headers["x-amz-access-token"] for r in fake.calls("GET", PATH)] == ["Atza|access-1", "Atza|access-2"]
    assert "Authorization" not in fake.calls("GET", PATH)[0].headers


def test_observer_hears_call_outcomes(fake, transport, hosts):
    from marketing.amazon import AccessTokenSource, MemoryTokenCache, Region

    from .conftest import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

    events = []

    class Observer:
        def on_success(self):
            events.append("ok")

        def on_error(self, exc):
            events.append(type(exc).__name__)

    source = AccessTokenSource(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN,
                               MemoryTokenCache(), observer=Observer())  # fmt: skip
    fake.on("GET", PATH, OK)
    get(transport, source)
    fake.on("GET", PATH, json_response(403, {"code": "ACCESS_DENIED", "message": "no"}))
    with pytest.raises(AmazonRequestError):
        get(transport, source)
    assert events == ["ok", "AmazonRequestError"]


@pytest.mark.parametrize(
    ("body", "code", "message", "details"),
    [
        ({"errors": [{"code": "InvalidInput", "message": "Bad", "details": "d"}]}, "InvalidInput", "Bad", "d"),
        ({"code": "INVALID_ARGUMENT", "message": "m"}, "INVALID_ARGUMENT", "m", None),
        ({"code": "422", "detail": "bad columns"}, "422", "bad columns", None),
        ({"code": "NOT_FOUND", "details": "no profile"}, "NOT_FOUND", "no profile", None),
        ({"error": "invalid_request", "error_description": "missing"}, "invalid_request", "missing", None),
    ],
)
def test_error_shapes_are_normalised(body, code, message, details):
    response = json_response(400, body, {"x-amzn-RequestId": "req-123"})
    error = parse_error(response)
    assert (error.code, error.message, error.details, error.request_id) == (code, message, details, "req-123")


def test_sp_v3_item_errors_are_summarised():
    body = {"code": "INVALID_ARGUMENT", "message": "Invalid", "errors": [
        {"errorType": "biddingError", "errorValue": {"biddingError": {"reason": "BID_TOO_HIGH", "message": "max 1000"}}}
    ]}  # fmt: skip
    error = parse_error(json_response(400, body))
    assert error.details == "BID_TOO_HIGH: max 1000"


def test_unparseable_error_body_still_gives_a_useful_error():
    error = parse_error(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert isinstance(error, AmazonUnavailable) and "502" in error.message and error.code is None


def test_rate_limiter_paces_per_key(fake, http, sleeps):
    clock = [0.0]
    limiter = RateLimiter(rate=2.0, burst=2, clock=lambda: clock[0])
    transport = Transport(http, limiter=limiter, sleep=sleeps.append)
    fake.on("GET", PATH, OK)
    for _ in range(3):
        get(transport, rate_key="profile-1")
    get(transport, rate_key="profile-2")
    assert sleeps == [0.5]  # third call on profile-1 waits for a token; profile-2 has its own bucket
    clock[0] = 10.0
    get(transport, rate_key="profile-1")
    assert sleeps == [0.5]


def test_rate_limiter_beyond_budget_raises_throttled(fake, http, sleeps):
    limiter = RateLimiter(rate=0.01, burst=1, clock=lambda: 0.0)
    transport = Transport(http, limiter=limiter, sleep=sleeps.append)
    fake.on("GET", PATH, OK)
    get(transport, rate_key="k")
    with pytest.raises(Throttled) as caught:
        get(transport, rate_key="k")
    assert caught.value.retry_after == pytest.approx(100.0) and sleeps == []
    assert len(fake.calls("GET", PATH)) == 1


def test_redact_url():
    url = (
        "https://s3.amazonaws.com/r.json.gz?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2Fx"
        "&X-Amz-Signature=abc123&X-Amz-Security-Token=tok&keep=1"
    )
    redacted = redact_url(url)
    assert "abc123" not in redacted and "AKIA" not in redacted and "tok&" not in redacted
    assert "keep=1" in redacted and "X-Amz-Algorithm=AWS4" in redacted
    assert redact_url("https://x/cb?code=SECRET&state=s") == "https://x/cb?code=[redacted]&state=s"
    assert redact_url("https://x/plain") == "https://x/plain"
