"""Promotion engines on 10,000 ASINs × 365 days: measure + elasticities + suggest wall time, next to baselines.

    .venv/bin/python bench/promotions_speed.py [n_asins] [--naive N]

Synthetic seller: ASINs in families of 1–6 under a parent, log-normal daily rates with a weekly shape, FBA stock
drained by the sales and restocked at each ASIN's reorder level after its lead time (a fifth reorder too late and
run out; the year's daily fulfillable and inbound go to the engine, which learns the restocks from them, as the
service passes them), about one promotion per ASIN over the year (coupons of 1–3 ASINs of a family, Best Deals and
Lightning Deals, 5–30 % off, demand lifted at elasticity −3.6). Target: ≤ 10 s for the full size.
Baselines in the same run: the same engines on a tenth of the ASINs (how the time scales), and a naive per-ASIN
pandas loop (boolean-mask the ASIN's rows, 28-day pre-window mean, window sum) on `--naive` ASINs' promotions,
extrapolated to the full size.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's marketing, not an installed one
from marketing.optimize.promotions import Fee, elasticities, measure, suggest  # noqa: E402

TODAY = date(2026, 1, 1)
FEES = {"COUPON": Fee(fixed=5, variable_pct=0.025, variable_cap=2000),
        "BEST_DEAL": Fee(per_day=70, variable_pct=0.01, variable_cap=2000),
        "LIGHTNING_DEAL": Fee(per_day=70, variable_pct=0.01, variable_cap=2000)}


def seller(n: int, days: int = 365, seed: int = 7):
    rng = np.random.default_rng(seed)
    day0 = np.datetime64(TODAY) - days
    family = np.repeat(np.arange(n), rng.integers(1, 7, n))[:n]
    asin = np.array([f"B{i:09d}" for i in range(n)])
    rate = rng.lognormal(np.log(3), 1.0, n)
    price = rng.lognormal(np.log(25), 0.5, n).round(2)
    weekly = np.array([0.85, 0.9, 1.0, 1.0, 1.05, 1.15, 1.05])
    dates = day0 + np.arange(days)
    weekday = (dates.astype(np.int64) + 3) % 7
    mean = rate[:, None] * weekly[None, weekday]

    # about one promotion per ASIN: keys of 1–3 ASINs of a family for coupons, single ASINs for deals
    n_keys = n * 2 // 3
    first = rng.integers(0, n, n_keys)
    width = np.where(rng.random(n_keys) < 0.5, rng.integers(1, 4, n_keys), 1)
    members = [(k, a) for k in range(n_keys) for a in range(first[k], min(first[k] + width[k], n))
               if family[a] == family[first[k]]]
    key_of, asin_of = np.array([m[0] for m in members]), np.array([m[1] for m in members])
    kind = rng.choice(["COUPON", "BEST_DEAL", "LIGHTNING_DEAL"], n_keys, p=[0.7, 0.2, 0.1])
    length = np.select([kind == "COUPON", kind == "BEST_DEAL"], [14, 7], 1)
    start = rng.integers(40, days - 60, n_keys)
    depth = rng.choice([0.05, 0.1, 0.15, 0.2, 0.25, 0.3], n_keys)
    effective = np.where(kind == "COUPON", depth * 0.5, depth)
    multiplier = np.ones_like(mean)
    price_paid = np.repeat(price[:, None], days, axis=1)
    for k_col in range(int(length.max())):  # loop over the days of a window, not over ASINs
        active = k_col < length[key_of]
        col = np.minimum(start[key_of] + k_col, days - 1)
        multiplier[asin_of[active], col[active]] = (1 - effective[key_of[active]]) ** -3.6
        deal = active & (kind[key_of] != "COUPON")
        price_paid[asin_of[deal], col[deal]] *= 1 - depth[key_of[deal]]
    units, in_stock, stock, inbound = _fba(rng.poisson(mean * multiplier).astype(float), rate, rng)
    daily = pd.DataFrame({
        "asin": np.repeat(asin, days), "parent_asin": np.repeat(np.char.add("P", family.astype(str)), days),
        "date": np.tile(dates, n), "units": units.ravel(), "sales": (units * price_paid).ravel().round(2),
        "in_stock": in_stock.ravel(), "ad_spend": (units * rng.uniform(0, 2, (n, days))).ravel().round(2),
    })
    daily = daily[(daily["units"] > 0) | ~daily["in_stock"]]  # Sales & Traffic omits days without sales
    windows = pd.DataFrame({
        "key": key_of.astype(str), "type": kind[key_of], "asin": asin[asin_of],
        "start": dates[start[key_of]], "end": dates[start[key_of] + length[key_of] - 1],
        "discount": np.where(kind[key_of] == "COUPON", depth[key_of], np.nan),
        "fee": np.where(kind[key_of] == "COUPON", 5.0, 70.0 * length[key_of]),
    })
    economics = pd.DataFrame({"asin": asin, "price": price, "unit_cost": np.where(rng.random(n) < 0.9,
                                                                                 price * 0.2, np.nan),
                              "referral_pct": 0.15, "fba_fee": 3.5})
    fba = rng.random(n) < 0.8  # the others are fulfilled by the merchant: stock unknown
    inventory = pd.Series(np.where(fba, stock[:, -1], np.nan), index=asin)
    history = pd.DataFrame({"asin": np.repeat(asin[fba], days), "date": np.tile(dates, int(fba.sum())),
                            "fulfillable": stock[fba].ravel(), "inbound": inbound[fba].ravel()})
    busy = windows[windows["start"] >= np.datetime64(TODAY) - 30][["asin", "start", "end"]]
    return daily, windows, economics, inventory, busy, history


def _fba(demand: np.ndarray, rate: np.ndarray, rng) -> tuple[np.ndarray, ...]:
    """Each ASIN's FBA stock day by day: sales drain it; at its reorder level a shipment of its order size is sent
    and arrives after its lead time (7-20 days). A fifth reorder too late and run out before the shipment lands.
    Returns units sold, in stock, end-of-day fulfillable and inbound units (ASINs × days)."""
    n, days = demand.shape
    lead = rng.integers(7, 21, n)
    reorder = rate * lead * np.where(rng.random(n) < 0.2, rng.uniform(0.3, 0.8, n), rng.uniform(1.3, 2.0, n))
    order = rate * rng.uniform(30, 90, n)
    stock, on_way, arrives = order.copy(), np.zeros(n), np.full(n, -1)
    sold, in_stock, fulfillable, inbound = (np.zeros((n, days)) for _ in range(4))
    for d in range(days):
        landed = arrives == d
        stock[landed] += on_way[landed]
        on_way[landed] = 0
        in_stock[:, d] = stock > 0
        sold[:, d] = np.minimum(demand[:, d], np.floor(stock))
        stock -= sold[:, d]
        send = (stock <= reorder) & (on_way == 0)
        on_way[send], arrives[send] = np.round(order[send]), d + lead[send]
        fulfillable[:, d], inbound[:, d] = np.floor(stock), on_way
    return sold, in_stock.astype(bool), fulfillable, inbound


def run(daily, windows, economics, inventory, busy, history) -> dict:
    times = {}
    t = time.perf_counter()
    measured = measure(daily, windows, economics)
    times["measure"] = time.perf_counter() - t
    t = time.perf_counter()
    eps = elasticities(measured, asins=economics["asin"], with_sd=True)
    times["elasticities"] = time.perf_counter() - t
    t = time.perf_counter()
    proposals, skips = suggest(daily, economics, inventory=inventory, busy=busy, fees=FEES, elasticity=eps,
                               today=TODAY, deal_types={"BEST_DEAL", "LIGHTNING_DEAL"},
                               promotions=windows[["asin", "start", "end"]], inventory_history=history)
    times["suggest"] = time.perf_counter() - t
    times["total"] = sum(times.values())
    reasons = pd.Series([s.reason for s in skips], dtype=object).value_counts()
    kinds = pd.Series([p.type for p in proposals], dtype=object).value_counts()
    made = ", ".join(f"{k} {v:,}" for k, v in kinds.items())
    why = ", ".join(f"{k}: {v:,}" for k, v in reasons.items())
    times["counts"] = (f"{len(windows):,} windows, {int(measured['measurable'].sum()):,} measurable, median ε "
                       f"{eps['elasticity'].median():.2f} (sd {eps['sd'].median():.2f}); "
                       f"{len(proposals):,} proposals ({made}); {len(skips):,} skips ({why})")
    return times


def naive(daily: pd.DataFrame, windows: pd.DataFrame, n_asins: int) -> float:
    """Per-ASIN loop: mask the ASIN's rows, mean of the 28 days before, sum over the window. Seconds."""
    sample = windows[windows["asin"].isin(windows["asin"].unique()[:n_asins])]
    t = time.perf_counter()
    for _, w in sample.iterrows():
        rows = daily[daily["asin"] == w["asin"]].set_index("date")["units"]
        before = rows[(rows.index >= w["start"] - np.timedelta64(28, "D")) & (rows.index < w["start"])]
        during = rows[(rows.index >= w["start"]) & (rows.index <= w["end"])]
        _ = during.sum() - before.sum() / 28 * len(during)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_asins", nargs="?", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=20, help="ASINs the naive loop runs on (then extrapolated)")
    args = parser.parse_args()
    small = max(args.n_asins // 10, 1)
    t = time.perf_counter()
    full, tenth = seller(args.n_asins), seller(small, seed=8)
    print(f"synthetic data: {args.n_asins:,} and {small:,} ASINs × 365 days, "
          f"{len(full[0]):,} + {len(tenth[0]):,} daily rows, built in {time.perf_counter() - t:.1f} s")
    big, little = run(*full), run(*tenth)
    naive_seconds = naive(full[0], full[1], args.naive)
    scale = full[1]["asin"].nunique() / min(args.naive, full[1]["asin"].nunique())
    print(f"{'step':<14}{f'{args.n_asins:,} ASINs':>14}{f'{small:,} ASINs':>14}")
    for step in ("measure", "elasticities", "suggest", "total"):
        print(f"{step:<14}{big[step]:>12.2f} s{little[step]:>12.2f} s")
    print(f"{args.n_asins:,}: {big['counts']}")
    print(f"{small:,}: {little['counts']}")
    print(f"naive per-ASIN pandas loop (baseline + window sum only) on {args.naive} ASINs: {naive_seconds:.2f} s "
          f"→ {naive_seconds * scale:.0f} s extrapolated to {args.n_asins:,} ASINs")
    print(f"target: measure + elasticities + suggest ≤ 10 s on 10,000 ASINs — "
          f"{'met' if big['total'] <= 10 else 'NOT met'} ({big['total']:.2f} s)")


if __name__ == "__main__":
    main()
