"""Runs end to end against the sandbox: plan, structure, performance totals to the cent, idempotence."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from marketing.clock import set_today, today_in
from marketing.extensions import db
from marketing.models import (
    InventoryDaily,
    Promotion,
    PromotionAsin,
    SalesTrafficAsinDaily,
    SalesTrafficDaily,
    Seller,
    SpAdGroup,
    SpCampaign,
    SpCampaignDaily,
    SpProductAd,
    SpProductDaily,
    SpSearchTermDaily,
    SpTarget,
    SpTargetDaily,
    SyncReport,
    SyncRun,
)
from marketing.sync import outcome, plan, runs, steps
from tests.sync.conftest import connect, drain, money, sandbox_rows, sync


def test_windows_cut_a_range_into_31_day_reports():
    start = dt.date(2026, 1, 1)
    assert plan.windows(start, start + dt.timedelta(days=92)) == [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 3, 3)),
        (dt.date(2026, 3, 4), dt.date(2026, 4, 3)),
    ]
    assert plan.windows(start, start) == [(start, start)]


def test_seller_central_reports_only_for_seller_central_marketplaces():
    from types import SimpleNamespace as Profile

    profiles = [Profile(profile_id=1, marketplace_id="UK", timezone="Europe/London", account_type="seller"),
                Profile(profile_id=2, marketplace_id="FR", timezone="Europe/Paris", account_type="vendor")]
    planned = plan.plan(profiles, lambda p: 3, sales_traffic=True)
    sales = [(p.profile_id, p.marketplace_id, (p.end - p.start).days + 1) for p in planned
             if p.report_type == plan.SALES_TRAFFIC]
    assert sales == [(1, "UK", 3)]  # the range (daily totals); by-ASIN days are the history job's
    assert sorted((p.report_type, p.marketplace_id) for p in planned if p.source == "sp") == sorted(
        (t, "UK") for t in (plan.SALES_TRAFFIC, plan.COUPONS, plan.PROMOTIONS, plan.INVENTORY))
    assert sum(p.report_type == "structure" for p in planned) == 2


@pytest.mark.sqlite
def test_promotion_reports_reach_back_400_days_the_first_time_then_60(app):
    from types import SimpleNamespace as Profile

    set_today(dt.date(2026, 3, 10))
    profiles = [Profile(profile_id=1, marketplace_id="UK", timezone="UTC", account_type="seller")]
    first = {p.report_type: p for p in plan.plan(profiles, lambda p: 14, sales_traffic=True)}
    assert first[plan.COUPONS].end == first[plan.PROMOTIONS].end == dt.date(2026, 3, 9)
    assert {(first[t].end - first[t].start).days + 1 for t in plan.PROMOTION_REPORTS} == {plan.PROMOTION_FIRST_DAYS}
    seen = {("UK", plan.COUPONS)}
    again = {p.report_type: p for p in plan.plan(profiles, lambda p: 14, sales_traffic=True, promotions_seen=seen)}
    assert (again[plan.COUPONS].end - again[plan.COUPONS].start).days + 1 == plan.PROMOTION_DAYS
    assert (again[plan.PROMOTIONS].end - again[plan.PROMOTIONS].start).days + 1 == plan.PROMOTION_FIRST_DAYS
    assert (first[plan.INVENTORY].start, first[plan.INVENTORY].end) == (dt.date(2026, 3, 10),) * 2
    assert len(plan.plan(profiles, lambda p: 1, sales_traffic=True)) == 9  # 5 Ads + 4 Seller Central
    set_today(None)


@pytest.mark.sqlite
def test_yesterday_is_taken_in_the_profiles_time_zone(app):
    set_today(dt.date(2026, 3, 10))
    ahead = today_in("Pacific/Kiritimati")  # UTC+14, no DST
    behind = today_in("Pacific/Honolulu")  # UTC-10, no DST: always exactly one day behind
    assert ahead - behind == dt.timedelta(days=1)
    assert today_in("UTC") == dt.date(2026, 3, 10)
    start, end = plan.profile_range("UTC", 14)
    assert (start, end) == (dt.date(2026, 2, 24), dt.date(2026, 3, 9))


@pytest.mark.sqlite
def test_first_run_back_fills_then_nightly_takes_14_days(app, sbx):
    seller = connect(sbx, 0, countries=None)
    profiles = runs.managed_profiles(seller)
    assert {p.account_type for p in profiles} == {"seller"}  # the agency profile is never synced
    run = runs.start_backfill(seller.id)
    types = [(r.report_type, r.profile_id) for r in run.reports]
    assert types.count(("structure", profiles[0].profile_id)) == 1
    assert types.count(("spTargeting", profiles[0].profile_id)) == 3  # 93 days in 31-day windows
    markets = len({p.marketplace_id for p in profiles})
    assert sum(r.report_type == plan.SALES_TRAFFIC and r.start_date < r.end_date for r in run.reports) == markets
    assert (run.end_date - run.start_date).days + 1 >= plan.BACKFILL_DAYS
    # one run per seller at a time: asking again hands back the running one
    again, started = runs.start_run(seller.id, "manual")
    assert (again.id, started) == (run.id, False)
    # once a profile has history, a run without --days takes the trailing 14 days
    db.session.execute(SyncReport.__table__.update().where(SyncReport.run_id == run.id).values(status="ingested"))
    run.status = "succeeded"
    db.session.commit()
    # a back-fill that failed half-way does not count as history: the next run asks for it all again
    run.status = "failed"
    db.session.commit()
    again, started = runs.start_run(seller.id, "nightly")
    assert started and (again.end_date - again.start_date).days + 1 >= plan.BACKFILL_DAYS
    again.status = "failed"
    run.status = "succeeded"
    db.session.commit()
    nightly, started = runs.start_run(seller.id, "nightly")
    assert started
    one_day = [r for r in nightly.reports if r.start_date == r.end_date]
    assert {r.report_type for r in one_day} == {plan.INVENTORY}  # by-ASIN days are the history job's
    promotions = [r for r in nightly.reports if r.report_type in plan.PROMOTION_REPORTS]
    assert {(r.end_date - r.start_date).days + 1 for r in promotions} == {plan.PROMOTION_DAYS}  # stored before
    assert {(r.end_date - r.start_date).days + 1 for r in nightly.reports
            if r not in one_day and r not in promotions} == {plan.NIGHTLY_DAYS}


@pytest.mark.sqlite
def test_a_run_syncs_structure_and_performance_to_the_cent(app, sbx, seller, queue, monkeypatch):
    seller_id = seller.id
    monkeypatch.setitem(outcome.AFTER_SYNC, "probe", "marketing.sync.runs.latest_run")
    result = sync(seller, days=3)
    assert result["status"] == "succeeded", result["error"]
    # structure, 4 SP reports, Sales & Traffic for the range, the coupon and deal reports, FBA inventory
    assert result["reports_done"] == result["reports_total"] == 9
    seller = db.session.get(Seller, seller_id)
    (profile,) = runs.managed_profiles(seller)
    pid = profile.profile_id

    # structure: every kind, archived kept, inherited bids NULL, ids as integers
    assert db.session.scalar(select(func.count()).select_from(SpCampaign).where(SpCampaign.profile_id == pid))
    assert db.session.scalar(select(func.count()).select_from(SpAdGroup).where(SpAdGroup.profile_id == pid))
    assert db.session.scalar(select(func.count()).select_from(SpProductAd).where(SpProductAd.profile_id == pid))
    kinds = dict(db.session.execute(select(SpTarget.kind, func.count()).where(SpTarget.profile_id == pid)
                                    .group_by(SpTarget.kind)).all())
    assert kinds["keyword"] and kinds["target"]
    states = set(db.session.scalars(select(SpTarget.state).where(SpTarget.profile_id == pid)))
    assert "ARCHIVED" in states
    assert db.session.scalar(select(func.count()).select_from(SpTarget).where(SpTarget.bid.is_(None)))
    campaign = db.session.scalars(select(SpCampaign).where(SpCampaign.profile_id == pid)).first()
    assert campaign.bidding_strategy and "PLACEMENT_TOP" in campaign.placement_adjustments

    # performance: our tables hold exactly what the sandbox reports, to the cent
    run = db.session.get(SyncRun, result["id"])
    for report_type, model, sales in (("spCampaigns", SpCampaignDaily, "sales7d"),
                                      ("spTargeting", SpTargetDaily, "sales7d"),
                                      ("spSearchTerm", SpSearchTermDaily, "sales7d")):
        rows = sandbox_rows(seller, pid, report_type, run.start_date, run.end_date)
        cost, got_sales, count = db.session.execute(select(
            func.sum(model.cost), func.sum(model.sales), func.count()).where(model.profile_id == pid)).one()
        assert count == len(rows)
        assert money(cost) == money(sum(money(r["cost"]) for r in rows))
        assert money(got_sales) == money(sum(money(r[sales]) for r in rows))
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficDaily)) == 3
    # daily figures by ASIN come from the sales history's own job, not from a run of several days
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficAsinDaily)) == 0
    assert queue.connection.exists(f"rq:job:after-sync-probe-{run.id}")


@pytest.mark.sqlite
def test_running_the_sync_twice_changes_nothing(app, sbx, seller):
    def snapshot():
        db.session.expire_all()
        tables = (SpCampaignDaily, SpTargetDaily, SpSearchTermDaily, SpProductDaily, SalesTrafficDaily,
                  SalesTrafficAsinDaily, SpTarget, SpCampaign, SpAdGroup, SpProductAd, Promotion, PromotionAsin,
                  InventoryDaily)
        return {m.__tablename__: sorted(tuple(str(v) for k, v in sorted(vars(row).items())
                                              if not k.startswith("_") and k not in ("synced_at", "fetched_at"))
                                        for row in db.session.scalars(select(m)))
                for m in tables}

    seller_id = seller.id
    assert sync(seller, days=2)["status"] == "succeeded"
    first = snapshot()
    assert sync(db.session.get(Seller, seller_id), days=2)["status"] == "succeeded"
    assert snapshot() == first


@pytest.mark.sqlite
def test_a_step_run_twice_does_nothing_the_second_time(app, sbx, seller, queue):
    run, _ = runs.start_run(seller.id, "manual", days=1)
    report = next(r for r in run.reports if r.report_type == "spCampaigns")
    steps.request(report.id)
    db.session.expire_all()
    first = (report.amazon_report_id, report.checks, report.status)
    steps.request(report.id)  # a duplicate delivery of the same job
    db.session.expire_all()
    assert (report.amazon_report_id, report.checks, report.status) == first
    assert drain(run.id)["status"] == "succeeded"


def test_restated_sales_are_pulled_again(app, sbx, seller):
    seller_id = seller.id
    assert sync(seller, days=14)["status"] == "succeeded"
    seller = db.session.get(Seller, seller_id)
    (pid,) = [p.profile_id for p in runs.managed_profiles(seller)]
    before = db.session.scalar(select(func.sum(SpCampaignDaily.sales)))
    set_today(sbx.admin.advance(3))
    result = sync(seller, days=14)
    assert result["status"] == "succeeded", result["error"]
    seller = db.session.get(Seller, seller_id)
    run = db.session.get(SyncRun, result["id"])
    rows = sandbox_rows(seller, pid, "spCampaigns", run.start_date, run.end_date)
    window = (SpCampaignDaily.date >= run.start_date) & (SpCampaignDaily.date <= run.end_date)
    got = db.session.execute(select(func.sum(SpCampaignDaily.cost), func.sum(SpCampaignDaily.sales))
                             .where(window)).one()
    assert (money(got[0]), money(got[1])) == (money(sum(money(r["cost"]) for r in rows)),
                                             money(sum(money(r["sales7d"]) for r in rows)))
    assert db.session.scalar(select(func.sum(SpCampaignDaily.sales))) != before


def test_nightly_starts_a_run_for_each_connected_seller(app, sbx):
    from marketing import sellers
    from marketing.jobs import tick

    connect(sbx, 0)
    sellers.create_seller("Not Connected", "NA")
    db.session.commit()
    started = runs.nightly()
    assert len(started) == 1
    assert runs.nightly() == []  # the run is still going: nothing new
    assert next(t for t in tick.PERIODIC if t.name == "sync-nightly").func == "marketing.sync.runs.nightly"
    assert next(t for t in tick.PERIODIC if t.name == "sync-resume").func == "marketing.sync.runs.resume_all"


def test_one_sellers_trouble_never_stops_the_others_nightly(app, sbx, monkeypatch):
    first, second = connect(sbx, 0), connect(sbx, 1)
    first_id, second_id = first.id, second.id
    real = runs.start_run

    def flaky(seller_id, kind="manual", **kwargs):
        if seller_id == first_id:
            raise RuntimeError("database hiccup")
        return real(seller_id, kind, **kwargs)

    monkeypatch.setattr(runs, "start_run", flaky)
    (started,) = runs.nightly()
    assert db.session.get(SyncRun, started).seller_id == second_id


def test_a_partial_run_is_followed_by_rollups_and_by_suggestions_that_skip_the_incomplete_profile(
        app, sbx, seller, queue):
    """Rollups run on what was stored; the engine leaves out a profile whose targeting window has a hole."""
    from marketing.bids import inputs, suggest

    run, _ = runs.start_run(seller.id, "manual", days=14)
    stored = next(r for r in run.reports if r.report_type == "spCampaigns")
    stored.status = "ingested"
    outcome.fail(run, "Amazon could not generate the spTargeting report.")
    assert run.status == "partial" and run.error == "Amazon could not generate the spTargeting report."
    progress = runs.progress(run)
    assert progress["error"] == (f"1 stored, {len(run.reports) - 1} failed: "
                                 "Amazon could not generate the spTargeting report.")
    for name in outcome.AFTER_SYNC:
        assert queue.connection.exists(f"rq:job:after-sync-{name}-{run.id}")
    pid = stored.profile_id
    assert list(inputs.incomplete_profiles(seller.id, 14)) == [pid]
    suggestions = suggest.run_suggestions(seller.id)
    assert suggestions.status == "succeeded" and suggestions.suggestions == 0
    assert suggestions.notice.startswith(f"Profile {pid} skipped: its targeting data from ")
    nothing, _ = runs.start_run(seller.id, "manual", days=1)
    outcome.fail(nothing, "refused before anything was stored")
    assert nothing.status == "failed"
    assert not queue.connection.exists(f"rq:job:after-sync-dashboard-rollups-{nothing.id}")


def test_after_redis_loses_everything_the_tick_and_the_run_come_back(app, sbx, seller):
    """Redis restarted empty mid-run: the tick chain, the run's step jobs and scheduled checks are gone. The
    workers' keep-alive (`tick.revive`, every 30 s) parks the tick again and resumes the run at once."""
    from marketing import jobs as rq_jobs
    from marketing.jobs import tick

    seller_id = seller.id
    tick.ensure_scheduled()
    run, _ = runs.start_run(seller.id, "manual", days=1)
    run_id = run.id
    assert tick.revive() == []  # the chain is there: nothing to do
    rq_jobs.connection().flushdb()
    assert tick.status().next_slot is None
    assert tick.revive() == ["sync-resume"]
    assert tick.status().next_slot is not None
    assert any(j.startswith("sync-resume-revived-") for j in rq_jobs.queue("sync").job_ids)
    result = drain(run_id)
    assert result["status"] == "succeeded", result["error"]
    assert runs.latest_run(seller_id).id == run_id
