"""Benchmark: do approved promotion suggestions make money? Every promotion shape × seeds × 8 weeks, four policies.

Per (shape, seed), one demo-size sandbox per policy, all with the same seed (3 sellers × 2 marketplaces, 48
ASINs; common random numbers, so policies differ only by what they entered). Every week, for every marketplace:

* none — nothing is entered (the counterfactual);
* engine — `optimize.promotions.suggest` fed as the product's service feeds it: the history up to yesterday from
  the sandbox's reports (`bench/promotions_market.py`), past coupons and deals from its coupon and promotion
  reports measured with `measure` → `elasticities(with_sd=True)` and their days left out of the baseline, and
  the measured rows, with those of the seller's other marketplace (their dips and siblings' losses set the share
  taken back and its error; the product's service passes them too, though it reads no dip before its first
  inventory sync), the other sellers' own dip reads (`dip_fit`) as `peers` and their `bend_stats` as
  `elasticities`' peers (the service takes each other seller's latest run's), economics (price, unit cost,
  referral, FBA fee) from the catalog, today's FBA inventory and its daily history (fulfillable, inbound: the
  restocks are learned from it), busy = promotions running or upcoming with their type and depth, the guide's
  fees per type, the deal types the seller ran in the last 12 months; every proposal is approved and entered as proposed
  (type, percent or amount off, dates, budget) through `promotions.enter`, the function behind
  `POST /_sandbox/promotions`;
* fixed — in weeks 0, 2, 4, 6: a 20 %-off coupon for 7 days from tomorrow on each marketplace's top 3 ASINs by
  units over the last 28 days (no budget);
* oracle — for every ASIN free over the next 14 days, `promo_oracle.best_promotion` (hidden elasticity, shape,
  stock; every type at 10–50 % in 10-point steps, a deal on day 1 or a coupon over the window) from tomorrow: the
  most profitable candidate that beats none and adds no out-of-stock day to its ASIN up to the scored period's last
  day (its hidden stock with and without it). The target forbids the engine any stock-out it causes, so the best
  *allowed* policy it is compared with obeys the same rule;
* oracle-so — the oracle as it was before: `best_promotion`'s best, whose stock-out check looks only 28 days past
  the end (it caused 18–45 extra stock-out days per seed on seeds 1–3); printed beside for comparison, no check
  uses it (`--no-old-oracle` skips it).

After the 8 weeks the clock runs 28 more days with nothing new entered, so the last promotions' dips count.
Realised incremental profit = the policy's profit (sales after referral − unit cost − FBA fee − ad spend −
promotion fees, in USD) − the same market's profit with no promotions, over those 12 weeks. Extra stock-out
days = per ASIN, the days out of stock under the policy beyond those under none (a stock-out the restock cycle
brings anyway, only moved by a few days, is not one the promotion caused); printed beside it, day by day, the
(ASIN, day) pairs out of stock under the policy and in stock under none (counts such moved days too). Under each
shape: the share of each policy's gain (before fees) made on ASINs that are out of stock on some day under none,
whose restocks run dry by themselves: the oracle times a promotion on those to the day (one that fires the reorder
sooner, and, with a dip, slows the sales while the shipment is on its way, can shorten a stock-out), which needs the
hidden reorder level, lead time and stock to the unit; the engine skips them (`SKIP_RESTOCKS`).

Targets, per shape and seed: engine ≥ 0 and > fixed and no extra stock-out day; per shape, mean engine ≥ 60 % of
mean oracle (the one without stock-outs).

    .venv/bin/python bench/promotions_quality.py [--seeds 1 2 3] [--shapes constant linear pull-forward
        cannibalisation] [--weeks 8] [--jobs 2] [--no-old-oracle] [--cache]

`--cache` keeps none, fixed and the oracles (they don't depend on the engine) in `bench/.cache/` under a
fingerprint of the sandbox's and these benchmarks' code, so trying an engine change re-runs the engine alone.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import promotions_market as pm

from marketing.optimize.promotions import bend_stats, dip_fit, elasticities, measure, suggest
from marketing.sandbox import promo_oracle
from marketing.sandbox.retail import Promotion

START = date(2026, 6, 1)
QUIET_DAYS = 35  # before week 0: the sellers' own promotions end, so every ASIN has a clean baseline
TAIL_DAYS = 28
ORACLE_DEPTHS = (0.1, 0.2, 0.3, 0.4, 0.5)  # of the list price: every type (a coupon up to 50 %); 10 % steps for time


def engine_reads(sb) -> dict:
    """Per book: the history up to yesterday, economics, windows and their measured rows, as the service reads
    every marketplace of a seller before suggesting for any."""
    out = {}
    for _, book in pm.books(sb):
        daily = pm.history(book, book.market.origin_ordinal, book.market.today_ordinal - 1)
        econ, windows = pm.economics(book), pm.windows(book)
        out[book] = (daily, econ, windows, measure(daily, windows, econ))
    return out


def engine_week(sb, seller: int, book, reads: dict) -> int:
    today = book.market.today
    t = book.market.today_ordinal
    daily, econ, windows, measured = reads[book]
    elsewhere = [reads[other][3] for s, other in pm.books(sb) if s == seller and other is not book]
    elsewhere = pd.concat(elsewhere, ignore_index=True) if elsewhere else None
    others = [[reads[b][3] for s, b in pm.books(sb) if s == other] for other in {s for s, _ in pm.books(sb)} - {seller}]
    peers = [fit for fit in (dip_fit(pd.concat(frames)) for frames in others) if fit is not None]
    bends = [stats for stats in (bend_stats(frames) for frames in others) if stats is not None]
    eps = elasticities(measured, asins=book.cat.asin, with_sd=True, peers=bends, elsewhere=elsewhere)
    promos = book.retail.promotions
    busy = pd.DataFrame([(book.cat.asin[p], pm.day_of(q.start), pm.day_of(q.end), q.kind, cut)
                         for q in promos if q.end >= t for p, cut in zip(q.products, q.cut, strict=True)],
                        columns=["asin", "start", "end", "type", "discount"])
    past = windows[["asin", "start", "end"]]
    deal_types = {q.kind for q in promos if q.kind != "COUPON" and q.start >= t - 365 and q.start < t}
    proposals, _ = suggest(daily, econ, inventory=pm.inventory(book), busy=busy, fees=pm.engine_fees(book),
                           elasticity=eps, today=today, deal_types=deal_types, promotions=past, measured=measured,
                           measured_elsewhere=elsewhere, peers=peers,
                           inventory_history=pm.inventory_history(book, book.market.origin_ordinal, t))
    for p in proposals:
        money = p.discount_type == "AMOUNT_OFF_LIST_PRICE"
        pm.enter(sb, seller, book, kind=p.type, asin=p.asin, start=p.start, end=p.end,
                 percent=None if money else p.discount * 100, amount=p.discount if money else None,
                 budget=p.budget)
    return len(proposals)


def fixed_week(sb, seller: int, book, week: int) -> int:
    if week % 2:
        return 0
    t = book.market.today_ordinal
    units = sum(pm.retail_day(book, d)["units"] for d in range(t - 28, t))
    start = book.market.today + timedelta(days=1)
    end = start + timedelta(days=6)
    entered = 0
    for p in np.argsort(-units)[:3]:
        if any(p in q.products and q.start <= end.toordinal() and start.toordinal() <= q.end
               for q in book.retail.promotions):
            continue
        pm.enter(sb, seller, book, kind="COUPON", asin=book.cat.asin[p], start=start, end=end, percent=20)
        entered += 1
    return entered


def oracle_week(sb, seller: int, book, last: int | None = None) -> int:
    """The oracle's promotions of the week. With `last` (the scored period's last day), the best candidate that
    adds no out-of-stock day to its ASIN up to that day (the target's own constraint); without it, `best_promotion`'s
    best, which only looks 28 days past the end."""
    start = book.market.today + timedelta(days=1)
    end = start + timedelta(days=13)
    entered = 0
    for p, asin in enumerate(book.cat.asin):
        if any(p in q.products and q.start <= end.toordinal() and start.toordinal() <= q.end
               for q in book.retail.promotions):
            continue
        found = promo_oracle.best_promotion(book, asin, start, end, depths=ORACLE_DEPTHS)
        if last is None:
            best = found["best"]
        else:
            best = next((c for c in found["candidates"] if c["profit"] > 0 and not c["stockout"]
                         and not _adds_stockout(book, p, c, last)), None)
        if best is None:
            continue
        pm.enter(sb, seller, book, kind=best["type"], asin=asin, start=date.fromisoformat(best["start"]),
                 end=date.fromisoformat(best["end"]), percent=best["discount_amount"])
        entered += 1
    return entered


def _adds_stockout(book, p: int, candidate: dict, last: int) -> bool:
    """Whether entering `candidate` on product p leaves it out of stock on more days up to `last` (hidden stock)."""
    s, e = date.fromisoformat(candidate["start"]).toordinal(), date.fromisoformat(candidate["end"]).toordinal()
    twin = book.retail.variant(add=Promotion(candidate["type"], (p,), s, e, (candidate["discount_amount"] / 100,),
                                             "oracle-check"))
    days = range(s, last + 1)
    return sum(twin.stock(d)[p] <= 0 for d in days) > sum(book.retail.stock(d)[p] <= 0 for d in days)


def run(shape: str, seed: int, policy: str, weeks: int) -> dict:
    """One policy's 8 weeks: per-day profit and stock per ASIN over the scored days, fees, counts."""
    sb = pm.sandbox(seed, shape, START)
    sb.market.advance(QUIET_DAYS)
    first = sb.market.today_ordinal
    last = first + 7 * weeks + TAIL_DAYS - 1
    entered = 0
    for week in range(weeks):
        reads = engine_reads(sb) if policy == "engine" else {}
        for seller, book in pm.books(sb):
            if policy == "engine":
                entered += engine_week(sb, seller, book, reads)
            elif policy == "fixed":
                entered += fixed_week(sb, seller, book, week)
            elif policy == "oracle":
                entered += oracle_week(sb, seller, book, last)
            elif policy == "oracle-so":
                entered += oracle_week(sb, seller, book)
        sb.market.advance(7)
    sb.market.advance(TAIL_DAYS)
    last = sb.market.today_ordinal - 1
    profit, stock, fees = [], [], 0.0
    for _, book in pm.books(sb):
        profit.append(pm.profit_by_day(book, first, last))
        stock.append(pm.stock_by_day(book, first, last))
        fees += sum(pm.fee_of(book, q) for q in book.retail.promotions if q.entered)
    return {"shape": shape, "seed": seed, "policy": policy, "profit": np.concatenate(profit, axis=1),
            "stock": np.concatenate(stock, axis=1), "fees": fees, "entered": entered}


HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "promotions_quality"  # bench/.cache/ is git-ignored


def cached_run(shape: str, seed: int, policy: str, weeks: int) -> dict:
    """`run`, kept on disk for every policy but the engine: none, fixed and the oracles depend only on the sandbox
    and this benchmark's code (their fingerprint names the file), so a change to the engine re-runs the engine
    alone (a four-shape run takes ~1 minute instead of ~9)."""
    if policy == "engine":
        return run(shape, seed, policy, weeks)
    code = sorted((HERE.parent / "marketing" / "sandbox").rglob("*.py")) + [HERE / "promotions_market.py",
                                                                             Path(__file__).resolve()]
    fingerprint = hashlib.sha256(b"".join(f.read_bytes() for f in code)).hexdigest()[:16]
    path = CACHE / f"{fingerprint}-{shape}-{seed}-{policy}-{weeks}.npz"
    if path.exists():
        with np.load(path) as kept:
            return {"shape": shape, "seed": seed, "policy": policy, "profit": kept["profit"], "stock": kept["stock"],
                    "fees": float(kept["fees"]), "entered": int(kept["entered"])}
    result = run(shape, seed, policy, weeks)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **{k: result[k] for k in ("profit", "stock", "fees", "entered")})
    partial.replace(path)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--shapes", nargs="+", default=list(pm.SHAPES), choices=pm.SHAPES)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-old-oracle", action="store_true",
                        help="skip the oracle that may cause stock-outs (printed for comparison only)")
    parser.add_argument("--cache", action="store_true",
                        help="keep none, fixed and the oracles in bench/.cache/ and reuse them (for trying engines)")
    args = parser.parse_args()
    started = time.perf_counter()
    oracles = ("oracle",) if args.no_old_oracle else ("oracle", "oracle-so")
    policies = ("engine", "fixed", *oracles)
    cases = [(shape, seed, policy, args.weeks) for shape in args.shapes for seed in args.seeds
             for policy in (*oracles, "engine", "fixed", "none")]  # slowest first
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(cached_run if args.cache else run, *zip(*cases, strict=True)))
    by = {(r["shape"], r["seed"], r["policy"]): r for r in results}

    print(f"Promotion suggestion quality: {args.weeks} weeks of decisions + {TAIL_DAYS} days after, 6 marketplaces "
          "(48 ASINs) per seed; realised incremental profit vs no promotions, USD (after discount, fees, ad spend)")
    print("oracle: no stock-out caused (the target's constraint); oracle-so: the oracle before, which may cause "
          "stock-outs (for comparison, no check uses it)")
    names = {"engine": "e", "fixed": "f", "oracle": "o", "oracle-so": "so"}
    tag = "/".join(names[p] for p in policies)
    verdicts = []
    for shape in args.shapes:
        print(f"\nshape {shape}")
        print(f"{'seed':>4} | " + " ".join(f"{p:>9}" for p in policies) + " | "
              + " ".join(f"{'e/' + names[p]:>6}" for p in oracles) + f" | {'entered ' + tag:>17} | {'fees e':>7} | "
              f"{'extra stock-out days ' + tag:>27} | {'(day by day)':>17}")
        gains = {p: [] for p in policies}
        dry_share = {p: [] for p in ("engine", *oracles)}  # the fixed rule's gain is mostly a loss: no share
        for seed in args.seeds:
            none = by[(shape, seed, "none")]
            dry = (none["stock"] <= 0).any(axis=0)  # ASINs whose restocks run out on some day with no promotion
            row, count, caused = {}, {}, {}
            for policy in policies:
                r = by[(shape, seed, policy)]
                row[policy] = float((r["profit"] - none["profit"]).sum()) - r["fees"]
                count[policy] = r["entered"]
                out, out_none = r["stock"] <= 0, none["stock"] <= 0
                caused[policy] = (int(np.clip(out.sum(axis=0) - out_none.sum(axis=0), 0, None).sum()),
                                  int((out & ~out_none).sum()))
                gains[policy].append(row[policy])
                if policy in dry_share:
                    per_asin = (r["profit"] - none["profit"]).sum(axis=0)
                    dry_share[policy].append(_share(float(per_asin[dry].sum()), float(per_asin.sum())))
            ok = row["engine"] >= 0 and row["engine"] > row["fixed"] and caused["engine"][0] == 0
            verdicts.append(ok)
            print(f"{seed:>4} | " + " ".join(f"{row[p]:>9,.0f}" for p in policies) + " | "
                  + " ".join(f"{_share(row['engine'], row[p]):>6}" for p in oracles) + " | "
                  + f"{'/'.join(str(count[p]) for p in policies):>17} | {by[(shape, seed, 'engine')]['fees']:>7,.0f} | "
                  + f"{'/'.join(str(caused[p][0]) for p in policies):>27} | "
                  + f"{'/'.join(str(caused[p][1]) for p in policies):>17} | {'ok' if ok else 'MISSED'}")
        mean = {p: float(np.mean(v)) for p, v in gains.items()}
        share = mean["engine"] / mean["oracle"] if mean["oracle"] > 0 else float("nan")
        ok = share >= 0.6
        verdicts.append(ok)
        print("mean | " + " ".join(f"{mean[p]:>9,.0f}" for p in policies) + " | "
              + " ".join(f"{_share(mean['engine'], mean[p]):>6}" for p in oracles)
              + f" | engine ≥ 60 % of oracle: {'ok' if ok else 'MISSED'}")
        print("     gain before fees on ASINs out of stock some day with no promotion (restocks that run dry anyway): "
              + ", ".join(f"{p} {' / '.join(v)}" for p, v in dry_share.items()))
    print(f"\ntargets: {'all met' if all(verdicts) else 'MISSED'} ({sum(verdicts)}/{len(verdicts)} checks); "
          f"{time.perf_counter() - started:.0f} s")
    return 0


def _share(engine: float, oracle: float) -> str:
    return f"{engine / oracle:.0%}" if oracle > 0 else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
