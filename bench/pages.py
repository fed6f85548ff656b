"""Server time of the dashboard pages at agency scale, beside a baseline without the rollup and indexes.

    .venv/bin/python bench/pages.py [--requests 40] [--rebuild]

Seeds PostgreSQL directly with COPY (numpy-generated): 100 demo-size sellers (20 campaigns, 300 targets; every
tenth also advertises in Canada) and one large seller (1,000 campaigns, 100,000 targets), 90 days of daily rows
(about 12M target-day rows). The seeded database is the cache: it is kept (named after GENERATOR) and reused
while GENERATOR is unchanged; `--rebuild` drops it. Requests go through the Flask test client in this process,
so the time measured is the server's (queries, figure building, rendering). The main figures and the baseline
drop the dashboard's remembered sums before every request (`marketing.dashboard.cache`); the "remembered" column
times the same pages with them kept, as a second marketer opening a page sees it.

The baseline runs the same pages after swapping `dash_profile_daily` for a view that sums the campaign facts
on the fly and dropping the migration's fact indexes: what the pages would cost without them. Both are restored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GENERATOR = "v1"
DATABASE = f"marketing_bench_{GENERATOR}"
DAYS = 90
LAST_DAY = dt.date(2026, 3, 31)
SMALL_SELLERS, SMALL_CAMPAIGNS, SMALL_TARGETS = 100, 20, 300
LARGE_CAMPAIGNS, LARGE_TARGETS = 1_000, 100_000
FACT_INDEXES = ("ix_sp_target_daily_profile_target_date", "ix_sp_campaign_daily_profile_campaign_date",
                "ix_sp_search_term_daily_profile_campaign_date")
PASSWORD = "bench password 123"
FIGURE = re.compile(r'<script type="application/json" class="plotly-figure"[^>]*>(.*?)</script>', re.S)


def server_url() -> str:
    from marketing.config import normalise_database_url

    raw = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    return make_url(normalise_database_url(raw)).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


# --- seeding ------------------------------------------------------------------------------------------------

def ensure_database(rebuild: bool) -> None:
    with psycopg.connect(server_url(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if exists and rebuild:
            conn.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
            exists = None
        if exists:
            with psycopg.connect(database_url(DATABASE)) as db:
                done = db.execute("SELECT to_regclass('bench_done')").fetchone()[0]
            if done:
                print(f"seed: reusing database {DATABASE} (cache; --rebuild to regenerate)")
                migrate()  # a cache seeded before a new migration gets its tables (they start empty)
                return
            conn.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    seed()


def migrate() -> None:
    with make_app().app_context():
        from flask_migrate import upgrade

        upgrade()


def seed() -> None:
    started = time.perf_counter()
    migrate()
    app = make_app()
    rng = np.random.default_rng(7)
    dates = pd.date_range(LAST_DAY - dt.timedelta(days=DAYS - 1), LAST_DAY).date
    with psycopg.connect(database_url(DATABASE)) as conn:
        conn.execute("SET synchronous_commit = off")
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                               "('sp_target_daily', 'sp_campaign_daily', 'sp_search_term_daily') "
                               "AND indexname NOT LIKE 'pk_%'").fetchall()
        for name, _ in indexes:  # loading first and indexing after is several times faster
            conn.execute(f"DROP INDEX {name}")
        rows = 0
        for index in range(SMALL_SELLERS + 1):
            large = index == SMALL_SELLERS
            name = "Large Agency Client" if large else f"Demo Seller {index:03d}"
            profiles = [(1_000_000 + index, "US", "USD", "America/Los_Angeles")]
            if not large and index % 10 == 0:
                profiles.append((2_000_000 + index, "CA", "CAD", "America/Toronto"))
            seller_id = seller_rows(conn, name, index, profiles)
            for profile in profiles:
                rows += account_rows(conn, rng, seller_id, profile[0], dates, large)
            conn.commit()
            if large or index % 25 == 0:
                print(f"seed: {index + 1} sellers, {rows:,} fact rows, {time.perf_counter() - started:.0f} s",
                      flush=True)
        for _, definition in indexes:
            conn.execute(definition)
        conn.commit()
    with app.app_context():
        from marketing import accounts
        from marketing.dashboard.rollups import refresh_rollups
        from marketing.extensions import db
        from marketing.models import AdsProfile, Seller
        from marketing.sync.ingest import refresh_target_weeks

        for seller_id in db.session.scalars(db.select(Seller.id)):
            refresh_rollups(seller_id, dates[0], dates[-1])
        for profile_id in db.session.scalars(db.select(AdsProfile.profile_id)):  # what the ingest keeps
            refresh_target_weeks(db.session, profile_id, dates[0], dates[-1])
        accounts.create_user("bench@example.com", "admin", password=PASSWORD)
        db.session.commit()
    with psycopg.connect(database_url(DATABASE), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CREATE TABLE bench_done (generator text)")
    print(f"seed: done in {time.perf_counter() - started:.0f} s")


def seller_rows(conn, name: str, index: int, profiles: list[tuple]) -> int:
    now = dt.datetime.now(dt.UTC)
    seller_id = conn.execute("INSERT INTO sellers (name, region, marketplaces, created_at) "
                             "VALUES (%s, 'NA', %s::json, %s) RETURNING id", (name, '["M-US"]', now)).fetchone()[0]
    revoked = now if index % 17 == 3 else None  # a few sellers with problems, to rank first
    ads = conn.execute(
        "INSERT INTO connections (seller_id, api, refresh_token_ciphertext, token_last4, authorized_at, "
        "error_transient, revoked_at, created_at) VALUES (%s, 'ads', 'x', 'abcd', %s, false, %s, %s) RETURNING id",
        (seller_id, now, revoked, now)).fetchone()[0]
    for profile_id, country, currency, zone in profiles:
        conn.execute("INSERT INTO ads_profiles (connection_id, profile_id, country_code, currency_code, timezone, "
                     "marketplace_id, account_type, managed) VALUES (%s, %s, %s, %s, %s, %s, 'seller', true)",
                     (ads, profile_id, country, currency, zone, f"M-{country}"))
    status = "failed" if index % 13 == 5 else "succeeded"
    conn.execute("INSERT INTO sync_runs (seller_id, kind, status, stage, start_date, end_date, created_at, rows) "
                 "VALUES (%s, 'nightly', %s, 'done', %s, %s, %s, 0)",
                 (seller_id, status, LAST_DAY - dt.timedelta(days=DAYS), LAST_DAY, now))
    if index % 2 == 0:  # half the sellers have Sales & Traffic, for TACoS
        conn.execute("INSERT INTO connections (seller_id, api, refresh_token_ciphertext, token_last4, "
                     "error_transient, created_at) VALUES (%s, 'sp', 'x', 'efgh', false, %s)", (seller_id, now))
        for country, _currency in {(p[1], p[2]) for p in profiles}:
            frame = pd.DataFrame({"seller_id": seller_id, "marketplace_id": f"M-{country}",
                                  "date": pd.date_range(LAST_DAY - dt.timedelta(days=DAYS - 1), LAST_DAY).date,
                                  "currency_code": _currency, "ordered_sales": 5000.0, "units_ordered": 100,
                                  "total_order_items": 90, "sessions": 2000, "page_views": 3000})
            copy(conn, "sales_traffic_daily", frame)
    return seller_id


def account_rows(conn, rng, seller_id: int, profile_id: int, dates, large: bool) -> int:
    """Structure and 90 days of facts for one profile; campaign rows are the sums of their targets' rows."""
    campaigns, targets = (LARGE_CAMPAIGNS, LARGE_TARGETS) if large else (SMALL_CAMPAIGNS, SMALL_TARGETS)
    groups_per_campaign = 2
    now = dt.datetime.now(dt.UTC)
    base = profile_id * 1_000_000
    campaign_ids = base + np.arange(campaigns)
    states = rng.choice(["ENABLED", "PAUSED", "ARCHIVED"], campaigns, p=[0.8, 0.15, 0.05])
    copy(conn, "sp_campaigns", pd.DataFrame({
        "profile_id": profile_id, "campaign_id": campaign_ids, "seller_id": seller_id, "state": states,
        "synced_at": now, "name": [f"Campaign {i} – {w}" for i, w in enumerate(rng.choice(WORDS, campaigns))],
        "targeting_type": rng.choice(["MANUAL", "AUTO"], campaigns), "budget": 50.0, "budget_type": "DAILY",
        "placement_adjustments": "{}"}))
    group_ids = base + 500_000 + np.arange(campaigns * groups_per_campaign)
    default_bids = np.round(rng.uniform(0.3, 1.5, group_ids.size), 2)
    copy(conn, "sp_ad_groups", pd.DataFrame({
        "profile_id": profile_id, "ad_group_id": group_ids, "seller_id": seller_id, "state": "ENABLED",
        "synced_at": now, "campaign_id": np.repeat(campaign_ids, groups_per_campaign),
        "name": [f"Ad group {i}" for i in range(group_ids.size)], "default_bid": default_bids}))
    target_group = np.sort(rng.integers(0, group_ids.size, targets))
    target_campaign = target_group // groups_per_campaign
    target_ids = base + 700_000_000 + np.arange(targets)
    own_bid = np.where(rng.random(targets) < 0.3, np.nan, np.round(rng.uniform(0.2, 2.5, targets), 2))
    bid = np.where(np.isnan(own_bid), default_bids[target_group], own_bid)
    copy(conn, "sp_targets", pd.DataFrame({
        "profile_id": profile_id, "target_id": target_ids, "seller_id": seller_id, "state": "ENABLED",
        "synced_at": now, "kind": "keyword", "campaign_id": campaign_ids[target_campaign],
        "ad_group_id": group_ids[target_group], "text": [f"keyword {i}" for i in range(targets)],
        "match_type": rng.choice(["EXACT", "PHRASE", "BROAD"], targets), "bid": own_bid}))
    reach = rng.lognormal(3, 1, targets)
    ctr, cvr, price = rng.uniform(0.002, 0.02, targets), rng.uniform(0.03, 0.2, targets), rng.uniform(15, 60, targets)
    written = 0
    chunk = max(1, 1_000_000 // targets)  # days per COPY: about a million target rows at a time
    for first in range(0, len(dates), chunk):
        days = np.array(dates[first:first + chunk])
        shape = (days.size, targets)
        impressions = rng.poisson(np.broadcast_to(reach, shape))
        clicks = rng.binomial(impressions, np.broadcast_to(ctr, shape))
        cost = np.round(clicks * bid * rng.uniform(0.6, 1.0, shape), 2)
        orders = rng.binomial(clicks, np.broadcast_to(cvr, shape))
        sales = np.round(orders * price, 2)
        day_of = np.repeat(days, targets)
        copy(conn, "sp_target_daily", pd.DataFrame({
            "profile_id": profile_id, "date": day_of, "target_id": np.tile(target_ids, days.size),
            "campaign_id": np.tile(campaign_ids[target_campaign], days.size),
            "ad_group_id": np.tile(group_ids[target_group], days.size), "keyword_bid": np.tile(bid, days.size),
            "match_type": "EXACT", "impressions": impressions.ravel(), "clicks": clicks.ravel(),
            "cost": cost.ravel(), "orders": orders.ravel(), "units": orders.ravel(), "sales": sales.ravel()}))
        # Campaign rows are exact sums of their targets' rows, day by day.
        key = (np.arange(days.size)[:, None] * campaigns + target_campaign[None, :]).ravel()
        sums = {name: np.bincount(key, values.ravel(), days.size * campaigns) for name, values in
                (("impressions", impressions), ("clicks", clicks), ("cost", cost), ("orders", orders),
                 ("sales", sales))}
        copy(conn, "sp_campaign_daily", pd.DataFrame({
            "profile_id": profile_id, "date": np.repeat(days, campaigns),
            "campaign_id": np.tile(campaign_ids, days.size), "campaign_name": None,
            "campaign_status": np.tile(np.char.upper(states.astype(str)), days.size), "currency_code": None,
            "impressions": sums["impressions"].astype(np.int64), "clicks": sums["clicks"].astype(np.int64),
            "cost": np.round(sums["cost"], 2), "orders": sums["orders"].astype(np.int64),
            "units": sums["orders"].astype(np.int64), "sales": np.round(sums["sales"], 2)}))
        # One search term for every tenth target that had clicks that day.
        flat_clicks = clicks.ravel()
        searched = np.flatnonzero(flat_clicks)[::10]
        target_of = searched % targets
        copy(conn, "sp_search_term_daily", pd.DataFrame({
            "profile_id": profile_id, "date": day_of[searched], "target_id": target_ids[target_of],
            "search_term": np.char.add("search ", rng.choice(WORDS, searched.size).astype(str)),
            "campaign_id": campaign_ids[target_campaign[target_of]], "ad_group_id": group_ids[target_group[target_of]],
            "impressions": impressions.ravel()[searched], "clicks": flat_clicks[searched],
            "cost": cost.ravel()[searched], "orders": orders.ravel()[searched], "units": orders.ravel()[searched],
            "sales": sales.ravel()[searched]}))
        written += impressions.size + days.size * campaigns + searched.size
    return written


WORDS = np.array(["tent", "sleeping bag", "stove", "lantern", "backpack", "hiking boots", "water filter",
                  "camp chair", "hammock", "headlamp", "trekking poles", "cooler"])


def copy(conn, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    columns = ", ".join(frame.columns)
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as out:
        out.write(buffer.getvalue())


# --- measuring ----------------------------------------------------------------------------------------------

def make_app():
    from marketing import create_app
    from marketing.config import Settings

    settings = Settings(env="test", secret_key="bench", database_url=database_url(DATABASE),
                        redis_url=os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0",
                        token_encryption_keys=("x0Q2o7rpMI3G0Sm5FkdsKZqnYiv2D7uZKuVUBJOySSo=",))
    return create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "SERVER_NAME": None,
                       "INSTANCE_PATH": str(ROOT / "bench" / ".cache" / "instance")}, settings=settings)


def page_urls(conn) -> dict[str, list[str]]:
    rng = np.random.default_rng(11)
    large, large_profile = conn.execute(
        "SELECT s.id, p.profile_id FROM sellers s JOIN connections c ON c.seller_id = s.id AND c.api = 'ads' "
        "JOIN ads_profiles p ON p.connection_id = c.id WHERE s.name = 'Large Agency Client'").fetchone()
    small = [r[0] for r in conn.execute("SELECT id FROM sellers WHERE name LIKE 'Demo%' ORDER BY id")]
    campaigns = [r[0] for r in conn.execute(
        "SELECT campaign_id FROM sp_campaigns WHERE profile_id = %s", (large_profile,))]
    targets = [r[0] for r in conn.execute(
        "SELECT target_id FROM sp_targets WHERE profile_id = %s ORDER BY target_id LIMIT 5000", (large_profile,))]
    pick = lambda values, n: [int(v) for v in rng.choice(values, n)]  # noqa: E731
    n = 200
    return {
        "overview (30 d, 101 sellers)": ["/"] * n,
        "overview (90 d)": ["/?range=90d"] * n,
        "seller, demo-size (30 d)": [f"/sellers/{s}" for s in pick(small, n)],
        "seller, large (30 d)": [f"/sellers/{large}"] * n,
        "seller, large (90 d)": [f"/sellers/{large}?range=90d"] * n,
        "campaign, large (30 d)": [f"/sellers/{large}/campaigns/{c}?profile={large_profile}"
                                   for c in pick(campaigns, n)],
        "keyword, large (90 d)": [f"/sellers/{large}/targets/{t}?profile={large_profile}&range=90d"
                                  for t in pick(targets, n)],
        "search terms, large (30 d)": [f"/sellers/{large}/search-terms?profile={large_profile}"] * n,
    }


def measure(client, urls: dict[str, list[str]], requests: int,
            forget=None) -> dict[str, tuple[float, float, int]]:
    """(p50 ms, p95 ms, largest chart JSON in bytes) per page type; `forget()`, if given, runs before each timed
    request (the dashboard's remembered sums dropped, so every request reads them)."""
    results = {}
    for label, candidates in urls.items():
        for url in candidates[:3]:  # warm caches and plotly's lazy imports
            client.get(url)
        times, chart = [], 0
        for url in candidates[3:3 + requests]:
            if forget is not None:
                forget()
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")
            blocks = FIGURE.findall(response.get_data(as_text=True))
            chart = max([chart, *(len(b.encode()) for b in blocks)])
        times.sort()
        results[label] = (statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], chart)
        print(f"  {label}: p50 {results[label][0]:.0f} ms, p95 {results[label][1]:.0f} ms", file=sys.stderr,
              flush=True)
    return results


def without_rollup_and_indexes(conn) -> list[str]:
    """Swap the rollup for an equivalent view and drop the fact indexes; returns the index definitions."""
    definitions = [r[0] for r in conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = ANY(%s)", (list(FACT_INDEXES),))]
    conn.execute("ALTER TABLE dash_profile_daily RENAME TO dash_profile_daily_kept")
    conn.execute("""
        CREATE VIEW dash_profile_daily AS
        SELECT c.seller_id, f.profile_id, f.date, p.currency_code,
               SUM(f.impressions)::bigint AS impressions, SUM(f.clicks)::bigint AS clicks,
               SUM(f.cost)::numeric(14, 4) AS cost, SUM(f.orders)::int AS orders, SUM(f.units)::int AS units,
               SUM(f.sales)::numeric(14, 4) AS sales
        FROM sp_campaign_daily f
        JOIN ads_profiles p ON p.profile_id = f.profile_id
        JOIN connections c ON c.id = p.connection_id AND c.api = 'ads'
        GROUP BY c.seller_id, f.profile_id, f.date, p.currency_code""")
    for name in FACT_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.commit()
    return definitions


def restore(conn, definitions: list[str]) -> None:
    conn.execute("DROP VIEW IF EXISTS dash_profile_daily")
    conn.execute("ALTER TABLE dash_profile_daily_kept RENAME TO dash_profile_daily")
    for definition in definitions:
        conn.execute(definition)
    conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="measured requests per page type")
    parser.add_argument("--rebuild", action="store_true", help="drop the cached database and seed again")
    args = parser.parse_args()
    guard = psycopg.connect(server_url(), autocommit=True)  # held until exit: one run at a time
    if not guard.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (DATABASE,)).fetchone()[0]:
        raise SystemExit(f"another bench/pages.py run is using {DATABASE}; wait for it to finish")
    ensure_database(args.rebuild)

    from marketing.clock import set_today
    from marketing.extensions import db

    set_today(LAST_DAY + dt.timedelta(days=1))
    app = make_app()
    with psycopg.connect(database_url(DATABASE)) as conn, app.app_context():
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                  for t in ("sellers", "sp_campaigns", "sp_targets", "sp_target_daily", "sp_search_term_daily",
                            "sp_campaign_daily", "dash_profile_daily")}
        print("data: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        from marketing.dashboard.rollups import refresh_rollups

        large = conn.execute("SELECT id FROM sellers WHERE name = 'Large Agency Client'").fetchone()[0]
        started = time.perf_counter()
        refresh_rollups(large, LAST_DAY - dt.timedelta(days=DAYS - 1), LAST_DAY)
        print(f"refresh_rollups(large seller, 90 days): {(time.perf_counter() - started) * 1000:.0f} ms")
        version = conn.info.server_version // 10000
        urls = page_urls(conn)
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.com", "password": PASSWORD})
        forget = app.extensions["dashboard_cache"].clear
        ours = measure(client, urls, args.requests, forget)
        remembered = measure(client, urls, args.requests)
        db.session.remove()
        db.engine.dispose()
        definitions = without_rollup_and_indexes(conn)
        try:
            baseline = measure(client, urls, max(10, args.requests // 4), forget)
        finally:
            db.session.remove()
            db.engine.dispose()
            restore(conn, definitions)
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"\n{args.requests} requests per page type (baseline: {max(10, args.requests // 4)}), "
          f"server time in ms, PostgreSQL {version}, {os.cpu_count()} CPUs, load average {load}")
    print(f"{'page':<30}{'p50':>8}{'p95':>8}   {'remembered p50':>14}{'p95':>6}   {'baseline p50':>12}{'p95':>8}   "
          f"{'chart JSON':>10}")
    for label, (p50, p95, chart) in ours.items():
        b50, b95, _ = baseline[label]
        r50, r95, _ = remembered[label]
        size = f"{chart / 1024:.1f} KB" if chart else "—"
        print(f"{label:<30}{p50:>8.0f}{p95:>8.0f}   {r50:>14.0f}{r95:>6.0f}   {b50:>12.0f}{b95:>8.0f}   {size:>10}")
    print("\np50/p95 and baseline: every request reads its sums (the dashboard's remembered sums dropped before each); "
          "remembered: the same pages again, sums kept at the sellers' data versions")
    print("baseline = same pages with dash_profile_daily replaced by a view over sp_campaign_daily and without "
          + ", ".join(FACT_INDEXES))


if __name__ == "__main__":
    main()
