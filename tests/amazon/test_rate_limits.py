"""Rate limits in Redis, shared by every worker process: Ads per client id + profile, SP-API per application +
selling partner + region and operation (SP_API.md §3.3). Real Redis; the processes are real forks."""

from __future__ import annotations

import multiprocessing

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from marketing.amazon import Hosts, Region, SpClient, Throttled, Transport
from marketing.amazon.ads import AdsClient
from marketing.amazon.sp import RATE_LIMITS
from marketing.amazon.transport import Limit, RateLimiter, RedisRateLimiter, RetryPolicy

from .conftest import CLIENT_ID, json_response

NOW = 1_000_000.0  # one fixed clock for every process: waits are exact


class Token:
    def get(self):
        return "Atza|token"

    def invalidate(self):
        pass

    def report(self, error):
        pass


def _take(url: str, key: str, limit: Limit, max_wait: float, times: int, out) -> None:
    limiter = RedisRateLimiter(redis.Redis.from_url(url), limit, clock=lambda: NOW)
    waits = []
    for _ in range(times):
        try:
            waits.append(limiter.reserve(key, max_wait))
        except Throttled as exc:
            waits.append(-exc.retry_after)  # refused: how long to come back after
    out.put(waits)


def in_two_processes(url: str, key: str, limit: Limit, max_wait: float, times: int) -> list[float]:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=_take, args=(url, key, limit, max_wait, times, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    waits = out.get(timeout=30) + out.get(timeout=30)
    for worker in workers:
        worker.join(timeout=30)
    return sorted(waits)


@pytest.fixture
def url(redis_url):
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("marketing:amazon:rate:*"):
        client.delete(key)
    return redis_url


def test_two_processes_share_one_bucket(url):
    # Burst 3, a token a minute: six calls from two processes get three tokens between them, in all.
    waits = in_two_processes(url, "ads:client:1", Limit(1 / 60, 3), 0.0, 3)
    assert waits[3:] == [0.0, 0.0, 0.0]
    assert waits[:3] == [pytest.approx(-60.0)] * 3  # the others learn "in 60 s", without sleeping


def test_reservations_queue_across_processes(url):
    # Burst 1, ten a second, willing to wait: the four calls are spaced 0.1 s apart whichever process makes them.
    assert in_two_processes(url, "sp:app:seller:NA:getReport", Limit(10.0, 1), 5.0, 2) == pytest.approx(
        [0.0, 0.1, 0.2, 0.3]
    )


def test_a_refused_reservation_takes_nothing_and_the_bucket_refills(url):
    clock = [NOW]
    limiter = RedisRateLimiter(redis.Redis.from_url(url), Limit(2.0, 2), clock=lambda: clock[0])
    assert [limiter.reserve("k", 0), limiter.reserve("k", 0)] == [0.0, 0.0]
    for _ in range(3):
        with pytest.raises(Throttled) as caught:
            limiter.reserve("k", 0.1)
        assert caught.value.retry_after == pytest.approx(0.5)  # unchanged: refusals took no token
    assert limiter.reserve("k", 0.5) == pytest.approx(0.5)  # within max_wait: taken, wait for it
    clock[0] += 10
    assert limiter.reserve("k", 0) == 0.0  # refilled (to the burst, no further)
    assert limiter.reserve("k", 0) == 0.0
    with pytest.raises(Throttled):
        limiter.reserve("k", 0)
    assert limiter.reserve("other", 0) == 0.0  # another key, another bucket


def test_buckets_expire_once_full_again(url):
    client = redis.Redis.from_url(url)
    RedisRateLimiter(client, Limit(1.0, 5)).reserve("k", 0)  # the Redis server's clock
    ttl = client.pttl("marketing:amazon:rate:k")
    assert 1000 < ttl <= 2000  # refills in 1 s, + 1 s of slack


def test_without_redis_calls_go_unpaced():
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    limiter = RedisRateLimiter(gone, Limit(0.01, 1))
    assert [limiter.reserve("k", 0), limiter.reserve("k", 0)] == [0.0, 0.0]


def test_sp_operations_have_amazons_limits_per_selling_partner(url, fake, http, sleeps):
    fake.on("POST", "/reports/2021-06-30/reports", json_response(202, {"reportId": "1"}))
    fake.on("GET", "/reports/2021-06-30/reports/1", json_response(200, {"reportId": "1", "processingStatus": "DONE"}))
    limiter = RedisRateLimiter(redis.Redis.from_url(url), Limit(5.0, 10), clock=lambda: NOW)
    transport = Transport(http, limiter=limiter, sleep=sleeps.append, policy=RetryPolicy(max_total_wait=0.0))

    def client(seller: str) -> SpClient:
        return SpClient(transport, Hosts(None), Region.NA, Token(), rate_scope=f"{CLIENT_ID}:{seller}")

    first = client("A1SELLER")
    for _ in range(15):  # createReport: burst 15, then one a minute
        first.create_report("GET_SALES_AND_TRAFFIC_REPORT", ["ATVPDKIKX0DER"])
    with pytest.raises(Throttled) as caught:
        first.create_report("GET_SALES_AND_TRAFFIC_REPORT", ["ATVPDKIKX0DER"])
    assert caught.value.retry_after == pytest.approx(60.0, rel=0.01) and sleeps == []
    assert first.get_report("1").status == "DONE"  # getReport has its own bucket
    client("A2OTHER").create_report("GET_SALES_AND_TRAFFIC_REPORT", ["ATVPDKIKX0DER"])  # so has another seller
    assert len(fake.calls("POST", "/reports/2021-06-30/reports")) == 16
    assert RATE_LIMITS["getReport"] == Limit(2.0, 15) and RATE_LIMITS["getReportDocument"] == Limit(1 / 60, 15)


def test_a_sandbox_with_a_faster_clock_gets_its_limits_in_its_own_seconds(url, fake, http, sleeps):
    """The demo's sandbox runs Amazon's clock 60 times ours: after the burst, one createReport a real second."""
    fake.on("POST", "/reports/2021-06-30/reports", json_response(202, {"reportId": "1"}))
    limiter = RedisRateLimiter(redis.Redis.from_url(url), Limit(5.0, 10), clock=lambda: NOW)
    transport = Transport(http, limiter=limiter, sleep=sleeps.append, policy=RetryPolicy(max_total_wait=0.0))
    client = SpClient(transport, Hosts(None), Region.NA, Token(), rate_scope=f"{CLIENT_ID}:A1SELLER", time_scale=60)
    for _ in range(15):
        client.create_report("GET_SALES_AND_TRAFFIC_REPORT", ["ATVPDKIKX0DER"])
    with pytest.raises(Throttled) as caught:
        client.create_report("GET_SALES_AND_TRAFFIC_REPORT", ["ATVPDKIKX0DER"])
    assert caught.value.retry_after == pytest.approx(1.0, rel=0.01)


def test_ads_calls_are_paced_per_client_id_and_profile(url, fake, http, sleeps):
    limiter = RedisRateLimiter(redis.Redis.from_url(url), Limit(1.0, 1), clock=lambda: NOW)
    transport = Transport(http, limiter=limiter, sleep=sleeps.append, policy=RetryPolicy(max_total_wait=5.0))
    fake.on("GET", "/reporting/reports/r1", json_response(200, {"reportId": "r1", "status": "PENDING"}))
    client = AdsClient(transport, Hosts(None), Region.NA, CLIENT_ID, Token())
    for profile in (1, 2, 1):
        assert client.get_report(profile, "r1").status == "PENDING"
    assert sleeps == [1.0]  # the second call on profile 1 waited for its token; profile 2 has its own bucket
    assert redis.Redis.from_url(url).exists(f"marketing:amazon:rate:ads:{CLIENT_ID}:1")


def test_amazons_429_holds_the_shared_bucket_for_every_process(url, fake, http, sleeps):
    """One worker hears 429 (no Retry-After): the others learn to wait as long, without asking Amazon."""
    fake.on("GET", "/reporting/reports/r1", json_response(429, {"code": "429", "detail": "Too Many Requests"}))
    first = RedisRateLimiter(redis.Redis.from_url(url), Limit(5.0, 10), clock=lambda: NOW)
    transport = Transport(http, limiter=first, sleep=sleeps.append, rand=lambda: 1.0,
                          policy=RetryPolicy(max_total_wait=0.0, base_delay=8.0, max_delay=8.0))  # fmt: skip
    with pytest.raises(Throttled) as caught:
        AdsClient(transport, Hosts(None), Region.NA, CLIENT_ID, Token()).get_report(1, "r1")
    assert caught.value.retry_after == 8.0 and sleeps == []
    other_process = RedisRateLimiter(redis.Redis.from_url(url), Limit(5.0, 10), clock=lambda: NOW)
    with pytest.raises(Throttled) as held:
        other_process.reserve(f"ads:{CLIENT_ID}:1", 0)
    assert held.value.retry_after == pytest.approx(8.0)
    assert other_process.reserve(f"ads:{CLIENT_ID}:2", 0) == 0.0  # other profiles are not held
    assert len(fake.calls("GET", "/reporting/reports/r1")) == 1


def test_in_process_limiter_holds_too():
    clock = [0.0]
    limiter = RateLimiter(rate=1.0, burst=5, clock=lambda: clock[0])
    limiter.hold("k", 3.0)
    with pytest.raises(Throttled) as caught:
        limiter.reserve("k", 0)
    assert caught.value.retry_after == pytest.approx(3.0)
    clock[0] = 3.0
    assert limiter.reserve("k", 0) == 0.0
