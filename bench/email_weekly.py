"""The weekly email run at agency scale: 1,000 users who see 10 sellers each, 100 sellers, PostgreSQL, Redis,
2 RQ workers, a real SMTP server (aiosmtpd on loopback, accepting everything).

    .venv/bin/python bench/email_weekly.py [--users 1000] [--sellers 100] [--per-user 10] [--baseline-sample 50]

Seeds a scratch database (dropped at the end) with two weeks of campaign facts per seller (20 campaigns, one
managed profile), its rollup, and users whose preferences make this week's summary due now. Then:

1. the run: `weekly.schedule()` (the tick's task) enqueues one job per 100 users, and two `marketing worker
   --burst` processes send them; the wall time from schedule to both workers gone, the emails received, and the
   peak RSS of any worker process (the worker or its work horse, sampled from /proc) are printed;
2. queries per email: the send log and the stored figures are emptied, and `--baseline-sample` users are sent
   again in this process with a statement counter: cold (the figures of each seller computed once, shared) and
   warm (figures stored); and per email over the run, each seller's computation shared by its readers;
3. the baseline: the same users with the seller figures recomputed for every user (no sharing), the way a
   per-user build would do it; its time is extrapolated to all users on two workers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FERNET_KEY = "x0Q2o7rpMI3G0Sm5FkdsKZqnYiv2D7uZKuVUBJOySSo="
CAMPAIGNS = 20


def server_url() -> str:
    from marketing.config import normalise_database_url

    raw = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    return make_url(normalise_database_url(raw)).set(drivername="postgresql").render_as_string(hide_password=False)


class Counter:
    """Accepts every message (aiosmtpd handler) and counts them."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 OK"


def rss_tree(pid: int) -> list[int]:
    """RSS in bytes of `pid` and every descendant (the work horse runs in a session of its own)."""
    sizes, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) * 1024)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(c) for c in handle.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return sizes


def seed(app, users: int, sellers: int, per_user: int) -> None:
    from sqlalchemy import insert

    from marketing.clock import now
    from marketing.dashboard.rollups import refresh_rollups
    from marketing.digest import weeks
    from marketing.extensions import db
    from marketing.models import (
        AdsProfile,
        Connection,
        EmailPreference,
        Seller,
        SpCampaign,
        SpCampaignDaily,
        User,
        user_sellers,
    )

    week = weeks.last_complete(now().date())
    first = week.previous().monday
    started = time.perf_counter()
    with app.app_context():
        for i in range(sellers):
            seller = Seller(name=f"Bench Seller {i:03d}", region="NA", marketplaces=["M-US"])
            db.session.add(seller)
            db.session.flush()
            expires = now() + dt.timedelta(days=20 if i % 9 == 0 else 300)  # a few in the warning window
            connection = Connection(seller_id=seller.id, api="ads", refresh_token_ciphertext=b"x", token_last4="abcd",
                                    authorized_at=now(), expires_at=expires)
            db.session.add(connection)
            db.session.flush()
            profile_id = 1_000_000 + i
            db.session.add(AdsProfile(connection_id=connection.id, profile_id=profile_id, country_code="US",
                                      currency_code="USD", timezone="UTC", marketplace_id="M-US",
                                      account_type="seller", managed=True))
            db.session.execute(insert(SpCampaign), [
                {"profile_id": profile_id, "campaign_id": profile_id * 100 + c, "seller_id": seller.id,
                 "state": "enabled", "name": f"Campaign {c} of seller {i}", "targeting_type": "MANUAL",
                 "budget": 50} for c in range(CAMPAIGNS)])
            db.session.execute(insert(SpCampaignDaily), [
                {"profile_id": profile_id, "date": first + dt.timedelta(days=d), "campaign_id": profile_id * 100 + c,
                 "campaign_name": f"Campaign {c} of seller {i}", "campaign_status": "ENABLED", "currency_code": "USD",
                 "impressions": 1000 + 37 * c + d, "clicks": 20 + c + d % 3, "cost": f"{5 + (c * 7 + d * 3) % 40}.25",
                 "orders": (c + d) % 5, "units": (c + d) % 5, "sales": f"{(c * 13 + d * 11) % 120}.50"}
                for c in range(CAMPAIGNS) for d in range(14)])
            db.session.commit()
            refresh_rollups(seller.id, first, week.sunday)
        seller_ids = list(db.session.scalars(db.select(Seller.id).order_by(Seller.id)))
        weekday = now().weekday()
        for start in range(0, users, 500):
            rows = db.session.execute(insert(User).returning(User.id), [
                {"email": f"user{n:04d}@bench.example", "name": "", "role": "marketer", "active": True,
                 "session_token": secrets.token_hex(16), "created_at": now()}
                for n in range(start, min(users, start + 500))]).scalars().all()
            db.session.execute(insert(EmailPreference), [
                {"user_id": uid, "weekly": True, "alerts": True, "weekday": weekday, "hour": 0, "timezone": "UTC",
                 "updated_at": now()} for uid in rows])
            db.session.execute(insert(user_sellers), [
                {"user_id": uid, "seller_id": seller_ids[(n * per_user + k) % len(seller_ids)]}
                for n, uid in enumerate(rows, start=start) for k in range(per_user)])
            db.session.commit()
    print(f"seed: {sellers} sellers × {CAMPAIGNS} campaigns × 14 days, {users} users × {per_user} sellers, "
          f"week {week.label}, in {time.perf_counter() - started:.1f} s", flush=True)


def count_queries(engine):
    counter = {"n": 0}

    def before(*_):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    return counter, lambda: event.remove(engine, "before_cursor_execute", before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--sellers", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-sample", type=int, default=50)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    from marketing import create_app
    from marketing.config import Settings
    from tests import services
    from tests.email.conftest import free_port

    name = f"marketing_bench_email_{secrets.token_hex(3)}"
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = make_url(server_url()).set(database=name).render_as_string(hide_password=False)
    handler, port = Counter(), free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    instance = tempfile.mkdtemp(prefix="marketing-bench-email-")
    try:
        with services.redis_database() as redis_url:
            env = {"MARKETING_ENV": "test", "SECRET_KEY": "bench-secret", "DATABASE_URL": database_url,
                   "REDIS_URL": redis_url, "TOKEN_ENCRYPTION_KEYS": FERNET_KEY, "MARKETING_INSTANCE_PATH": instance,
                   "PUBLIC_URL": "https://marketing.example", "MAIL_FROM": "reports@marketing.example",
                   "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none"}
            settings = Settings.from_env(env)
            app = create_app({"INSTANCE_PATH": instance}, settings=settings)
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
            seed(app, args.users, args.sellers, args.per_user)
            run(app, env, handler, args)
    finally:
        smtp.stop()
        with psycopg.connect(server_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(app, env, handler, args) -> None:
    from marketing.digest import figures, weekly, weeks
    from marketing.extensions import db
    from marketing.models import EmailSellerWeek, EmailSend, User

    with app.app_context():
        db.engine.dispose()
        started = time.perf_counter()
        batches = weekly.schedule()
        scheduled = time.perf_counter() - started
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    workers = [subprocess.Popen([sys.executable, "-m", "marketing", "worker", "--queues", "email", "--burst"],
                                env={**os.environ, **env}, cwd=ROOT) for _ in range(args.workers)]
    peak = 0
    while any(w.poll() is None for w in workers):
        for w in workers:
            peak = max([peak, *rss_tree(w.pid)])
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers and their (reaped) work horses
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    with app.app_context():
        states = dict(db.session.execute(db.select(EmailSend.state, db.func.count()).group_by(EmailSend.state)).all())
        computed = db.session.scalar(db.select(db.func.count()).select_from(EmailSellerWeek))
    print(f"run: {args.users} users, {batches} batch jobs (schedule {scheduled:.2f} s), {args.workers} workers: "
          f"{elapsed:.1f} s wall, {handler.count} emails received, send log {states}, "
          f"{computed} seller-weeks computed (once each), peak worker RSS {peak / 2**20:.0f} MiB; worker CPU "
          f"{cpu:.1f} s (workers and work horses), load average {load_before:.1f} → {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs; target ≤ 120 s -> {'met' if elapsed <= 120 else 'MISSED'}", flush=True)

    sample = args.baseline_sample
    with app.app_context():
        ids = list(db.session.scalars(db.select(User.id).order_by(User.id).limit(sample)))
        week = weeks.last_complete(dt.datetime.now(dt.UTC).date())

        def measure(label: str) -> tuple[float, list[int]]:
            db.session.execute(db.delete(EmailSend))
            db.session.commit()
            per_email, began = [], time.perf_counter()
            for user_id in ids:
                db.session.expunge_all()
                counter, stop = count_queries(db.engine)
                assert weekly.send_to(user_id, week) == "sent"
                stop()
                per_email.append(counter["n"])
            took = time.perf_counter() - began
            print(f"{label}: {sample} emails in {took:.2f} s ({took / sample * 1000:.0f} ms each); queries per "
                  f"email: mean {statistics.mean(per_email):.1f}, max {max(per_email)}, "
                  f"first {per_email[0]}", flush=True)
            return took, per_email

        db.session.execute(db.delete(EmailSellerWeek))
        db.session.commit()
        _, cold = measure("queries, shared figures (cold: each seller computed once)")
        computed = db.session.scalar(db.select(db.func.count()).select_from(EmailSellerWeek))
        shared, warm = measure("queries, shared figures (warm: stored)")
        # The run computes each seller once and shares it: per email, the warm queries plus its share of the
        # sellers' computations (measured on the sample's sellers), the figure the ≤ 25 target is about.
        per_seller = (sum(cold) - sum(warm)) / computed
        per_email = statistics.mean(warm) + per_seller * args.sellers / args.users
        print(f"queries per email over the run: {per_email:.1f} ({statistics.mean(warm):.1f} + {per_seller:.1f} "
              f"per seller computed × {args.sellers} sellers / {args.users} users); target ≤ 25 -> "
              f"{'met' if per_email <= 25 else 'MISSED'}", flush=True)
        original = figures.for_sellers
        figures.for_sellers = lambda sellers, w: {s.id: EmailSellerWeek(figures=figures.compute(s, w)[0])
                                                  for s in sellers}
        try:
            baseline, _ = measure("baseline, per-user recomputation")
        finally:
            figures.for_sellers = original
        estimate = baseline / sample * args.users / args.workers
        print(f"baseline estimate for the whole run: {estimate:.0f} s on {args.workers} workers "
              f"({baseline / shared:.1f}× the shared build per email)", flush=True)


if __name__ == "__main__":
    main()
