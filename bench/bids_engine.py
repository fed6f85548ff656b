"""Bid engine on 1M synthetic targets: wall time and peak RSS, next to the naive rule.

    .venv/bin/python bench/bids_engine.py [n_targets]

Synthetic account with a long tail: 20k campaigns, 100k ad groups, log-normal impressions (most
targets see a handful of clicks a month, a few see thousands), CVR drawn per ad group then per
target, 20% paused, 5% inheriting the ad group bid, 10% changed in the last 5 days.
The baselines are the naive ±20% rule, vectorised on all targets and as a per-row Python loop
over 20k targets extrapolated to the full size.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from marketing.optimize.bids import suggest_bids
from marketing.optimize.naive import naive_bids
from marketing.optimize.settings import BidSettings

TODAY = date(2025, 6, 1)


def synthetic_targets(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_groups = max(n // 10, 1)
    ad_group = rng.integers(0, n_groups, n)
    group_cvr = rng.beta(2, 20, n_groups)
    group_aov = rng.lognormal(np.log(25), 0.5, n_groups)
    target_cvr = rng.beta(30 * group_cvr[ad_group], 30 * (1 - group_cvr[ad_group]))
    impressions = np.floor(rng.lognormal(5, 2, n)).astype(np.int64)
    clicks = rng.binomial(impressions, rng.beta(1, 250, n))
    orders = rng.binomial(clicks, target_cvr)
    bid = np.round(rng.lognormal(np.log(0.8), 0.5, n), 2).clip(0.02, 20)
    cost = np.round(clicks * bid * rng.uniform(0.5, 1.0, n), 2)
    sales = np.round(orders * group_aov[ad_group] * rng.lognormal(0, 0.2, n), 2)
    changed = rng.random(n) < 0.10
    last_change = pd.Series(pd.to_datetime(TODAY) - pd.to_timedelta(rng.integers(0, 5, n), "D")).where(changed)
    return pd.DataFrame(
        {
            "target_id": np.arange(n, dtype=np.int64),
            "kind": np.where(rng.random(n) < 0.7, "keyword", "target"),
            "campaign_id": ad_group // 5,
            "ad_group_id": ad_group,
            "current_bid": np.where(rng.random(n) < 0.05, np.nan, bid),
            "ad_group_default_bid": 0.75,
            "impressions": impressions,
            "clicks": clicks,
            "orders": orders,
            "cost": cost,
            "sales": sales,
            "price": group_aov[ad_group].round(2),
            "last_change_date": last_change,
            "state": np.where(rng.random(n) < 0.8, "enabled", "paused"),
            "manual": rng.random(n) < 0.9,
        }
    )


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def naive_loop(frame: pd.DataFrame, target_acos: float) -> list[float]:
    """The naive rule the way a per-row script writes it."""
    out = []
    for row in frame.itertuples(index=False):
        bid = row.current_bid if row.current_bid == row.current_bid else row.ad_group_default_bid
        if row.cost <= 0:
            out.append(bid)
        elif row.sales <= 0 or row.cost / row.sales > target_acos:
            out.append(round(bid * 0.8, 2))
        elif row.cost / row.sales < target_acos:
            out.append(round(bid * 1.2, 2))
        else:
            out.append(bid)
    return out


def main(n: int = 1_000_000) -> None:
    settings = BidSettings()
    targets = synthetic_targets(n)
    print(
        f"{n:,} targets, {targets['clicks'].sum():,} clicks ({(targets['clicks'] > 0).mean():.0%} with any, "
        f"max {targets['clicks'].max():,}), input frame {targets.memory_usage(deep=True).sum() / 2**20:,.0f} MB"
    )

    reset_peak_rss()
    before = rss_mb("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    out = suggest_bids(targets, settings, today=TODAY)
    cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = rss_mb("VmHWM")
    t0, c0 = time.perf_counter(), time.process_time()
    suggest_bids(targets, settings, today=TODAY)
    warm, warm_cpu = time.perf_counter() - t0, time.process_time() - c0

    t0 = time.perf_counter()
    naive_bids(targets["current_bid"].fillna(0.75), targets["cost"], targets["sales"], settings.target_acos)
    naive_vec = time.perf_counter() - t0
    sample = targets.iloc[:20_000]
    t0 = time.perf_counter()
    naive_loop(sample, settings.target_acos)
    naive_row = (time.perf_counter() - t0) * n / len(sample)

    print(f"{'':38}{'wall s':>10}{'CPU s':>8}{'peak RSS MB':>14}")
    print(f"{'engine, first call (builds β tables)':38}{cold:>10.2f}{cold_cpu:>8.2f}{peak:>14,.0f}", end="")
    print(f"   (RSS before the call: {before:,.0f} MB)")
    print(f"{'engine, second call':38}{warm:>10.2f}{warm_cpu:>8.2f}")
    print(f"{'naive ±20% rule, numpy':38}{naive_vec:>10.2f}")
    print(f"{'naive ±20% rule, per-row loop (×50)':38}{naive_row:>10.2f}")
    print(f"\n{len(out):,} rows out; reasons:")
    print(out["reason"].value_counts().to_string())
    moved = out[out["direction"] != "hold"]
    print(
        f"\nexpected change per day over all suggestions: spend {moved['expected_spend_delta_per_day'].sum():+,.0f}, "
        f"sales {moved['expected_sales_delta_per_day'].sum():+,.0f}"
    )
    for reason in ("LOWER_NO_ORDERS", "RAISE_PROFITABLE", "HOLD_LEARNING"):
        print(f"e.g. {out.loc[out['reason'] == reason, 'explanation'].iloc[0]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
