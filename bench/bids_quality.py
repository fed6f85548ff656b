"""Benchmark: does the bid loop make money on the simulated market? 8 weeks, 5 seeds, four policies.

Per seed, sandbox seller 0's first profile, target ACoS 30%:

* engine — the product end to end, in-process: weekly `sync` (the orchestrator, worked inline like
  `marketing sync --wait`), the suggestion run it triggers, approve all, apply (read-back, stale checks),
  then the market moves 7 days;
* naive — a second sandbox with the same seed: every week, last 7 days' spTargeting report → ±20% by ACoS vs
  target (`marketing.optimize.naive`) → PUT the bids;
* static — the week-0 bids, never changed;
* oracle — the simulator's best bids under the ACoS cap (`/_sandbox/oracle`).

Figures are the simulator's expected daily profit, ACoS and sales for the bids in force each week
(`/_sandbox/oracle/evaluate`, no noise). Targets at week 8, per seed and on the mean: the engine captures
≥ 70% of the oracle's profit gain over static bids, beats the naive rule, and keeps ACoS ≤ target + 3 points.

    .venv/bin/python bench/bids_quality.py [--seeds 1 2 3 4 5] [--weeks 8]

Runs on SQLite and an embedded Redis in a scratch folder; needs nothing else.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import statistics
import tempfile
import time
from collections import defaultdict

import httpx
from cryptography.fernet import Fernet

TARGET_ACOS = 0.30
STEP = 0.20


def product_app(folder: str, sbx):
    from marketing import create_app
    from marketing.config import Settings

    settings = Settings(env="development", secret_key=secrets.token_urlsafe(32),
                        database_url=f"sqlite:///{folder}/bench.sqlite",
                        token_encryption_keys=(Fernet.generate_key().decode(),))
    return create_app({"INSTANCE_PATH": folder, "AMAZON_BASE_URL": sbx.url,
                       "AMAZON_ADS_CLIENT_ID": sbx.ads_client_id, "AMAZON_ADS_CLIENT_SECRET": sbx.ads_client_secret,
                       "AMAZON_SP_CLIENT_ID": sbx.sp_client_id, "AMAZON_SP_CLIENT_SECRET": sbx.sp_client_secret},
                      settings=settings)


def connect(sbx) -> tuple[int, int, object]:
    """Our seller for sandbox seller 0 with only its first manageable profile managed: (seller, profile, user)
    ids."""
    from marketing import accounts, sellers
    from marketing.clock import now
    from marketing.connections import service
    from marketing.extensions import db

    info = sbx.sellers[0]
    seller = sellers.create_seller(info.name, info.region)
    user = accounts.create_user("bench@example.com", "admin", password=secrets.token_urlsafe(12))
    connection = service.store_token(seller, "ads", info.ads_refresh_token, authorized_at=now(), actor=None,
                                     method="cli")
    db.session.commit()
    profiles = service.refresh_profiles(connection, manage_new=False)
    profile = next(p for p in profiles if p.manageable)
    service.set_managed_profiles(connection, {profile.profile_id}, actor=None)
    db.session.commit()
    return seller.id, profile.profile_id, user.id


def work(queue_name: str) -> None:
    from marketing import jobs
    from marketing.jobs.worker import AppSimpleWorker

    queue = jobs.queue(queue_name)
    AppSimpleWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")


def engine_week(seller_id: int, user_id: int) -> dict:
    """One week of the product: sync → (post-sync) suggestions → approve all → apply."""
    from sqlalchemy import select

    from marketing.bids import apply
    from marketing.cli.sync import work_until_done
    from marketing.extensions import db
    from marketing.models import Suggestion, User
    from marketing.suggestions import lifecycle
    from marketing.sync import runs

    run, _ = runs.start_run(seller_id, "manual")
    result = work_until_done(run.id)
    if result["status"] != "succeeded":
        raise RuntimeError(f"sync failed: {result['error']}")
    work("default")  # the post-sync suggestion run
    db.session.expire_all()
    pending = db.session.scalars(select(Suggestion).where(Suggestion.seller_id == seller_id,
                                                          Suggestion.status == lifecycle.PENDING)).all()
    user = db.session.get(User, user_id)
    for suggestion in pending:
        lifecycle.approve(suggestion, actor=user)
    ids = [s.id for s in pending]
    db.session.commit()
    apply.enqueue(seller_id)
    work("default")  # the worker ends its session: read the outcome afresh
    statuses = db.session.scalars(select(Suggestion.status).where(Suggestion.id.in_(ids))).all()
    return {"suggested": len(ids), **{s: statuses.count(s) for s in sorted(set(statuses))}}


class NaivePolicy:
    """The ±20% rule on its own sandbox, talking to it through the product's Amazon client."""

    def __init__(self, sbx, profile_id: int):
        from marketing.amazon.ads import AdsClient
        from marketing.amazon.auth import AccessTokenSource, MemoryTokenCache
        from marketing.amazon.hosts import Hosts, Region
        from marketing.amazon.transport import Transport

        self.sbx, self.profile_id = sbx, profile_id
        self.http = httpx.Client(timeout=60)
        transport, hosts, region = Transport(self.http), Hosts(sbx.url), Region(sbx.sellers[0].region)
        tokens = AccessTokenSource(transport, hosts, region, sbx.ads_client_id, sbx.ads_client_secret,
                                   sbx.sellers[0].ads_refresh_token, MemoryTokenCache())
        self.ads = AdsClient(transport, hosts, region, sbx.ads_client_id, tokens)

    def week(self) -> int:
        import datetime as dt

        from marketing.amazon.ads import REPORT_COLUMNS, REPORT_GROUP_BY
        from marketing.optimize.naive import naive_bids

        today = self.sbx.admin.today()
        start, end = today - dt.timedelta(days=7), today - dt.timedelta(days=1)
        report = self.ads.create_report(self.profile_id, "spTargeting", start, end, REPORT_COLUMNS["spTargeting"],
                                        REPORT_GROUP_BY["spTargeting"])
        status = self.ads.get_report(self.profile_id, report.report_id)
        while not status.done:
            time.sleep(0.2)
            status = self.ads.get_report(self.profile_id, report.report_id)
        status.raise_if_failed()
        cost, sales = defaultdict(float), defaultdict(float)
        for row in self.ads.iter_report_rows(status.url):
            cost[str(row["keywordId"])] += float(row.get("cost") or 0)
            sales[str(row["keywordId"])] += float(row.get("sales7d") or 0)
        changed = 0
        for kind, id_field in (("keywords", "keywordId"), ("targets", "targetId")):
            entities = [e for e in self.ads.iter_entities(self.profile_id, kind) if e.get("state") == "ENABLED"]
            defaults = {g["adGroupId"]: g["defaultBid"] for g in self.ads.iter_entities(self.profile_id, "adGroups")}
            ids = [e[id_field] for e in entities]
            current = [e.get("bid", defaults.get(e["adGroupId"])) for e in entities]
            new = naive_bids(current, [cost[i] for i in ids], [sales[i] for i in ids], TARGET_ACOS, step=STEP)
            items = [(i, round(min(max(float(b), 0.02), 1000.0), 2)) for i, b, c in zip(ids, new, current, strict=True)
                     if abs(b - c) >= 0.005]
            if items:
                changed += sum(r.ok for r in self.ads.update_bids(self.profile_id, kind, items))
        return changed


def live_bids(ads, profile_id: int) -> dict[str, float]:
    defaults = {g["adGroupId"]: g["defaultBid"] for g in ads.iter_entities(profile_id, "adGroups")}
    bids = {}
    for kind, id_field in (("keywords", "keywordId"), ("targets", "targetId")):
        for e in ads.iter_entities(profile_id, kind):
            bids[e[id_field]] = float(e.get("bid", defaults.get(e["adGroupId"])))
    return bids


def figures(expected: dict) -> dict:
    return {"profit": expected["profit"], "acos": expected["acos"] or 0.0, "sales": expected["sales"]}


def run_seed(seed: int, weeks: int) -> dict[str, list[dict]]:
    from marketing import clock
    from marketing.extensions import db
    from marketing.sandbox.testing import running_sandbox

    series: dict[str, list[dict]] = defaultdict(list)
    with (running_sandbox(seed=seed, report_delay=0.0) as sbx, running_sandbox(seed=seed, report_delay=0.0) as twin,
          tempfile.TemporaryDirectory(prefix="bids-bench-") as folder):
        app = product_app(folder, sbx)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            clock.set_today(sbx.admin.today())
            seller_id, profile_id, user = connect(sbx)
            naive = NaivePolicy(twin, profile_id)
            static_bids = live_bids(naive.ads, profile_id)  # week 0, identical on both sandboxes
            for week in range(weeks + 1):
                if week:
                    activity = engine_week(seller_id, user)
                    naive_changed = naive.week()
                else:
                    activity, naive_changed = {}, 0
                series["engine"].append(figures(sbx.admin.evaluate(profile_id, {})) | {"activity": activity})
                series["naive"].append(figures(twin.admin.evaluate(profile_id, {})) | {"changed": naive_changed})
                series["static"].append(figures(sbx.admin.evaluate(profile_id, static_bids)))
                series["oracle"].append(figures(sbx.admin.oracle(profile_id, TARGET_ACOS)["expected"]))
                print_week(seed, week, series)
                sbx.admin.advance(7)
                twin.admin.advance(7)
                clock.set_today(sbx.admin.today())
            naive.http.close()
            db.session.remove()
        from marketing.jobs import embedded

        embedded.stop(folder)
    clock.set_today(None)
    return series


def print_week(seed: int, week: int, series) -> None:
    cells = "  ".join(f"{name:>6} {s[week]['profit']:8.2f} {s[week]['acos']:6.1%} {s[week]['sales']:8.2f}"
                      for name, s in series.items())
    extra = series["engine"][week]["activity"]
    print(f"seed {seed} week {week}: {cells}   engine {dict(extra) if extra else ''}", flush=True)


def verdict(series, week: int) -> dict:
    engine, naive, static, oracle = (series[k][week] for k in ("engine", "naive", "static", "oracle"))
    gain = oracle["profit"] - static["profit"]
    capture = (engine["profit"] - static["profit"]) / gain if gain > 0 else float("nan")
    return {"capture": capture, "beats_naive": engine["profit"] > naive["profit"],
            "acos_ok": engine["acos"] <= TARGET_ACOS + 0.03, "engine": engine, "naive": naive, "static": static,
            "oracle": oracle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print("columns per policy: expected daily profit, ACoS, sales (currency of the profile)")
    results = {}
    started = time.monotonic()
    for seed in args.seeds:
        results[seed] = run_seed(seed, args.weeks)
    week = args.weeks
    print(f"\nweek {week}, target ACoS {TARGET_ACOS:.0%} (limit {TARGET_ACOS + 0.03:.0%}); capture = engine's share of "
          "the oracle's profit gain over static bids")
    print(f"{'seed':>6} {'static':>9} {'naive':>9} {'engine':>9} {'oracle':>9} {'capture':>8} {'eng ACoS':>9} "
          f"{'naive ACoS':>10}  verdict")
    verdicts = {seed: verdict(series, week) for seed, series in results.items()}
    mean = {k: {m: statistics.fmean(v[k][m] for v in verdicts.values()) for m in ("profit", "acos", "sales")}
            for k in ("engine", "naive", "static", "oracle")}
    gain = mean["oracle"]["profit"] - mean["static"]["profit"]
    capture = (mean["engine"]["profit"] - mean["static"]["profit"]) / gain if gain > 0 else float("nan")
    mean_verdict = {"capture": capture,
                    "beats_naive": mean["engine"]["profit"] > mean["naive"]["profit"],
                    "acos_ok": mean["engine"]["acos"] <= TARGET_ACOS + 0.03, **mean}
    for seed, v in [*verdicts.items(), ("mean", mean_verdict)]:
        ok = v["capture"] >= 0.70 and v["beats_naive"] and v["acos_ok"]
        print(f"{seed!s:>6} {v['static']['profit']:9.2f} {v['naive']['profit']:9.2f} {v['engine']['profit']:9.2f} "
              f"{v['oracle']['profit']:9.2f} {v['capture']:8.0%} {v['engine']['acos']:9.1%} {v['naive']['acos']:10.1%}"
              f"  {'PASS' if ok else 'MISS'}"
              f"{'' if v['capture'] >= 0.70 else ' (capture < 70%)'}{'' if v['beats_naive'] else ' (naive wins)'}"
              f"{'' if v['acos_ok'] else ' (ACoS over limit)'}")
    print(f"\n{len(args.seeds)} seeds x {args.weeks} weeks in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
