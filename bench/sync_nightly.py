"""Benchmark: the nightly sync of 100 demo-size sandbox sellers, with Amazon taking 60 s per report and
enforcing its rate limits (Ads per client id + profile, SP-API per app + seller + operation; 429 without
Retry-After, as Amazon answers).

Runs `marketing sandbox --sellers 100 --report-delay 60` and two `marketing worker --queues sync` processes
(sync steps run inside the worker process: `marketing.jobs.worker.IN_PROCESS_QUEUES`) on PostgreSQL and Redis,
connects every seller, switches the sandbox's rate limits on, starts every seller's nightly run at once and
waits until all have ended. Target: all done within 5 minutes of wall time; the 429s Amazon answered are
printed beside it.

Baseline, in the same run and against the same sandbox: the blocking way — one process, one seller at a
time, each report requested, then polled with `sleep` until Amazon is done, then downloaded — for a few
sellers, extrapolated to 100.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test TEST_REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/sync_nightly.py [--sellers 100] [--baseline-sellers 1]

A scratch database is created and dropped; the Redis database named by TEST_REDIS_URL is flushed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
MARKETING = [sys.executable, "-m", "marketing"]
TARGET_SECONDS = 300


@contextmanager
def scratch_database(server_url: str):
    url = make_url(server_url)
    name = f"marketing_bench_{secrets.token_hex(4)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sandbox(sellers: int, report_delay: float, nice: int = 0):
    """The sandbox as its own process; `nice` lowers its CPU priority where it stands in for Amazon's servers,
    whose work is not done on our machine."""
    command = [*MARKETING, "sandbox", "--port", "0", "--json", "--sellers", str(sellers), "--report-delay",
               str(report_delay)]
    process = subprocess.Popen(["nice", "-n", str(nice), *command], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        info = json.loads(process.stdout.readline())
        yield info
    finally:
        process.terminate()
        process.wait(timeout=30)


def environment(info: dict, database_url: str, redis_url: str, today: str, instance: str) -> dict:
    keys = ("AMAZON_BASE_URL", "AMAZON_ADS_CLIENT_ID", "AMAZON_ADS_CLIENT_SECRET", "AMAZON_SP_CLIENT_ID",
            "AMAZON_SP_CLIENT_SECRET", "AMAZON_SP_APP_ID")
    return {**os.environ, **{k: info[k] for k in keys}, "MARKETING_ENV": "development", "DATABASE_URL": database_url,
            "REDIS_URL": redis_url, "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SECRET_KEY": secrets.token_urlsafe(32), "MARKETING_TODAY": today, "MARKETING_INSTANCE_PATH": instance}


def connect_all(info: dict) -> list[int]:
    """Connect every sandbox seller the way the product does (proven tokens, profiles listed and managed)."""
    from marketing import sellers as seller_service
    from marketing.clock import now
    from marketing.connections import service
    from marketing.extensions import db

    ids = []
    for account in info["sellers"]:
        seller = seller_service.create_seller(account["name"], account["region"])
        db.session.commit()
        for api in ("ads", "sp"):
            token = account[f"{api}_refresh_token"]
            service.prove_refresh_token(seller, api, token)
            connection = service.store_token(seller, api, token, authorized_at=now(), actor=None, method="cli")
            db.session.commit()
            if api == "ads":
                service.refresh_profiles(connection, manage_new=True)
        seller.selling_partner_id = account["selling_partner_id"]
        db.session.commit()
        ids.append(seller.id)
    return ids


def figures(run_ids: list[int]) -> dict:
    from marketing.extensions import db
    from marketing.models import SyncReport, SyncRun

    db.session.expire_all()
    statuses = dict(db.session.execute(select(SyncRun.status, func.count()).where(SyncRun.id.in_(run_ids))
                                       .group_by(SyncRun.status)).all())
    reports, rows = db.session.execute(select(func.count(), func.coalesce(func.sum(SyncReport.rows), 0)).where(
        SyncReport.run_id.in_(run_ids), SyncReport.status == "ingested")).one()
    errors = db.session.scalars(select(SyncRun.error).where(SyncRun.id.in_(run_ids), SyncRun.error.is_not(None))
                                .limit(3)).all()
    return {"succeeded": statuses.get("succeeded", 0), "partial": statuses.get("partial", 0),
            "failed": statuses.get("failed", 0),
            "active": statuses.get("queued", 0) + statuses.get("running", 0), "reports": reports, "rows": int(rows),
            "errors": errors}


def nightly_with_workers(env: dict, seller_ids: list[int], workers: int, limit: float) -> tuple[float, dict]:
    from marketing.sync import runs
    from marketing.sync.plan import NIGHTLY_DAYS

    procs = [subprocess.Popen([*MARKETING, "worker", "--queues", "sync"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        time.sleep(3)  # let them register before the clock starts
        started = time.monotonic()
        run_ids = [runs.start_run(s, "nightly", days=NIGHTLY_DAYS)[0].id for s in seller_ids]
        while time.monotonic() - started < limit:
            state = figures(run_ids)
            print(f"  {time.monotonic() - started:6.1f}s  succeeded {state['succeeded']:3d}  failed "
                  f"{state['failed']:3d}  reports {state['reports']:5d}  rows {state['rows']:8d}", file=sys.stderr)
            if not state["active"]:
                break
            time.sleep(5)
        return time.monotonic() - started, figures(run_ids)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def blocking_sync(seller_id: int, poll: float = 5.0) -> tuple[int, int]:
    """The baseline: one report at a time, sleeping while Amazon works. Returns (reports, rows)."""
    from marketing.amazon.ads import REPORT_COLUMNS, REPORT_GROUP_BY
    from marketing.connections import clients
    from marketing.extensions import db
    from marketing.models import Seller
    from marketing.sync import ingest, plan, runs

    seller = db.session.get(Seller, seller_id)
    reports = rows = 0
    with clients.http_client() as http:
        ads = clients.ads_client(seller.connection("ads"), http)
        sp = clients.sp_client(seller.connection("sp"), http)
        for profile in runs.managed_profiles(seller):
            start, end = plan.profile_range(profile.timezone, plan.NIGHTLY_DAYS)
            for report_type in plan.ADS_REPORT_TYPES:
                request = ads.create_report(profile.profile_id, report_type, start, end,
                                            REPORT_COLUMNS[report_type], REPORT_GROUP_BY[report_type])
                while not (status := ads.get_report(profile.profile_id, request.report_id)).done:
                    time.sleep(poll)
                rows += ingest.ingest_report(db.session, report_type, ads.iter_report_rows(status.url),
                                             profile_id=profile.profile_id, start=start, end=end,
                                             currency=profile.currency_code,
                                             attribution_days=ingest.ATTRIBUTION_DAYS[profile.account_type])
                db.session.commit()
                reports += 1
            report_id = sp.create_report(plan.SALES_TRAFFIC, [profile.marketplace_id], start, end,
                                         options={"dateGranularity": "DAY", "asinGranularity": "CHILD"})
            while not (status := sp.get_report(report_id)).done:
                time.sleep(poll)
            document = sp.get_report_document(status.document_id)
            rows += ingest.ingest_report(db.session, plan.SALES_TRAFFIC, sp.iter_document_items(
                document.url, document.compression, ingest.SALES_TRAFFIC_PREFIXES), seller_id=seller.id,
                marketplace_id=profile.marketplace_id, start=start, end=end, currency=profile.currency_code)
            db.session.commit()
            reports += 1
    return reports, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sellers", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report-delay", type=float, default=60.0)
    parser.add_argument("--baseline-sellers", type=int, default=1)
    args = parser.parse_args()
    server = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    instance = tempfile.mkdtemp(prefix="marketing-bench-")
    with scratch_database(server) as database_url, sandbox(args.sellers, args.report_delay) as info:
        today = httpx.get(f"{info['AMAZON_BASE_URL']}/_sandbox/clock",
                          headers={"X-Sandbox-Key": info["AMAZON_SANDBOX_ADMIN_KEY"]}).json()["today"]
        env = environment(info, database_url, redis_url, today, instance)
        os.environ.update(env)
        from flask_migrate import upgrade

        from marketing import create_app

        app = create_app({"INSTANCE_PATH": instance})
        with app.app_context():
            upgrade()
            t = time.monotonic()
            seller_ids = connect_all(info)
            print(f"connected {len(seller_ids)} sellers in {time.monotonic() - t:.1f}s", file=sys.stderr)
            admin = {"X-Sandbox-Key": info["AMAZON_SANDBOX_ADMIN_KEY"]}
            limits = f"{info['AMAZON_BASE_URL']}/_sandbox/rate-limits"
            httpx.put(limits, headers=admin, json={"enabled": True}).raise_for_status()
            wall, result = nightly_with_workers(env, seller_ids, args.workers, limit=TARGET_SECONDS * 4)
            throttled = httpx.get(limits, headers=admin).json()["throttled"]
            t = time.monotonic()
            base_reports = base_rows = 0
            if not args.baseline_sellers:  # --baseline-sellers 0: this sync's figures only
                print(f"\nnightly sync, {len(seller_ids)} sandbox sellers, report delay {args.report_delay:g}s, "
                      f"Amazon's rate limits enforced, {args.workers} worker processes, PostgreSQL + Redis")
                print(f"wall time {wall:.1f}s, reports ingested {result['reports']}, rows {result['rows']}, runs "
                      f"succeeded/partial/failed {result['succeeded']}/{result['partial']}/{result['failed']}, "
                      f"429s answered by Amazon {throttled}")
                print(f"target: all done within {TARGET_SECONDS}s -> "
                      f"{'met' if wall <= TARGET_SECONDS and not result['active'] else 'MISSED'}")
                return 0 if wall <= TARGET_SECONDS and not (result["failed"] or result["partial"]) else 1
            for seller_id in seller_ids[: args.baseline_sellers]:
                reports, rows = blocking_sync(seller_id)
                base_reports, base_rows = base_reports + reports, base_rows + rows
            base_wall = time.monotonic() - t
            scale = len(seller_ids) / args.baseline_sellers
        print(f"\nnightly sync, {len(seller_ids)} sandbox sellers, report delay {args.report_delay:g}s, Amazon's rate "
              f"limits enforced, {args.workers} worker processes, PostgreSQL + Redis")
        print(f"{'':28}{'this sync':>14}{'blocking baseline':>22}")
        print(f"{'wall time':28}{wall:>13.1f}s{base_wall * scale:>21.0f}s  "
              f"({args.baseline_sellers} seller(s) in {base_wall:.1f}s, x{scale:g})")
        print(f"{'reports ingested':28}{result['reports']:>14}{int(base_reports * scale):>22}")
        print(f"{'rows':28}{result['rows']:>14}{int(base_rows * scale):>22}")
        print(f"{'runs succeeded/partial/failed':28}{result['succeeded']:>6}/{result['partial']}/{result['failed']:<3}")
        print(f"{'429s answered by Amazon':28}{throttled:>14}")
        met = wall <= TARGET_SECONDS and not result["active"]
        print(f"target: all done within {TARGET_SECONDS}s -> {'met' if met else 'MISSED'}")
        for error in result["errors"]:
            print(f"  error: {error}")
    return 0 if wall <= TARGET_SECONDS and not (result["failed"] or result["partial"]) else 1


if __name__ == "__main__":
    sys.exit(main())
