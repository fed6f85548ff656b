"""Ingest benchmark: a 1M-row spTargeting report from loopback HTTP to committed PostgreSQL rows.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--days 31]

The report (gzip JSON array, the columns the product requests) is generated once into bench/.cache/. Every
case runs in a fresh child process (so its peak RSS is its own) and includes the same download and JSON
parse through `AdsClient.iter_report_rows`; only what happens to the rows differs:

  ingest (new)        `ingest_report` into an empty window, committed
  ingest (re-pull)    the same report again: the window is replaced
  pandas to_sql       the same fields, DataFrame chunks of 50k → `to_sql(method="multi")` into the fact table
  raw COPY            the same fields straight into the fact table with COPY (no checks, no staging): the row
                      dicts of `iter_report_rows` (json's C decoder, Decimal numbers) → `copy.write_row`
  parse only          download + parse, no database: the floor under every other case
  database floor      no download, no parse: the rows' COPY text, rendered beforehand, into the fact table —
                      what PostgreSQL alone needs to take them in (not a target; shows the machine's ceiling)

pandas is given --pandas-timeout seconds (default 600); past that it is stopped and reported as skipped.

Database: TEST_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/test; a scratch database is created and
dropped.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import gzip
import http.server
import multiprocessing
import os
import resource
import secrets
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
PROFILE_ID = 3_141_592_653_589_793
END = dt.date(2025, 6, 17)
FIELDS = {  # fact column -> report field, for the pandas and raw COPY cases
    "date": "date", "target_id": "keywordId", "campaign_id": "campaignId", "ad_group_id": "adGroupId",
    "keyword_bid": "keywordBid", "match_type": "matchType", "impressions": "impressions", "clicks": "clicks",
    "cost": "cost", "orders": "purchases7d", "units": "unitsSoldClicks7d", "sales": "sales7d",
}  # fmt: skip


# -- the report ----------------------------------------------------------------------------------------


def report_path(rows: int, days: int) -> Path:
    path = CACHE / f"spTargeting-{rows}-{days}d.json.gz"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        started = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        with gzip.open(tmp, "wt", compresslevel=6) as out:
            _write_report(out, rows, days)
        tmp.rename(path)
        print(f"generated {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f}s")
    return path


def _write_report(out, rows: int, days: int) -> None:
    """Rows as Amazon writes them: one per target and day with impressions, ids as integers, money 2 dp."""
    from marketing.amazon.ads import SP_TARGETING_COLUMNS

    rng = np.random.default_rng(7)
    targets = -(-rows // days)
    target_ids = rng.choice(10**14, size=targets, replace=False) + 10**14
    ad_groups = rng.choice(10**14, size=targets // 12 + 1, replace=False) + 2 * 10**14
    campaigns = rng.choice(10**14, size=targets // 60 + 1, replace=False) + 3 * 10**14
    group_of = np.arange(targets) // 12
    bids = np.round(rng.uniform(0.2, 3.0, targets), 2)
    match = np.array(["EXACT", "PHRASE", "BROAD", "TARGETING_EXPRESSION"])[rng.integers(0, 4, targets)]
    out.write("[")
    first = True
    for day_index in range(days):
        day = (END - dt.timedelta(days=days - 1 - day_index)).isoformat()
        n = min(targets, rows - day_index * targets)
        if n <= 0:
            break
        impressions = rng.geometric(0.01, n)
        clicks = rng.binomial(impressions, 0.006)
        cpc = np.round(bids[:n] * rng.uniform(0.4, 1.0, n), 2)
        cost = np.round(clicks * cpc, 2)
        p1 = rng.binomial(clicks, 0.06)
        extra = [rng.binomial(clicks - p1, q) for q in (0.02, 0.01, 0.01)]
        purchases = {"1d": p1, "7d": p1 + extra[0], "14d": p1 + extra[0] + extra[1], "30d": p1 + sum(extra)}
        price = np.round(rng.uniform(9.99, 59.99, n), 2)
        for i in range(n):
            t = i
            g = group_of[t]
            c = g // 5
            row = {
                "date": day, "impressions": int(impressions[i]), "clicks": int(clicks[i]), "cost": f"{cost[i]:.2f}",
                "costPerClick": f"{cpc[i]:.2f}" if clicks[i] else "0",
                "clickThroughRate": f"{100 * clicks[i] / impressions[i]:.4f}",
            }  # fmt: skip
            for w, count in purchases.items():
                k = int(count[i])
                row[f"purchases{w}"] = row[f"purchasesSameSku{w}"] = k
                row[f"unitsSoldClicks{w}"] = row[f"unitsSoldSameSku{w}"] = k + k // 3
                row[f"sales{w}"] = row[f"attributedSalesSameSku{w}"] = f"{k * price[i]:.2f}"
            sales7 = purchases["7d"][i] * price[i]
            row.update({
                "salesOtherSku7d": "0", "unitsSoldOtherSku7d": 0,
                "acosClicks7d": f"{100 * cost[i] / sales7:.2f}" if sales7 else "0",
                "acosClicks14d": f"{100 * cost[i] / sales7:.2f}" if sales7 else "0",
                "roasClicks7d": f"{sales7 / cost[i]:.2f}" if cost[i] else "0",
                "roasClicks14d": f"{sales7 / cost[i]:.2f}" if cost[i] else "0",
                "keywordId": int(target_ids[t]), "keyword": f"trail running shoes {t % 997}",
                "keywordBid": f"{bids[t]:.2f}", "keywordType": "BROAD" if match[t] != "EXACT" else "EXACT",
                "matchType": str(match[t]), "targeting": f"trail running shoes {t % 997}",
                "adKeywordStatus": "ENABLED", "adGroupId": int(ad_groups[g]), "adGroupName": f"Ad group {g}",
                "campaignId": int(campaigns[c]), "campaignName": f"SP - Trail shoes - {c}",
                "campaignStatus": "ENABLED", "campaignBudgetAmount": "50.00", "campaignBudgetType": "DAILY_BUDGET",
                "campaignBudgetCurrencyCode": "USD", "portfolioId": None,
                "topOfSearchImpressionShare": f"{rng.uniform(0, 40):.2f}" if i % 3 == 0 else "0",
            })  # fmt: skip
            body = ",".join(f'"{name}":{_json(name, row[name])}' for name in SP_TARGETING_COLUMNS)
            out.write(("{" if first else ",{") + body + "}")
            first = False
    out.write("]")


_STRINGS = {
    "date",
    "keyword",
    "keywordType",
    "matchType",
    "targeting",
    "adKeywordStatus",
    "adGroupName",
    "campaignName",
    "campaignStatus",
    "campaignBudgetType",
    "campaignBudgetCurrencyCode",
}


def _json(name: str, value) -> str:
    if value is None:
        return "null"
    return f'"{value}"' if name in _STRINGS else str(value)  # numbers: ints and pre-formatted decimals


class _Handler(http.server.BaseHTTPRequestHandler):
    path_on_disk: Path

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")  # like S3: gzip without Content-Encoding
        self.send_header("Content-Length", str(self.path_on_disk.stat().st_size))
        self.end_headers()
        with self.path_on_disk.open("rb") as body, contextlib.suppress(ConnectionError):  # a stopped case
            shutil.copyfileobj(body, self.wfile, 1 << 20)

    def log_message(self, *args):
        pass


def serve(path: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    handler = type("Handler", (_Handler,), {"path_on_disk": path})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/report.json.gz", server


# -- the cases (each in its own process) ---------------------------------------------------------------


def _rows(url: str):
    import httpx

    from marketing.amazon import AdsClient, Hosts, Region

    client = AdsClient(httpx.Client(timeout=120), Hosts(), Region("NA"), "bench", token_source=None)
    return client.iter_report_rows(url)


def _extract(row: dict) -> tuple:
    from decimal import Decimal

    return tuple(
        Decimal(row[f]) if f in ("cost", "sales7d", "keywordBid") and type(row[f]) is int else row[f]
        for f in FIELDS.values()
    )


def run_case(case: str, url: str, db_url: str, start: dt.date) -> tuple[int, float, float]:
    """(rows, seconds, peak RSS in MB) of one case, measured in this (child) process."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(db_url)
    started = time.perf_counter()
    if case.startswith("ingest"):
        from marketing.sync.ingest import ingest_report

        with Session(engine) as session:
            rows = ingest_report(session, "spTargeting", _rows(url), profile_id=PROFILE_ID, start=start, end=END,
                                 currency="USD", attribution_days=7)  # fmt: skip
            session.commit()
    elif case == "pandas to_sql":
        rows = _pandas(url, engine)
    elif case == "raw COPY":
        rows = _raw_copy(url, engine)
    elif case == "database floor":
        rows = _floor(url, engine)
    else:
        rows = sum(1 for _ in _rows(url))
    seconds = time.perf_counter() - started
    return rows, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pandas(url: str, engine) -> int:
    import itertools

    import pandas as pd

    from marketing.models import SpTargetDaily

    types = {column.name: column.type for column in SpTargetDaily.__table__.c}  # else Decimal binds as text
    rows = 0
    iterator = iter(_rows(url))
    with engine.begin() as connection:
        while chunk := list(itertools.islice(iterator, 50_000)):
            frame = pd.DataFrame.from_records([_extract(r) for r in chunk], columns=list(FIELDS))
            frame["profile_id"] = PROFILE_ID
            frame.to_sql("sp_target_daily", connection, if_exists="append", index=False, method="multi",
                         chunksize=2000, dtype=types)  # fmt: skip
            rows += len(frame)
    return rows


def _raw_copy(url: str, engine) -> int:
    rows = 0
    columns = ", ".join(["profile_id", *FIELDS])
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY sp_target_daily ({columns}) FROM STDIN") as copy:
            for row in _rows(url):
                copy.write_row((PROFILE_ID, *_extract(row)))
                rows += 1
    return rows


def _floor(text_path: str, engine) -> int:
    rows = 0
    columns = ", ".join(["profile_id", *FIELDS_IN_COPY_ORDER])
    with engine.begin() as connection, open(text_path, "rb") as source:
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY sp_target_daily ({columns}) FROM STDIN") as copy:
            while block := source.read(1 << 20):
                copy.write(block)
                rows += block.count(b"\n")
    return rows


FIELDS_IN_COPY_ORDER = ("date", "target_id", "campaign_id", "ad_group_id", "impressions", "clicks", "cost", "orders",
                        "units", "sales", "keyword_bid", "match_type")  # fmt: skip


def floor_text(path: Path, days: int) -> Path:
    """The report's rows as COPY text, rendered once (untimed) by the ingest's own bulk mapper."""
    import zlib

    from marketing.amazon.streams import ArrayStream
    from marketing.sync.rows import ads_part

    text_path = path.with_suffix(".copy")
    if text_path.exists():
        return text_path
    part = ads_part("spTargeting", PROFILE_ID, END - dt.timedelta(days=days - 1), END, "USD", 7)
    assert part.mapper.columns == FIELDS_IN_COPY_ORDER, part.mapper.columns

    def chunks():
        decompressor = zlib.decompressobj(wbits=31)
        with path.open("rb") as body:
            while chunk := body.read(1 << 20):
                yield decompressor.decompress(chunk)

    tmp = text_path.with_suffix(".tmp")
    with tmp.open("w") as out:
        for batch in ArrayStream(chunks()).raw_batches():
            out.write(part.mapper.fast.copy_block(part.mapper.fast.decode(batch), f"{PROFILE_ID}\t"))
    tmp.rename(text_path)
    return text_path


def _rendered(path: Path, days: int) -> str:
    """`floor_text` in a child process, so that this one (whose peak RSS the children inherit) stays small."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return str(pool.submit(floor_text, path, days).result())


def _in_child(case: str, *args, timeout: float | None = None) -> tuple[int, float, float] | None:
    """The case's result, or None if it ran past ``timeout`` seconds (the child is then stopped)."""
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=context)
    try:
        return pool.submit(run_case, case, *args).result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        for process in list(pool._processes.values()):  # our own child, stopped by its handle
            process.terminate()
        return None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- main ------------------------------------------------------------------------------------------------


CASES = ("parse only", "database floor", "raw COPY", "pandas to_sql", "ingest (new)", "ingest (re-pull)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES))
    parser.add_argument("--pandas-timeout", type=float, default=600, help="seconds before pandas is skipped")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    path = report_path(args.rows, args.days)
    url, server = serve(path)
    start = END - dt.timedelta(days=args.days - 1)
    with scratch_database() as db_url:
        results = {}
        for case in [c for c in CASES if c in args.cases.split(",")]:
            if case in ("database floor", "raw COPY", "pandas to_sql", "ingest (new)"):
                _truncate(db_url)
            source = _rendered(path, args.days) if case == "database floor" else url
            timeout = args.pandas_timeout if case == "pandas to_sql" else None
            results[case] = _in_child(case, source, db_url, start, timeout=timeout)
            shown = f"{results[case][1]:.1f}s" if results[case] else f"skipped after {timeout:.0f}s"
            print(f"  {case}: {shown}", file=sys.stderr)
        if "ingest (re-pull)" in results:
            _check(db_url, args.rows)
    server.shutdown()
    _print_table(results, args.rows, path)


def _truncate(db_url: str) -> None:
    from sqlalchemy import create_engine, text

    with create_engine(db_url).begin() as connection:
        connection.execute(text("TRUNCATE sp_target_daily"))
        connection.execute(text("CHECKPOINT"))


def _check(db_url: str, rows: int) -> None:
    from sqlalchemy import create_engine, text

    with create_engine(db_url).connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM sp_target_daily")).scalar_one()
    assert count == rows, f"expected {rows} rows after the re-pull, found {count}"


class scratch_database:  # noqa: N801 (used as a context manager)
    def __enter__(self) -> str:
        import psycopg
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        from marketing.config import normalise_database_url
        from marketing.models import SpTargetDaily, SpTargetWeekly

        server = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
        url = make_url(normalise_database_url(server))
        self.admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.name = f"bench_ingest_{secrets.token_hex(4)}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        db_url = url.set(database=self.name).render_as_string(hide_password=False)
        engine = create_engine(db_url)
        SpTargetDaily.__table__.create(engine)
        SpTargetWeekly.__table__.create(engine)  # the ingest re-sums the weeks it touches (`sync.ingest`)
        engine.dispose()
        return db_url

    def __exit__(self, *exc) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _print_table(results: dict, rows: int, path: Path) -> None:
    raw = results["raw COPY"][0] / results["raw COPY"][1] if results.get("raw COPY") else float("nan")
    print(f"\n{rows:,} spTargeting rows, {path.stat().st_size / 1e6:.0f} MB gzip, {os.cpu_count()} CPUs; "
          "every case includes download + JSON parse")  # fmt: skip
    print(f"{'case':<18}{'seconds':>9}{'rows/s':>10}{'% of raw COPY':>15}{'peak RSS MB':>13}  target")
    targets = {"ingest (new)": "≥ 60,000 rows/s", "ingest (re-pull)": "≥ 40,000 rows/s"}
    for case, result in results.items():
        if result is None:
            print(f"{case:<18}  skipped: still running after --pandas-timeout, stopped")
            continue
        count, seconds, rss = result
        rate = count / seconds
        target = targets.get(case, "")
        if target:
            ok = rate >= int(target[2:8].replace(",", "")) and rss <= 300
            target = f"{target}, ≤ 300 MB: {'met' if ok else 'NOT met'}"
        print(f"{case:<18}{seconds:>9.1f}{rate:>10,.0f}{100 * rate / raw:>14.0f}%{rss:>13.0f}  {target}")


if __name__ == "__main__":
    main()
