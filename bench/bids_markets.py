"""Benchmark: does the bid engine make money on markets it was not built for? (issue 12)

Every market shape of the sandbox (`marketing/sandbox/shapes.py`) × seeds × weekly cycles, four policies on
sandbox seller 0's first profile (the only seller, demo size), target ACoS 30 %:

* engine — the product end to end, in-process, exactly as `bench/bids_quality.py` drives it (its `product_app`,
  `connect` and `engine_week`: weekly sync → the suggestion run it triggers → approve all → apply), with each
  ASIN's price and all-in unit cost entered as a seller would (`--no-costs` leaves them out);
* naive — the ±20 % rule (`marketing.optimize.naive`) on a twin market of the same seed and shape, in-process:
  last 7 days' cost and 7-day attributed sales as the report shows them today → new bids;
* static — the week-0 bids, never changed (evaluated, not simulated);
* oracle — the shape's best bids for profit under the ACoS cap (`sandbox.oracle`, budgets counted).

Cycle k (k = 1..weeks): the engine and the naive rule act, then the bids in force are scored on the engine's
market with the oracle's noise-free expected daily figures (profit, sales, ACoS; budgets counted except in
`second-price`), and the market runs 7 days. Per shape and seed:

* capture = (engine − static) ÷ (oracle − static) on expected daily profit, mean of the last two weeks;
* cumulative profit (7 × expected daily profit, summed over the weeks) against static and naive;
* the engine's highest weekly ACoS from week 3;
* changes paid: the share of the engine's applied bid changes that raised expected profit (each change undone
  alone, the other bids as applied);
* diagnostics seen from the market: the engine's bids against the oracle's, the share of changes that moved toward
  the oracle's bid, raises in budget-bound campaigns (≥ 95 % of budget spent on 4 of the last 7 days), and where
  the true duds' bids (CVR ≤ 0.1 %) ended.

Targets from the issue, on every shape and seed: cumulative profit above static and above naive, ACoS ≤ target
+ 2 points from week 3; capture ≥ 70 % on each shape's mean (capture of the seeds' mean profits).

    .venv/bin/python bench/bids_markets.py [--shapes bid-share duds] [--seeds 1 2 3] [--weeks 8] [--jobs 2]
                                           [--json results.json]

The held-out seeds 101–103 are for once the engine's settings are frozen. Runs on SQLite with an embedded Redis
in a scratch folder per case; `--jobs` cases run side by side in child processes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TARGET_ACOS = 0.30
ACOS_SLACK = 0.02
CAPTURE_TARGET = 0.70
TODAY = date(2025, 6, 2)  # a fixed market day: the same run gives the same figures whatever the date
POLICIES = ("static", "naive", "engine", "oracle")
MEASURE_NOTE = "difference-in-differences 14 days after each applied change, against untouched targets"
# The sandbox answers at once and has no rate limits: poll and pace the sync for that (as tests/sync does), or
# most of a run is spent sleeping between report checks. Unknown keys are ignored, so a renamed one only slows.
FAST_SYNC = {"SYNC_POLL_SECONDS": 0.05, "SYNC_POLL_CAP_SECONDS": 0.2, "SYNC_RETRY_SECONDS": 0.1,
             "SYNC_RETRY_CAP_SECONDS": 0.5, "SYNC_CALL_WAIT_SECONDS": 0.3, "SYNC_RATE_PER_SECOND": 1000.0,
             "SYNC_RATE_BURST": 1000}


# -- the product: the one place this benchmark touches it ----------------------------------------------------
def _bids_quality():
    spec = importlib.util.spec_from_file_location("bench_bids_quality", HERE / "bids_quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Product:
    """The product end to end on one sandbox, through what `bids_quality.py` uses (sync → suggest → approve all
    → apply), so a change to the product's interfaces is fixed there once for both benchmarks."""

    def __init__(self, folder: str, sbx, today: date):
        from marketing import clock

        self.quality = _bids_quality()
        self.clock = clock
        self.folder = folder
        self.app = self.quality.product_app(folder, sbx)
        self.app.config.update(FAST_SYNC)
        self.ctx = self.app.app_context()
        self.ctx.push()
        from flask_migrate import upgrade

        logging.disable(logging.INFO)  # the migrations' progress lines
        upgrade()
        clock.set_today(today)
        self.seller_id, self.profile_id, self.user_id = self.quality.connect(sbx)

    def enter_costs(self, book) -> None:
        """What a seller types on the products page: each ASIN's price, unit cost and fees per unit (entered as
        the FBA fee, with a 0 % referral fee since the sandbox's fee is one amount per unit), so the engine knows
        the margins the oracle knows."""
        from decimal import Decimal

        from marketing.extensions import db
        from marketing.models import Product

        c = book.cat
        for p, asin in enumerate(c.asin):
            db.session.add(Product(seller_id=self.seller_id, asin=asin, price=Decimal(str(round(c.price[p], 2))),
                                   unit_cost=Decimal(str(round(c.unit_cost[p], 2))), referral_fee_pct=Decimal(0),
                                   fba_fee=Decimal(str(round(c.fees[p], 2))),
                                   currency_code=book.profile.currency, archived=False))
        db.session.commit()

    def week(self, today: date) -> dict:
        self.clock.set_today(today)
        return self.quality.engine_week(self.seller_id, self.user_id)

    def measured(self) -> tuple[int, int]:
        """(applied changes the product itself measured as paid, applied changes it measured): its own
        difference-in-differences verdicts, stored on each applied suggestion (`payload["measured"]`)."""
        from sqlalchemy import select

        from marketing.extensions import db
        from marketing.models import Suggestion

        verdicts = [p["measured"]["change_paid"] for p in db.session.scalars(
            select(Suggestion.payload).where(Suggestion.seller_id == self.seller_id)) if p and "measured" in p]
        return sum(bool(v) for v in verdicts), len(verdicts)

    def close(self) -> None:
        from marketing.extensions import db
        from marketing.jobs import embedded

        db.session.remove()
        self.ctx.pop()
        embedded.stop(self.folder)
        self.clock.set_today(None)


def naive_rule(bids: np.ndarray, cost: np.ndarray, sales: np.ndarray) -> np.ndarray:
    from marketing.optimize.naive import naive_bids

    return naive_bids(bids, cost, sales, TARGET_ACOS, step=0.20)


# -- one case: a shape and a seed ------------------------------------------------------------------------------
class Naive:
    """The ±20 % rule on its own market (same seed and shape), in-process: what last week's report shows."""

    def __init__(self, seed: int, shape: str, profile_id: int, today: date):
        from marketing.sandbox.accounts import Accounts
        from marketing.sandbox.catalog import ENABLED
        from marketing.sandbox.market import Market

        self.market = Market(seed, Accounts(seed, "demo", 1), today, shape)
        self.book = self.market.book(profile_id)
        self.enabled = ENABLED

    def week(self) -> int:
        book, today = self.book, self.market.today_ordinal
        cost, sales = np.zeros(book.n), np.zeros(book.n)
        for d in range(today - 7, today):
            day = book.day(d)
            cost += day.cost
            sales += day.attributed(d, today, 7, book.n)["sales"]
        bids = book.bids(today)
        new = np.clip(np.round(naive_rule(bids, cost, sales), 2), book.min_bid, book.max_bid)
        idx = np.flatnonzero((book.target_states(today) == self.enabled) & (np.abs(new - bids) >= 0.005))
        if idx.size:
            book.set_bids(idx, new[idx])
        return int(idx.size)


def _figures(summary: dict) -> dict:
    return {"profit": summary["profit"], "sales": summary["sales"], "acos": summary["acos"] or 0.0}


def changes_paid(book, before: np.ndarray, after: np.ndarray) -> tuple[int, int]:
    """(changes that raised expected profit, changes) — each change undone alone against the bids as applied."""
    from marketing.sandbox import oracle

    changed = np.flatnonzero(np.abs(after - before) >= 0.005)
    base = oracle.summary(book, after)["profit"]
    paid = 0
    for i in changed:
        undone = after.copy()
        undone[i] = before[i]
        paid += base > oracle.summary(book, undone)["profit"]
    return paid, int(changed.size)


def run_case(shape: str, seed: int, weeks: int, today: date, costs: bool) -> dict:
    """Weekly series of the four policies on one shape and seed."""
    from marketing.sandbox import oracle
    from marketing.sandbox.testing import running_sandbox

    started = time.monotonic()
    logging.basicConfig(level=logging.ERROR)
    series: dict[str, list[dict]] = {p: [] for p in POLICIES}
    paid = total = 0
    activity, diagnostics = [], {}
    with (
        running_sandbox(seed=seed, sellers=1, report_delay=0.0, today=today, market=shape) as sbx,
        tempfile.TemporaryDirectory(prefix="bids-markets-") as folder,
    ):
        product = Product(folder, sbx, today)
        try:
            book = sbx.sandbox.market.book(product.profile_id)
            if costs:
                product.enter_costs(book)
            naive = Naive(seed, shape, product.profile_id, today)
            static = book.bids(book.market.today_ordinal).copy()
            for _ in range(weeks):
                day = book.market.today_ordinal
                before = book.bids(day - 1)
                activity.append(product.week(book.market.today))
                naive.week()
                after = book.bids(day)
                p, t = changes_paid(book, before, after)
                paid, total = paid + p, total + t
                best = oracle.optimal_bids(book, TARGET_ACOS, "profit")
                diagnose(diagnostics, book, before, after, best, static)
                series["engine"].append(_figures(oracle.summary(book, after)))
                series["naive"].append(_figures(oracle.summary(naive.book, naive.book.bids(day))))
                series["static"].append(_figures(oracle.summary(book, static)))
                series["oracle"].append(_figures(oracle.summary(book, best)))
                sbx.admin.advance(7)
                naive.market.advance(7)
            own_paid, own_measured = product.measured()
        finally:
            product.close()
    return {"shape": shape, "seed": seed, "series": series, "changes_paid": paid, "changes": total,
            "measured_paid": own_paid, "measured": own_measured,
            "diagnostics": diagnostics, "activity": activity, "seconds": time.monotonic() - started, "cpu": _cpu()}


def _cpu() -> float:
    """CPU seconds of this process so far (the product, the sandbox's threads, the twin market)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def budget_bound(book, day: int) -> np.ndarray:
    """Campaigns that spent ≥ 95 % of their daily budget on at least 4 of the 7 days before `day`."""
    c = book.cat
    hits = np.zeros(len(c.c_id))
    for d in range(day - 7, day):
        hits += np.bincount(c.t_campaign, weights=book.day(d).cost, minlength=len(c.c_id)) >= 0.95 * c.c_budget
    return hits >= 4


def diagnose(diag: dict, book, before, after, best, static) -> None:
    """Where the engine's bids go, seen from the market (adds to `diag`; the last week's figures overwrite)."""
    day = book.market.today_ordinal
    moved, up = np.abs(after - before) >= 0.005, after >= before + 0.005
    diag["changes"] = diag.get("changes", 0) + int(moved.sum())
    diag["toward"] = diag.get("toward", 0) + int((moved & (np.abs(after - best) < np.abs(before - best))).sum())
    diag["raises"] = diag.get("raises", 0) + int(up.sum())
    diag["raises_bound"] = diag.get("raises_bound", 0) + int((up & budget_bound(book, day)[book.cat.t_campaign]).sum())
    live = book.serving(day) & (best > book.min_bid)
    diag["bid_vs_oracle"] = float(np.median(after[live] / best[live])) if live.any() else float("nan")
    dud = book.serving(day) & (book.cat.t_cvr <= 0.001)
    diag["dud_bids"] = float(np.mean(after[dud] / static[dud])) if dud.sum() >= 5 else None


# -- verdicts ------------------------------------------------------------------------------------------------
def _last_two(series: list[dict]) -> float:
    return statistics.fmean(week["profit"] for week in series[-2:])


def capture(engine: float, static: float, oracle: float) -> float:
    gain = oracle - static
    return (engine - static) / gain if gain > 0 else float("nan")


def case_verdict(case: dict) -> dict:
    s = case["series"]
    cum = {p: 7 * sum(week["profit"] for week in s[p]) for p in POLICIES}
    acos_after = [week["acos"] for week in s["engine"][2:]] or [week["acos"] for week in s["engine"]]
    return {
        "capture": capture(*(_last_two(s[p]) for p in ("engine", "static", "oracle"))),
        "cum": cum,
        "vs_static": cum["engine"] - cum["static"],
        "vs_naive": cum["engine"] - cum["naive"],
        "max_acos": max(acos_after),
        "paid": case["changes_paid"] / case["changes"] if case["changes"] else float("nan"),
        "changes": case["changes"],
    }


def shape_table(shape: str, cases: list[dict]) -> dict:
    from marketing.sandbox.shapes import SHAPES

    weeks = len(cases[0]["series"]["engine"])
    print(f"\n== {shape}: {SHAPES[shape].summary} ==")
    print("weekly expected daily figures, mean over seeds: profit / sales / ACoS")
    print(f"{'week':>4}  " + "  ".join(f"{p:>24}" for p in POLICIES))
    for w in range(weeks):
        cells = []
        for p in POLICIES:
            rows = [c["series"][p][w] for c in cases]
            profit, sales = (statistics.fmean(r[k] for r in rows) for k in ("profit", "sales"))
            acos = statistics.fmean(r["acos"] for r in rows)
            cells.append(f"{profit:8.1f} {sales:8.1f} {acos:6.1%}")
        print(f"{w + 1:>4}  " + "  ".join(cells))
    print(f"{'seed':>6} {'cum static':>11} {'cum naive':>10} {'cum engine':>11} {'cum oracle':>11} "
          f"{'eng-static':>11} {'eng-naive':>10} {'capture':>8} {'max ACoS':>9} {'paid':>6} {'changes':>8}  verdict")
    verdicts = {}
    for case in cases:
        v = case_verdict(case)
        verdicts[case["seed"]] = v
        misses = [m for m, ok in (("loses to static", v["vs_static"] > 0), ("loses to naive", v["vs_naive"] > 0),
                                  (f"ACoS {v['max_acos']:.1%} > {TARGET_ACOS + ACOS_SLACK:.0%}",
                                   v["max_acos"] <= TARGET_ACOS + ACOS_SLACK)) if not ok]
        v["pass"] = not misses
        c = v["cum"]
        print(f"{case['seed']:>6} {c['static']:11.0f} {c['naive']:10.0f} {c['engine']:11.0f} {c['oracle']:11.0f} "
              f"{v['vs_static']:+11.0f} {v['vs_naive']:+10.0f} {v['capture']:8.0%} {v['max_acos']:9.1%} "
              f"{v['paid']:6.0%} {v['changes']:8d}  {'PASS' if v['pass'] else 'FAIL: ' + ', '.join(misses)}")
    mean = {p: statistics.fmean(_last_two(c["series"][p]) for c in cases) for p in POLICIES}
    shape_capture = capture(mean["engine"], mean["static"], mean["oracle"])
    paid = sum(c["changes_paid"] for c in cases) / max(1, sum(c["changes"] for c in cases))
    d = [c["diagnostics"] for c in cases]
    toward = sum(x["toward"] for x in d) / max(1, sum(x["changes"] for x in d))
    line = (f"engine bid / oracle bid in the last week (median) {statistics.fmean(x['bid_vs_oracle'] for x in d):.2f}; "
            f"changes toward the oracle's bid {toward:.0%}; "
            f"raises in budget-bound campaigns {sum(x['raises_bound'] for x in d)} of {sum(x['raises'] for x in d)}")
    duds = [x["dud_bids"] for x in d if x["dud_bids"] is not None]
    if duds:
        line += f"; true duds' bids at the end {statistics.fmean(duds):.2f}x their start (oracle: the minimum)"
    print(f"{'':>6} {line}")
    print(f"{'mean':>6} capture of the mean, weeks {max(1, weeks - 1)}–{weeks}: {shape_capture:.0%} "
          f"({'PASS' if shape_capture >= CAPTURE_TARGET else 'FAIL'}: target ≥ {CAPTURE_TARGET:.0%}); "
          f"engine changes that paid off: {paid:.0%}")
    own_paid, own = sum(c["measured_paid"] for c in cases), sum(c["measured"] for c in cases)
    print(f"{'':>6} the product's own measurement ({MEASURE_NOTE}): {own_paid} of {own} measured changes paid off"
          f"{f' ({own_paid / own:.0%})' if own else ''}")
    return {"capture": shape_capture, "paid": paid, "seeds": verdicts}


def summary(results: dict[str, dict]) -> None:
    print("\n== summary: targets on every shape and seed ==")
    print(f"{'shape':>13} {'> static':>9} {'> naive':>8} {'ACoS ok':>8} {'capture':>8} {'paid':>6}  verdict")
    every = True
    for shape, r in results.items():
        seeds = r["seeds"].values()
        checks = {
            "> static": all(v["vs_static"] > 0 for v in seeds),
            "> naive": all(v["vs_naive"] > 0 for v in seeds),
            "ACoS ok": all(v["max_acos"] <= TARGET_ACOS + ACOS_SLACK for v in seeds),
            "capture": r["capture"] >= CAPTURE_TARGET,
        }
        ok = all(checks.values())
        every &= ok
        counts = {k: f"{sum(1 for v in seeds if cond(v))}/{len(seeds)}" for k, cond in (
            ("> static", lambda v: v["vs_static"] > 0), ("> naive", lambda v: v["vs_naive"] > 0),
            ("ACoS ok", lambda v: v["max_acos"] <= TARGET_ACOS + ACOS_SLACK))}
        print(f"{shape:>13} {counts['> static']:>9} {counts['> naive']:>8} {counts['ACoS ok']:>8} "
              f"{r['capture']:8.0%} {r['paid']:6.0%}  {'PASS' if ok else 'FAIL'}")
    print(f"overall: {'PASS' if every else 'FAIL'} (a shape passes only if every seed does)")


def main() -> int:
    from marketing.sandbox.shapes import SHAPES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2, help="cases run side by side (child processes)")
    parser.add_argument("--today", type=date.fromisoformat, default=TODAY, help="the market's first day")
    parser.add_argument("--no-costs", action="store_true", help="leave unit costs out (the engine cannot see margins)")
    parser.add_argument("--json", type=Path, help="also write every weekly figure to this file")
    args = parser.parse_args()
    if args.weeks < 2:
        parser.error("--weeks must be at least 2 (capture is the mean of the last two)")
    print(f"{len(args.shapes)} shapes x seeds {args.seeds} x {args.weeks} weeks, target ACoS {TARGET_ACOS:.0%}, "
          f"{args.jobs} at a time", flush=True)
    started = time.monotonic()
    cases = [(shape, seed) for shape in args.shapes for seed in args.seeds]
    done: dict[tuple[str, int], dict] = {}
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("spawn"), max_tasks_per_child=1) as pool:
        futures = {pool.submit(run_case, shape, seed, args.weeks, args.today, not args.no_costs): (shape, seed)
                   for shape, seed in cases}
        for future, key in futures.items():
            case = future.result()
            done[key] = case
            e = case["series"]["engine"][-1]
            print(f"  {key[0]} seed {key[1]}: {case['seconds']:.0f}s ({case['cpu']:.0f} CPU s), "
                  f"engine week {args.weeks} profit {e['profit']:.1f} ACoS {e['acos']:.1%}", flush=True)
    results = {shape: shape_table(shape, [done[(shape, seed)] for seed in args.seeds]) for shape in args.shapes}
    summary(results)
    cpu = sum(case["cpu"] for case in done.values())
    print(f"\n{len(cases)} cases in {time.monotonic() - started:.0f}s wall, {cpu:.0f} CPU s in the cases "
          f"(machine load average at the end: {os.getloadavg()[0]:.1f})")
    if args.json:
        args.json.write_text(json.dumps({"cases": list(done.values()), "verdicts": results}, default=str, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
