"""Load: 50 concurrent logged-in marketers on gunicorn + PostgreSQL + Redis with the benchmark data, while a
worker runs the nightly sync of 10 sandbox sellers; beside a single-user run of the same pages.

    .venv/bin/python bench/load.py [--users 50] [--minutes 3] [--single-minutes 1] [--web-workers 4]

Uses the dashboard benchmark's cached database (`bench/pages.py` seeds `marketing_bench_v1`: 101 sellers, the
large one with 100,000 targets and 90 days) and adds, for the run only, 100,000 pending suggestions on the large
seller (as bench/review.py does), 50 users, and 10 sandbox sellers (`marketing sandbox --sellers 10`) connected
as the product connects them; all are deleted again at the end. Starts gunicorn (`wsgi:app`) and one `marketing
worker --queues sync,default`, drives the pages with locust, headless
(`bench/load_locustfile.py`): overview, seller, campaign, keyword, search terms and the review page, each user
waiting 3-10 s between pages, and queues the 10 sellers' nightly runs when the last user has arrived (when the
statistics start), so the sync's ingest and suggestion runs share the machine with the measured pages. Prints
requests, errors and p50/p95/p99 per page beside the single-user run (one user, no waiting). Goals: 0 errors,
p95 ≤ 500 ms per page.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pages, review, nightly = _load("pages"), _load("review"), _load("sync_nightly")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PASSWORD = "load password 123"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def urls(conn) -> dict[str, list[str]]:
    by_page = pages.page_urls(conn)
    large = conn.execute("SELECT id FROM sellers WHERE name = 'Large Agency Client'").fetchone()[0]
    base = f"/sellers/{large}/suggestions"
    return {
        "overview": by_page["overview (30 d, 101 sellers)"][:1],
        "seller": sorted(set(by_page["seller, demo-size (30 d)"]))[:40] + by_page["seller, large (30 d)"][:1],
        "campaign": sorted(set(by_page["campaign, large (30 d)"]))[:100],
        "keyword": sorted(set(by_page["keyword, large (90 d)"]))[:100],
        "search terms": by_page["search terms, large (30 d)"][:1],
        "review": [base, f"{base}?reason=below_target_acos", f"{base}?sort=spend&page=7", f"{base}?page=3",
                   f"{base}?view=campaigns", f"{base}?status=approved"],
    }


def locust(host: str, users: int, seconds: int, think: str, urls_file: str, prefix: str) -> dict[str, dict]:
    """Run `users` for `seconds` once all are logged in: they arrive one a second and log in, and the statistics
    restart when the last has arrived (`--reset-stats`). Logging 50 in at 5 a second queued every page behind
    the password hashes for the first half minute, which is not what 50 logged-in marketers see."""
    env = {**os.environ, "LOAD_URLS": urls_file, "LOAD_PASSWORD": PASSWORD, "LOAD_USERS": str(users),
           "LOAD_THINK": think}
    subprocess.run([str(BIN / "locust"), "-f", str(HERE / "load_locustfile.py"), "--headless", "-u", str(users),
                    "-r", "1", "--reset-stats", "-t", f"{seconds + users}s", "--host", host, "--csv", prefix,
                    "--only-summary", "--loglevel", "WARNING"], env=env, check=False, stdout=subprocess.DEVNULL)
    with open(f"{prefix}_stats.csv") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--single-minutes", type=float, default=1)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--sync-sellers", type=int, default=10)
    args = parser.parse_args()
    pages.ensure_database(False)
    # What autovacuum would have done after the earlier runs' deletes (this machine's server runs with it off):
    # without it, every run reads more dead rows than the last.
    with psycopg.connect(pages.database_url(pages.DATABASE), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    database = pages.database_url(pages.DATABASE).replace("postgresql://", "postgresql+psycopg://", 1)
    instance = tempfile.mkdtemp(prefix="marketing-load-")
    work = Path(instance)
    procs: list[subprocess.Popen] = []
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    # The sandbox answers for Amazon, whose report building is not on our machine: it runs at the lowest CPU
    # priority, as the product's worker runs below the web server (WORKER_NICE).
    with (nightly.sandbox(args.sync_sellers, 5.0, nice=19) as info,
          psycopg.connect(pages.database_url(pages.DATABASE)) as conn):
        today = httpx.get(f"{info['AMAZON_BASE_URL']}/_sandbox/clock",
                          headers={"X-Sandbox-Key": info["AMAZON_SANDBOX_ADMIN_KEY"]}).json()["today"]
        env = nightly.environment(info, database, REDIS_URL, today, instance)
        env["MARKETING_LOG_LEVEL"] = "WARNING"
        os.environ.update(env)
        large = conn.execute("SELECT id FROM sellers WHERE name = 'Large Agency Client'").fetchone()[0]
        old_runs = [r[0] for r in conn.execute("SELECT id FROM suggestion_runs WHERE seller_id = %s", (large,))]
        before = {r[0] for r in conn.execute("SELECT id FROM sellers")}
        from marketing import accounts, create_app
        from marketing.extensions import db

        app = create_app({"INSTANCE_PATH": instance})
        try:
            review.seed_suggestions(conn, large)
            with app.app_context():
                for n in range(args.users):
                    accounts.create_user(f"load-{n:02d}@example.com", "admin", password=PASSWORD)
                db.session.commit()
                started = time.monotonic()
                sync_sellers = nightly.connect_all(info)
                print(f"connected {len(sync_sellers)} sandbox sellers in {time.monotonic() - started:.0f} s",
                      file=sys.stderr)
            (work / "urls.json").write_text(json.dumps(urls(conn)))
            port = free_port()
            host = f"http://127.0.0.1:{port}"
            web_env = {**env, "MARKETING_TODAY": str(pages.LAST_DAY + dt.timedelta(days=1)),
                       "SECRET_KEY": secrets.token_urlsafe(32)}
            procs.append(subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(args.web_workers), "--bind",
                                           f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], env=web_env,
                                          cwd=ROOT))
            for _ in range(120):
                try:
                    httpx.get(f"{host}/login", timeout=5)
                    break
                except httpx.HTTPError:
                    time.sleep(1)
            single = locust(host, 1, int(args.single_minutes * 60), "0", str(work / "urls.json"),
                            str(work / "single"))
            procs.append(subprocess.Popen([*nightly.MARKETING, "worker", "--queues", "sync,default"], env=env,
                                          cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            run_ids: list[int] = []
            timer = threading.Timer(args.users, start_sync, (app, sync_sellers, run_ids))
            timer.start()
            many = locust(host, args.users, int(args.minutes * 60), "3-10", str(work / "urls.json"),
                          str(work / "many"))
            timer.join()
            with app.app_context():
                sync = nightly.figures(run_ids)
                took = None if sync["active"] else sync_seconds(run_ids)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(60)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            conn.rollback()
            conn.execute("DELETE FROM suggestion_runs WHERE seller_id = %s AND NOT (id = ANY(%s))", (large, old_runs))
            conn.execute("DELETE FROM users WHERE email LIKE 'load-%%@example.com'")
            conn.execute("DELETE FROM sellers WHERE NOT (id = ANY(%s))", (list(before),))
            conn.commit()
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"\nload: {args.users} logged-in users (arriving one a second, measured once all are in), 3-10 s between "
          f"pages, {args.minutes:g} min, gunicorn {args.web_workers} "
          f"workers, PostgreSQL + Redis; during it a worker synced {len(run_ids)} sandbox sellers "
          f"from the start of the measured window ({sync['succeeded']} succeeded, {sync['partial']} partial, "
          f"{sync['failed']} failed, {sync['active']} still running; {sync['reports']} reports, {sync['rows']:,} rows"
          f"{f', done in {took:.0f} s' if took is not None else ''}). "
          f"{os.cpu_count()} CPUs, load average {load}")
    print(f"{'page':<14}{'requests':>9}{'errors':>7}{'p50':>7}{'p95':>7}{'p99':>7}   "
          f"{'1 user: requests':>16}{'p50':>7}{'p95':>7}{'p99':>7}   (ms)")
    worst, errors = 0.0, 0
    for name in [*urls_order(many), "Aggregated"]:
        row, one = many.get(name), single.get(name, {})
        if row is None:
            continue
        errors += int(row["Failure Count"]) if name != "Aggregated" else 0
        if name not in ("Aggregated", "login"):
            worst = max(worst, float(row["95%"]))
        print(f"{name:<14}{row['Request Count']:>9}{row['Failure Count']:>7}{row['50%']:>7}{row['95%']:>7}"
              f"{row['99%']:>7}   {one.get('Request Count', '-'):>16}{one.get('50%', '-'):>7}{one.get('95%', '-'):>7}"
              f"{one.get('99%', '-'):>7}")
    print(f"goals: 0 errors -> {'met' if errors == 0 else 'MISSED'} ({errors}); p95 ≤ 500 ms per page -> "
          f"{'met' if worst <= 500 else 'MISSED'} (worst {worst:.0f} ms)")
    return 0


def start_sync(app, seller_ids: list[int], run_ids: list[int]) -> None:
    """Queue every sandbox seller's nightly run (the worker takes them), noting their ids in `run_ids`."""
    from marketing.sync import runs
    from marketing.sync.plan import NIGHTLY_DAYS

    with app.app_context():
        run_ids.extend(runs.start_run(s, "nightly", days=NIGHTLY_DAYS)[0].id for s in seller_ids)


def sync_seconds(run_ids: list[int]) -> float:
    """From the first run queued to the last one finished."""
    from sqlalchemy import func, select

    from marketing.extensions import db
    from marketing.models import SyncRun

    first, last = db.session.execute(select(func.min(SyncRun.created_at), func.max(SyncRun.finished_at))
                                     .where(SyncRun.id.in_(run_ids))).one()
    return (last - first).total_seconds()


def urls_order(stats: dict) -> list[str]:
    order = ["overview", "seller", "campaign", "keyword", "search terms", "review", "login"]
    return [n for n in order if n in stats]


if __name__ == "__main__":
    sys.exit(main())
