"""Loading the bid engine's per-target aggregates from PostgreSQL, timed on its own (issue 6).

Uses the dashboard benchmark's cached database (`bench/pages.py` seeds it: one seller with 100,000 targets and
90 days of daily rows). Prints the grouped query the suggestion job runs (`marketing.bids.inputs.load`) beside a
baseline that fetches the raw daily rows and aggregates them in pandas, and the engine's time on the result.

    .venv/bin/python bench/bids_inputs.py        (run bench/pages.py once first)
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import text

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("bench_pages", HERE / "pages.py")
pages = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pages)


def main() -> None:
    from marketing.bids.inputs import load
    from marketing.extensions import db
    from marketing.optimize.bids import suggest_bids
    from marketing.optimize.settings import BidSettings

    app = pages.make_app()
    with app.app_context():
        seller_id, last_day = db.session.execute(text(
            "SELECT s.id, max(d.date) FROM sellers s JOIN sp_targets t ON t.seller_id = s.id "
            "JOIN sp_target_daily d ON d.profile_id = t.profile_id AND d.target_id = t.target_id "
            "WHERE s.name = 'Large Agency Client' AND d.date > CURRENT_DATE - 400 GROUP BY s.id")).one()
        day = last_day + pd.Timedelta(days=4).to_pytimedelta()
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            frame = load(seller_id, 30, day=day)
            timings.append(time.perf_counter() - started)
            db.session.rollback()
        started = time.perf_counter()
        raw = pd.read_sql(text(
            "SELECT d.target_id, d.clicks, d.orders, d.cost, d.sales FROM sp_target_daily d "
            "JOIN sp_targets t ON t.profile_id = d.profile_id AND t.target_id = d.target_id "
            "WHERE t.seller_id = :seller AND d.date > :since"), db.session.connection(),
            params={"seller": seller_id, "since": day - pd.Timedelta(days=94).to_pytimedelta()})
        raw.groupby("target_id").sum()
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        result = suggest_bids(frame, BidSettings(), today=day)
        engine = time.perf_counter() - started
    print(f"large seller: {len(frame):,} targets, 90 days of daily rows ({len(raw):,} rows read by the baseline)")
    print(f"{'step':52}{'seconds':>10}")
    print(f"{'load aggregates: one grouped query (best of 3)':52}{min(timings):10.2f}   all: "
          + ", ".join(f"{t:.2f}" for t in timings))
    print(f"{'baseline: fetch raw daily rows + pandas groupby':52}{baseline:10.2f}")
    print(f"{'engine on those aggregates':52}{engine:10.2f}   ({len(result):,} rows out)")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # --help says what it does, nothing runs
    main()
