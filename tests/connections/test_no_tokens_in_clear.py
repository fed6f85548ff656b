"""After a connect + check + renew + a full sync: no refresh or access token in clear in the database, Redis
(keys, values, job payloads), the logs at DEBUG, the rendered pages or the session cookie."""

from __future__ import annotations

import contextlib
import logging
import re
import zlib

import pytest

from marketing.amazon.auth import cache_key
from marketing.connections.check import check_all
from marketing.models import Base, Seller, SyncRun
from marketing.sync import runs
from tests.connections.conftest import consent
from tests.sync.conftest import SYNC_CONFIG, drain

# Any LWA refresh or access token (also URL-encoded), not just the ones this test knows of.
TOKEN_SHAPE = re.compile(rb"Atz[ar](\||%7C)[A-Za-z0-9\-_.~+/=]{8,}")


def _redis_values(redis) -> list[bytes]:
    """Every key and every value in the Redis database, with zlib-compressed payloads (RQ jobs) opened."""
    out = []
    for key in redis.scan_iter():
        out.append(key)
        kind = redis.type(key).decode()
        if kind == "string":
            values = [redis.get(key)]
        elif kind == "hash":
            values = [b for pair in redis.hgetall(key).items() for b in pair]
        elif kind == "list":
            values = redis.lrange(key, 0, -1)
        elif kind == "set":
            values = list(redis.smembers(key))
        elif kind == "zset":
            values = redis.zrange(key, 0, -1)
        elif kind == "stream":
            values = [b for _, fields in redis.xrange(key) for pair in fields.items() for b in pair]
        else:
            values = []
        for value in values:
            out.append(value)
            with contextlib.suppress(zlib.error, TypeError):
                out.append(zlib.decompress(value))
    return out


def _database_values(db) -> list[bytes]:
    out = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        out.append(bytes(value))
                    elif value is not None:
                        out.append(str(value).encode())
    return out


def _assert_clean(blobs: list[bytes], secrets: list[str], where: str) -> None:
    needles = [s[5:].encode() for s in secrets]  # the body after "Atzr|" catches every encoding of "|"
    for blob in blobs:
        assert not TOKEN_SHAPE.search(blob), f"{where}: a token in {blob[:200]!r}"
        for needle in needles:
            assert needle not in blob, f"{where}: {needle[:12]!r}… found in {blob[:200]!r}"


@pytest.mark.sqlite
def test_connect_check_renew_leaves_no_token_in_clear(app, client, admin, seller_like, sbx, fresh_token, db, caplog,
                                                      queue):
    from marketing import jobs
    from marketing.connections.clients import vault
    from marketing.jobs import tick

    caplog.set_level(logging.DEBUG)
    seller = seller_like(0)
    seller_id = seller.id
    pages = []

    # Connect Ads through the consent pages and SP-API by pasting, then a check (the daily job), then renew both.
    client.get(consent(client, seller.id, "ads"))
    sp_first = fresh_token("sp", 0)
    pages.append(client.post(f"/sellers/{seller.id}/connections/sp/paste", data={"refresh_token": sp_first},
                             follow_redirects=True))
    tick.tick("2026-01-01T05:00:00+00:00")
    queue.work("sync")  # the worker ends each job by removing the session
    seller = db.session.get(Seller, seller_id)
    pages.append(client.post(f"/sellers/{seller.id}/connections/ads/check", follow_redirects=True))
    client.get(consent(client, seller.id, "ads"))
    sp_second = sbx.sellers[0].sp_refresh_token
    pages.append(client.post(f"/sellers/{seller.id}/connections/sp/paste", data={"refresh_token": f" {sp_second} "},
                             follow_redirects=True))
    revoked = fresh_token("sp", 0)
    sbx.admin.revoke(revoked)
    pages.append(client.post(f"/sellers/{seller.id}/connections/sp/paste", data={"refresh_token": revoked}))
    check_all()
    db.session.commit()

    # Then a full sync through the stored tokens: the profile picked on the page starts the back-fill, whose
    # reports are requested, polled, downloaded and ingested by the worker.
    app.config.update(SYNC_CONFIG)
    seller = db.session.get(Seller, seller_id)
    profile = next(p for p in seller.connection("ads").profiles if p.manageable)
    pages.append(client.post(f"/sellers/{seller_id}/connections/ads/profiles",
                             data={"profile_ids": str(profile.profile_id)}, follow_redirects=True))
    run_id = runs.latest_run(seller_id).id
    result = drain(run_id, timeout=120)
    assert result["status"] == "succeeded" and result["rows"] > 0, result["error"]
    assert {r.source for r in db.session.get(SyncRun, run_id).reports} == {"ads", "sp"}
    seller = db.session.get(Seller, seller_id)

    ads = seller.connection("ads")
    refresh_tokens = [sp_first, sp_second, revoked, vault().decrypt(ads.refresh_token_ciphertext)]
    # The access tokens Amazon handed out are in the cache, encrypted: decrypt them to know what to look for.
    redis = jobs.connection()
    access_tokens = []
    for token, client_id in ((refresh_tokens[3], sbx.ads_client_id), (sp_second, sbx.sp_client_id)):
        cached = redis.get(cache_key(client_id, token))
        assert cached is not None and not cached.startswith(b"Atza|")
        access_tokens.append(vault().decrypt(cached))
        assert redis.ttl(cache_key(client_id, token)) <= 3600 - 300  # expires before Amazon's hour is up
    secrets = refresh_tokens + access_tokens
    assert len(set(secrets)) == 6 and all(s.startswith(("Atzr|", "Atza|")) for s in secrets)

    for path in (f"/sellers/{seller.id}", f"/sellers/{seller.id}/connections/history", "/notices", "/admin/audit",
                 f"/sellers/{seller.id}/connections/ads/profiles", f"/sellers/{seller.id}/connections/sp/paste"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages.append(response)
    assert any(f"…{sp_second[-4:]}".encode() in p.data for p in pages)  # only the last 4 are shown

    _assert_clean(_database_values(db), secrets, "database")
    _assert_clean(_redis_values(redis), secrets, "redis")
    logs = [f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}".encode() for r in caplog.records]
    assert any(r.name.startswith("rq.") for r in caplog.records)  # the capture saw the job run
    _assert_clean(logs, secrets, "logs")
    _assert_clean([p.data for p in pages], secrets, "pages")
    cookie = client.get_cookie("session")
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    _assert_clean([repr(session).encode(), cookie.value.encode()], secrets, "session cookie")


def test_httpx_does_not_log_request_urls(app, sbx, caplog):
    import httpx

    caplog.set_level(logging.DEBUG)
    with httpx.Client() as http:
        http.get(f"{sbx.url}/ap/oa", params={"X-Amz-Signature": "presigned-secret"})
    assert not [r for r in caplog.records if "presigned-secret" in r.getMessage()]
