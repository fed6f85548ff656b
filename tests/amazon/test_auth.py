import hashlib

import pytest

from marketing.amazon import AccessTokenSource, AmazonUnavailable, InvalidClient, InvalidGrant, MemoryTokenCache, Region

from .conftest import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, TOKEN_PATH, json_response


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingObserver:
    def __init__(self):
        self.events = []

    def on_success(self):
        self.events.append("ok")

    def on_error(self, exc):
        self.events.append(exc)


def make_source(transport, hosts, cache, **kw):
    return AccessTokenSource(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, cache, **kw)


def test_miss_then_hit(fake, transport, hosts):
    source = make_source(transport, hosts, MemoryTokenCache())
    assert source.get() == "Atza|access-1"
    assert source.get() == "Atza|access-1"
    assert fake.tokens_issued == 1


def test_token_is_refreshed_five_minutes_before_amazons_expiry(fake, transport, hosts):
    clock = Clock()
    source = make_source(transport, hosts, MemoryTokenCache(clock))
    assert source.get() == "Atza|access-1"
    clock.now += 3600 - 300 - 1
    assert source.get() == "Atza|access-1"
    clock.now += 1
    assert source.get() == "Atza|access-2"
    assert fake.tokens_issued == 2


def test_short_lived_token_is_not_cached(fake, transport, hosts):
    fake.on("POST", TOKEN_PATH, json_response(200, {"access_token": "Atza|brief", "expires_in": 120}))
    cache = MemoryTokenCache()
    source = make_source(transport, hosts, cache)
    assert source.get() == "Atza|brief"
    assert cache.get(source.cache_key) is None


def test_cache_key_is_a_hash_not_the_token(transport, hosts):
    cache = MemoryTokenCache()
    source = make_source(transport, hosts, cache)
    source.get()
    expected = hashlib.sha256(f"{CLIENT_ID}\n{REFRESH_TOKEN}".encode()).hexdigest()
    assert source.cache_key == f"amazon:lwa:{expected}"
    assert list(cache._items) == [source.cache_key]
    assert REFRESH_TOKEN not in source.cache_key and CLIENT_SECRET not in repr(source)
    assert REFRESH_TOKEN not in repr(source)
    other = AccessTokenSource(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, "Atzr|other", cache)
    assert other.cache_key != source.cache_key


def test_invalidate_forces_a_refresh(fake, transport, hosts):
    source = make_source(transport, hosts, MemoryTokenCache())
    source.get()
    source.invalidate()
    assert source.get() == "Atza|access-2"


def test_observer_hears_refresh_failures(fake, transport, hosts):
    observer = RecordingObserver()
    fake.on("POST", TOKEN_PATH, json_response(400, {"error": "invalid_grant", "error_description": "revoked"}))
    source = make_source(transport, hosts, MemoryTokenCache(), observer=observer)
    with pytest.raises(InvalidGrant):
        source.get()
    assert len(observer.events) == 1 and isinstance(observer.events[0], InvalidGrant)
    fake.on("POST", TOKEN_PATH, json_response(401, {"error": "invalid_client", "error_description": "bad"}))
    with pytest.raises(InvalidClient):
        source.get()
    assert isinstance(observer.events[1], InvalidClient)


def test_observer_failure_does_not_fail_the_call(fake, transport, hosts, caplog):
    class Broken:
        def on_success(self):
            raise RuntimeError("db down")

        def on_error(self, exc):
            raise RuntimeError("db down")

    fake.on("POST", TOKEN_PATH, json_response(503, {"error": "temporarily_unavailable"}))
    source = make_source(transport, hosts, MemoryTokenCache(), observer=Broken())
    with pytest.raises(AmazonUnavailable):
        source.get()
    source.report(None)
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == ["Amazon auth observer failed"] * 2
