"""The suggestions review page at agency scale: server time and HTML size with 100,000 pending suggestions,
"all N matching" → approve of 10,000 with a worker, and a whole suggestion run for the large seller.

    .venv/bin/python bench/review.py [--requests 30] [--skip-run] [--skip-send]

Uses the dashboard benchmark's cached PostgreSQL database (`bench/pages.py` seeds `marketing_bench_v1` once:
101 sellers, the large one with 100,000 targets and 90 days). Adds one suggestion run of 100,000 pending bid
suggestions on the large seller's targets (INSERT … SELECT; 10,000 of them with the reason `bench_bulk`),
measures, and deletes that run again (its suggestions go with it), so the cache stays as it was.

Printed beside baselines measured in the same run:
- the page: the old unpaged query (every matching row up to the silent 5,000 cap, sorted in Python) and those
  rows rendered, against the paged page (server time through Flask's test client, p50/p95; HTML bytes);
- approve 10,000: the old way, one `lifecycle.approve` per row (1,000 timed, ×10), against the page's POST plus
  the job on a `marketing worker --queues default` process until it reports finished;
- the suggestion run: loading the aggregates alone (`bids.inputs.load`) beside the whole run (load, engine, rows
  written), the engine's tables built beforehand as `marketing worker` builds them before it forks a run;
- sending 10,000 approved bids: a large sandbox seller (`marketing sandbox --size large`, a scratch database,
  structure synced) and the apply job on a worker (1,000 per PUT, Amazon's and the sandbox's most), against one
  PUT per bid (100 timed, scaled).
Targets: page p95 ≤ 300 ms and HTML ≤ 150 KB; approve 10,000 ≤ 30 s; whole run ≤ 5 s; send 10,000 ≤ 2 min.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
spec = importlib.util.spec_from_file_location("bench_pages", HERE / "pages.py")
pages = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pages)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")  # bench/load.py flushes it: not both
PENDING = 100_000
BULK = 10_000
REASONS = ("above_target_acos", "below_target_acos", "no_orders", "low_impressions")
EXPLANATION = ("ACoS 41.2% over 30 days (118 clicks, 6 orders, $96.40 spend) is above the 30% target; "
               "lowering the bid from {cur} should cut spend by about a fifth while keeping most orders.")


def seed_suggestions(conn, seller_id: int) -> int:
    """One run with PENDING pending suggestions on the seller's targets; returns the run id."""
    run_id = conn.execute(
        "INSERT INTO suggestion_runs (seller_id, kind, status, trigger, created_at, targets, suggestions, up, down, "
        "superseded, auto_approved) VALUES (%s, 'bid', 'succeeded', 'manual', now(), %s, %s, 0, 0, 0, 0) "
        "RETURNING id", (seller_id, PENDING, PENDING)).fetchone()[0]
    conn.execute("""
        INSERT INTO suggestions (seller_id, run_id, kind, entity_kind, entity_ref, marketplace, payload, profile_id,
            entity_id, campaign_id, ad_group_id, label, current_value, proposed_value, direction, status, reason,
            explanation, inputs, expected_spend_delta, expected_sales_delta, created_at)
        SELECT t.seller_id, %(run)s, 'bid', 'keyword', t.target_id::text, 'ATVPDKIKX0DER', '{}', t.profile_id,
            t.target_id, t.campaign_id, t.ad_group_id, t.text, b.cur, round(b.cur * b.f, 2),
            CASE WHEN b.f > 1 THEN 'up' ELSE 'down' END, 'pending',
            CASE WHEN t.target_id %% 10 = 0 THEN 'bench_bulk'
                 ELSE (%(reasons)s::text[])[1 + (t.target_id / 10) %% 4] END,
            replace(%(explanation)s, '{cur}', b.cur::text),
            json_build_object('clicks', 118, 'orders', 6, 'cost', 96.4, 'sales', 233.9, 'impressions', 15200,
                'acos', 0.412, 'target_acos', 0.3, 'cvr_posterior', 0.051, 'order_value', 38.98,
                'lookback_days', 30, 'history_clicks', 402, 'history_orders', 21, 'last_change', null),
            round((b.cur * b.f - b.cur) * 3, 2), round((b.cur * b.f - b.cur) * 7, 2), now()
        FROM sp_targets t JOIN sp_ad_groups g ON g.profile_id = t.profile_id AND g.ad_group_id = t.ad_group_id
        CROSS JOIN LATERAL (SELECT coalesce(t.bid, g.default_bid) AS cur,
                                   0.7 + ((t.target_id * 7919) %% 61) / 100.0 AS f) b
        WHERE t.seller_id = %(seller)s ORDER BY t.target_id LIMIT %(n)s""",
                 {"run": run_id, "seller": seller_id, "n": PENDING, "explanation": EXPLANATION,
                  "reasons": list(REASONS)})
    conn.commit()
    # What autovacuum does to a table after a bulk write on a default server (this machine's PostgreSQL runs with
    # autovacuum off): without it the counts read the heap instead of their covering index, and the dead rows of
    # earlier bench runs pile up.
    conn.autocommit = True
    autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
    conn.execute("VACUUM (ANALYZE) suggestions")
    conn.autocommit = False
    print(f"VACUUM (ANALYZE) suggestions after seeding (autovacuum is {autovacuum} on this server)", file=sys.stderr)
    return run_id


def timed(client, url: str, n: int) -> tuple[float, float, int]:
    for _ in range(2):
        client.get(url)
    times, size = [], 0
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.get_data())
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], size


def old_unpaged(app, seller_id: int, n: int) -> tuple[float, float, int]:
    """The page before: every matching row (silently capped at 5,000) loaded and sorted in Python, then
    rendered, one row per suggestion, with the page's row macro."""
    from flask import render_template_string
    from flask_login import login_user
    from sqlalchemy import select

    from marketing import formatting
    from marketing.extensions import db
    from marketing.models import Seller, Suggestion, User
    from marketing.suggestions import lifecycle, queries

    times, size = [], 0
    for i in range(n + 2):
        with app.test_request_context(f"/sellers/{seller_id}/suggestions"):
            login_user(db.session.scalar(select(User).where(User.email == "bench@example.com")))
            started = time.perf_counter()
            rows = list(db.session.scalars(select(Suggestion).where(
                Suggestion.seller_id == seller_id, Suggestion.kind == "bid", Suggestion.status == "pending")
                .order_by(Suggestion.id).limit(5000)))
            rows.sort(key=lambda s: -abs(s.change_pct or 0))
            html = render_template_string(
                "{% import 'suggestions/rows.html' as r with context %}{% for s in rows %}{{ r.bid(s, choosing) }}"
                "{% endfor %}", rows=rows,
                choosing=True, can_act=True, selected=set(), edits={}, seller=db.session.get(Seller, seller_id),
                filters=queries.Filters(), campaign_names={}, last_changes={}, lifecycle=lifecycle,
                **formatting.FILTERS)
            if i >= 2:
                times.append((time.perf_counter() - started) * 1000)
                size = len(html.encode())
            db.session.remove()
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], size


def start_worker(database: str) -> subprocess.Popen:
    from cryptography.fernet import Fernet

    env = {**os.environ, "MARKETING_ENV": "development", "DATABASE_URL": database, "REDIS_URL": REDIS_URL,
           "SECRET_KEY": "bench", "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "MARKETING_INSTANCE_PATH": str(HERE / ".cache" / "instance"), "MARKETING_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "marketing", "worker", "--queues", "default"], env=env, cwd=ROOT)


def wait_for_worker() -> None:
    """Until the worker listens on `default` (it imports the app first), so its start-up is not timed."""
    from rq import Worker

    from marketing import jobs

    deadline = time.monotonic() + 120
    while not Worker.all(queue=jobs.queue("default")) and time.monotonic() < deadline:
        time.sleep(0.5)


def bulk_approve(app, client, seller_id: int) -> float:
    from marketing.suggestions import bulk

    started = time.perf_counter()
    answer = client.post(f"/sellers/{seller_id}/suggestions/decide",
                         data={"action": "approve", "scope": "matching", "reason": "bench_bulk"})
    job_id = answer.location.split("bulk=")[1]
    while True:
        view = bulk.bulk_status(seller_id, job_id)
        if view is not None and not view.running:
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    print(f"  bulk job: {view.state}, {view.summary} in {elapsed:.1f} s", file=sys.stderr)
    return elapsed


def old_approve(seller_id: int, n: int = 1_000) -> float:
    from sqlalchemy import select

    from marketing.extensions import db
    from marketing.models import Suggestion, User
    from marketing.suggestions import lifecycle

    user = db.session.scalar(select(User).where(User.email == "bench@example.com"))
    rows = db.session.scalars(select(Suggestion).where(
        Suggestion.seller_id == seller_id, Suggestion.status == "pending", Suggestion.reason == REASONS[0])
        .order_by(Suggestion.id).limit(n)).all()
    started = time.perf_counter()
    for row in rows:
        lifecycle.approve(row, actor=user)
    db.session.commit()
    return (time.perf_counter() - started) * BULK / len(rows)


def python_speed() -> float:
    """Seconds for 10 million additions in a loop inside a function: how fast this machine runs now. This
    2-core machine's speed drifts up to twofold within a day; runs on different days compare only beside it."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def suggestion_run(seller_id: int) -> tuple[float, float, int, float]:
    from marketing.bids import inputs, suggest
    from marketing.extensions import db
    from marketing.optimize import bids as engine

    engine.warm()  # as `marketing worker` does before it forks the run's work horse
    speed = python_speed()
    started = time.perf_counter()
    frame = inputs.load(seller_id, 30)
    load = time.perf_counter() - started
    db.session.rollback()
    started = time.perf_counter()
    run = suggest.run_suggestions(seller_id)
    whole = time.perf_counter() - started
    print(f"  run: {len(frame):,} targets, {run.suggestions:,} suggestions; load {load:.1f} s, whole run "
          f"{whole:.1f} s", file=sys.stderr)
    return load, whole, run.suggestions, speed


def send_bench(count: int = BULK) -> tuple[float, str, float]:
    """Send `count` approved bids to a large sandbox seller through the apply job on a worker: (seconds, the job's
    summary, the baseline's seconds: one PUT per bid, 100 timed, scaled to `count`)."""
    import httpx
    from flask_migrate import upgrade
    from rq import Worker
    from sqlalchemy import select

    from marketing import create_app, jobs
    from marketing.bids import apply
    from marketing.clock import now
    from marketing.connections import clients
    from marketing.extensions import db
    from marketing.models import Seller, SpAdGroup, SpTarget, Suggestion, SuggestionRun
    from marketing.sync import structure

    nightly = _sibling("sync_nightly")
    process = subprocess.Popen([*nightly.MARKETING, "sandbox", "--port", "0", "--json", "--size", "large",
                                "--report-delay", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               cwd=ROOT)
    worker = None
    try:
        info = json.loads(process.stdout.readline())
        today = httpx.get(f"{info['AMAZON_BASE_URL']}/_sandbox/clock",
                          headers={"X-Sandbox-Key": info["AMAZON_SANDBOX_ADMIN_KEY"]}).json()["today"]
        with nightly.scratch_database(pages.server_url()) as database:
            env = nightly.environment(info, database, REDIS_URL, today, str(HERE / ".cache" / "instance"))
            env["MARKETING_LOG_LEVEL"] = "WARNING"
            os.environ.update(env)
            app = create_app({"INSTANCE_PATH": env["MARKETING_INSTANCE_PATH"]})
            with app.app_context():
                upgrade()
                info["sellers"] = info["sellers"][:1]
                seller_id = nightly.connect_all(info)[0]
                connection = db.session.get(Seller, seller_id).connection("ads")
                with httpx.Client(timeout=60) as http:
                    ads = clients.ads_client(connection, http)
                    profile = max((p for p in connection.profiles if p.managed),  # the large home profile
                                  key=lambda p: sum(1 for _ in ads.iter_entities(p.profile_id, "campaigns")))
                    structure.sync_profile(db.session, ads, profile_id=profile.profile_id, seller_id=seller_id)
                    db.session.commit()
                    rows = db.session.execute(
                        select(SpTarget, SpAdGroup.default_bid).join(SpAdGroup, (
                            SpAdGroup.ad_group_id == SpTarget.ad_group_id) & (
                            SpAdGroup.profile_id == SpTarget.profile_id))
                        .where(SpTarget.seller_id == seller_id, SpTarget.kind == "keyword",
                               SpTarget.state == "ENABLED", SpTarget.bid.is_not(None))
                        .order_by(SpTarget.target_id).limit(count + 100)).all()
                    run = SuggestionRun(seller_id=seller_id, kind="bid", status="succeeded")
                    db.session.add(run)
                    db.session.flush()
                    db.session.add_all([Suggestion(
                        seller_id=seller_id, run_id=run.id, kind="bid", profile_id=t.profile_id,
                        entity_kind="keyword", entity_id=t.target_id, entity_ref=str(t.target_id),
                        marketplace=profile.marketplace_id, campaign_id=t.campaign_id, ad_group_id=t.ad_group_id,
                        label=t.text, current_value=t.bid, proposed_value=t.bid + Decimal("0.05"),
                        approved_value=t.bid + Decimal("0.05"), direction="up", status="approved", reason="bench",
                        decided_by="bench", decided_at=now(), inputs={}) for t, _ in rows[:count]])
                    db.session.commit()
                    spare = rows[count:]
                    started = time.perf_counter()
                    for t, _ in spare:  # the baseline: one PUT per bid
                        ads.update_bids(profile.profile_id, "keywords", [(t.target_id, float(t.bid))])
                    baseline = (time.perf_counter() - started) * count / max(1, len(spare))
                    # Each answer noted the connection's last success in this session: commit it, or its row lock
                    # would hold the worker's first write to the same row (and the bench would wait forever).
                    db.session.commit()
                log = HERE / ".cache" / "send-worker.log"
                log.parent.mkdir(parents=True, exist_ok=True)
                with open(log, "w") as output:
                    worker = subprocess.Popen([*nightly.MARKETING, "worker", "--queues", "default"], env=env,
                                              cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
                deadline = time.monotonic() + 120
                while not Worker.all(queue=jobs.queue("default")):
                    if worker.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the send bench's worker did not start; see {log}")
                    time.sleep(0.5)
                started = time.perf_counter()
                job = apply.enqueue(seller_id)
                while job.get_status(refresh=True) not in ("finished", "failed"):
                    if time.perf_counter() - started > 600:
                        raise RuntimeError(f"the apply job was still {job.get_status()} after 10 minutes; see {log}")
                    time.sleep(0.5)
                elapsed = time.perf_counter() - started
                result = job.return_value() or {}
                summary = result.get("summary", job.get_status()) + (
                    f"; first error: {result['errors'][0]}" if result.get("errors") else "")
                stale = db.session.scalar(select(Suggestion.error_message).where(Suggestion.status == "stale")
                                          .limit(1))
                if stale:
                    summary += f"; stale: {stale}"
                db.session.remove()
                db.engine.dispose()
            return elapsed, summary, baseline
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        process.terminate()
        process.wait(30)


def _sibling(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--skip-run", action="store_true", help="leave out the whole suggestion run")
    parser.add_argument("--skip-send", action="store_true", help="leave out sending 10,000 bids to the sandbox")
    args = parser.parse_args()
    os.environ.setdefault("TEST_REDIS_URL", REDIS_URL)
    pages.ensure_database(False)
    from marketing.clock import set_today
    from marketing.extensions import db

    set_today(pages.LAST_DAY + dt.timedelta(days=1))
    database = pages.database_url(pages.DATABASE)
    app = pages.make_app()
    app.config["REDIS_URL"] = REDIS_URL
    worker = None
    with psycopg.connect(database) as conn, app.app_context():
        large = conn.execute("SELECT id FROM sellers WHERE name = 'Large Agency Client'").fetchone()[0]
        old_runs = [r[0] for r in conn.execute("SELECT id FROM suggestion_runs WHERE seller_id = %s", (large,))]
        started = time.perf_counter()
        seed_suggestions(conn, large)
        print(f"seeded {PENDING:,} pending suggestions in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        try:
            client = app.test_client()
            client.post("/login", data={"email": "bench@example.com", "password": pages.PASSWORD})
            base = f"/sellers/{large}/suggestions"
            urls = {
                "default (pending, largest change)": base,
                "sorted by spend, page 1,000": f"{base}?sort=spend&page=1000",
                "sorted by sales effect": f"{base}?sort=sales",
                "reason + min change filter": f"{base}?reason={REASONS[1]}&min_change=10",
                "by campaign": f"{base}?view=campaigns",
                "200 per page": f"{base}?per_page=200",
            }
            results = {}
            for label, url in urls.items():
                results[label] = timed(client, url, args.requests)
                print(f"  {label}: p95 {results[label][1]:.0f} ms", file=sys.stderr, flush=True)
            baseline = old_unpaged(app, large, max(5, args.requests // 3))
            db.session.remove()
            worker = start_worker(database)
            wait_for_worker()
            bulk_time = bulk_approve(app, client, large)
            old_time = old_approve(large)
            run_times = None if args.skip_run else suggestion_run(large)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(30)
            db.session.remove()
            conn.rollback()
            conn.execute("DELETE FROM suggestion_runs WHERE seller_id = %s AND NOT (id = ANY(%s))", (large, old_runs))
            conn.execute("DELETE FROM audit_events WHERE action LIKE 'suggestion.%%' AND seller_id = %s", (large,))
            conn.commit()
    report(args, results, baseline, bulk_time, old_time, run_times)
    if not args.skip_send:
        seconds, summary, baseline_send = send_bench()
        print(f"\nsend {BULK:,} approved bids to the sandbox (large seller; apply job on a worker, 1,000 per PUT): "
              f"{seconds:.1f} s ({summary})   target ≤ 120 s -> {'met' if seconds <= 120 else 'MISSED'}")
        print(f"baseline: one PUT per bid (100 timed, × {BULK // 100}) {baseline_send:.1f} s")


def report(args, results, baseline, bulk_time, old_time, run_times) -> None:
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"\nreview page, large seller with {PENDING:,} pending suggestions, PostgreSQL, server time "
          f"({args.requests} requests each), {os.cpu_count()} CPUs, load average {load}")
    print(f"{'page':<42}{'p50 ms':>8}{'p95 ms':>8}{'HTML KB':>9}")
    for label, (p50, p95, size) in results.items():
        print(f"{label:<42}{p50:>8.0f}{p95:>8.0f}{size / 1024:>9.1f}")
    p50, p95, size = baseline
    print(f"{'baseline: old unpaged query, 5,000-row cap':<42}{p50:>8.0f}{p95:>8.0f}{size / 1024:>9.1f}")
    worst = max(p95 for _, p95, _ in results.values())
    biggest = max(size for label, (_, _, size) in results.items() if "per page" not in label)  # 50 a page
    print(f"target: p95 ≤ 300 ms -> {'met' if worst <= 300 else 'MISSED'} ({worst:.0f}); "
          f"HTML of a 50-row page ≤ 150 KB -> {'met' if biggest <= 150 * 1024 else 'MISSED'} ({biggest / 1024:.0f} KB)")
    print(f"\napprove all {BULK:,} matching (POST + job on a worker){bulk_time:>10.1f} s   "
          f"target ≤ 30 s -> {'met' if bulk_time <= 30 else 'MISSED'}")
    print(f"baseline: one lifecycle.approve per row (1,000 × 10){old_time:>9.1f} s")
    if run_times:
        load_s, whole, written, speed = run_times
        print(f"\nsuggestion run, large seller: whole run {whole:.1f} s ({written:,} rows written)   "
              f"target ≤ 5 s -> {'met' if whole <= 5 else 'MISSED'}")
        print(f"baseline: loading the aggregates alone {load_s:.1f} s; machine: 10M Python additions in {speed:.2f} s")


if __name__ == "__main__":
    main()
