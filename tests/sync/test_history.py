"""The by-ASIN sales history against the sandbox over real HTTP: its own job chain pulls one report per day
(newest first) then per week, stores what Amazon reports, resumes after losing its jobs, asks for nothing
twice, pulls only the missing days the next night, waits out the rate limit in the scheduler, and shows its
progress on the seller page. Sellers with only Seller Central sync nightly too."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from marketing import jobs, sellers
from marketing.clock import now, set_today, today
from marketing.connections import service
from marketing.extensions import db
from marketing.models import (
    HistoryPull,
    InventoryDaily,
    SalesTrafficAsinDaily,
    SalesTrafficAsinWeekly,
    SalesTrafficDaily,
    Seller,
    SyncRun,
)
from marketing.promotions import history as promotions_history
from marketing.sync import history, plan, runs
from tests.sync.conftest import connect, drain, sp_document, work

SMALL = {"HISTORY_DAILY_DAYS": 4, "HISTORY_BACK_DAYS": 25, "HISTORY_POLL_SECONDS": 0.05, "HISTORY_IN_FLIGHT": 3}


@pytest.fixture
def seller(app, sbx):
    app.config.update(SMALL)
    return connect(sbx, 0, countries=("US",))


def pulls(seller_id: int) -> dict[tuple[dt.date, int], HistoryPull]:
    db.session.expire_all()
    return {(p.start_date, p.days): p for p in db.session.scalars(
        select(HistoryPull).where(HistoryPull.seller_id == seller_id))}


def pull_all(seller_id: int) -> None:
    history.queue(seller_id)
    work()


def by_asin(seller: Seller, market: str, start: dt.date, days: int) -> dict[str, tuple[int, str]]:
    """Units and parent ASIN by child ASIN as the sandbox reports that day or week (the oracle)."""
    body = sp_document(seller, plan.SALES_TRAFFIC, market, start, start + dt.timedelta(days=days - 1),
                       options={"dateGranularity": "DAY" if days == 1 else "WEEK", "asinGranularity": "CHILD"})
    return {row["childAsin"]: (row["salesByAsin"]["unitsOrdered"], row["parentAsin"])
            for row in body.get("salesAndTrafficByAsin", [])}


def test_the_wanted_reports_are_each_day_newest_first_then_whole_weeks_before(app):
    app.config.update(SMALL)
    day = dt.date(2026, 3, 12)  # a Thursday
    got = list(history.wanted(day))
    assert got[:4] == [(dt.date(2026, 3, d), 1) for d in (11, 10, 9, 8)]
    weeks = [start for start, days in got[4:]]
    assert all(days == 7 for _, days in got[4:]) and all(w.weekday() == 6 for w in weeks)  # Sundays
    assert weeks[0] + dt.timedelta(days=6) < dt.date(2026, 3, 8)  # whole weeks before the daily days
    assert weeks == sorted(weeks, reverse=True) and weeks[-1] >= day - dt.timedelta(days=25)
    assert weeks[-1] - dt.timedelta(days=7) < day - dt.timedelta(days=25)


@pytest.mark.sqlite
def test_the_history_stores_each_day_and_week_as_amazon_reports_it_and_shows_its_progress(
        app, sbx, seller, client, marketer):
    seller_id = seller.id
    pull_all(seller_id)
    got = pulls(seller_id)
    market = next(iter(runs.sp_marketplaces(db.session.get(Seller, seller_id))))
    assert set(got) == set(history.wanted())
    assert {p.status for p in got.values()} <= {"done", "empty"} and any(p.status == "done" for p in got.values())
    seller = db.session.get(Seller, seller_id)
    yesterday = today() - dt.timedelta(days=1)
    s = SalesTrafficAsinDaily
    stored = {asin: (units, parent) for asin, units, parent in db.session.execute(
        select(s.asin, s.units_ordered, s.parent_asin).where(s.seller_id == seller_id, s.date == yesterday))}
    assert stored and stored == by_asin(seller, market, yesterday, 1)
    assert any(asin != parent for asin, (_, parent) in stored.items())  # siblings, for cannibalisation
    frame = promotions_history.daily(seller_id, market, yesterday, yesterday)
    assert dict(zip(frame["asin"], frame["parent_asin"], strict=True)) == {a: p for a, (_, p) in stored.items()}
    week = max(start for start, days in got if days == 7 and got[(start, days)].status == "done")
    w = SalesTrafficAsinWeekly
    weekly = {asin: (units, parent) for asin, units, parent in db.session.execute(
        select(w.asin, w.units_ordered, w.parent_asin).where(w.week_start == week))}
    assert weekly and weekly == by_asin(seller, market, week, 7)
    oldest = min(start for start, days in got if days == 7 and got[(start, days)].status == "done")
    line = f"Sales history: 4 of 4 days, weekly back to {oldest.isoformat()}"
    assert history.progress(seller) == line
    assert line in client.get(f"/sellers/{seller_id}").get_data(as_text=True)


def test_the_history_resumes_after_losing_its_jobs_and_asks_for_nothing_twice(app, sbx, seller):
    seller_id = seller.id
    history.queue(seller_id)
    work(until=lambda: any(p.status == "done" for p in pulls(seller_id).values())
         and any(p.status == "requested" for p in pulls(seller_id).values()))
    requested = {key: p.amazon_report_id for key, p in pulls(seller_id).items()}
    queue = jobs.queue("sync")  # the worker and Redis lose every job of the chain
    queue.empty()
    for job_id in queue.scheduled_job_registry.get_job_ids():
        queue.scheduled_job_registry.remove(job_id, delete_job=True)
    pull_all(seller_id)
    got = pulls(seller_id)
    assert set(got) == set(history.wanted()) and {p.status for p in got.values()} <= {"done", "empty"}
    assert all(got[key].amazon_report_id == report_id for key, report_id in requested.items())  # not asked again
    ids = [p.amazon_report_id for p in got.values()]
    assert len(set(ids)) == len(ids)
    rows = db.session.scalar(select(func.count()).select_from(SalesTrafficAsinDaily))
    pull_all(seller_id)  # everything is in: the chain asks for nothing
    again = pulls(seller_id)
    assert {k: (p.amazon_report_id, p.updated_at) for k, p in again.items()} == {
        k: (p.amazon_report_id, p.updated_at) for k, p in got.items()}
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficAsinDaily)) == rows


def test_the_next_night_pulls_only_the_missing_days(app, sbx, seller):
    seller_id = seller.id
    pull_all(seller_id)
    before = {key: p.amazon_report_id for key, p in pulls(seller_id).items()}
    set_today(sbx.admin.advance(1))
    assert history.queue_all() == 1
    work()
    after = pulls(seller_id)
    new = {key for key in after if key not in before}
    assert (today() - dt.timedelta(days=1), 1) in new
    assert new == set(history.wanted()) - set(before)  # yesterday, and a week that has left the daily range
    assert all(after[key].amazon_report_id == report_id for key, report_id in before.items())


def test_with_the_create_burst_spent_the_chain_waits_in_the_scheduler_not_in_a_worker(app, sbx, seller):
    app.config.update(HISTORY_DAILY_DAYS=18, HISTORY_BACK_DAYS=18, HISTORY_IN_FLIGHT=18)
    seller_id = seller.id
    history.queue(seller_id)
    queue = jobs.queue("sync")

    def parked() -> bool:
        scheduled = queue.scheduled_job_registry
        due = [scheduled.get_scheduled_time(job_id) for job_id in scheduled.get_job_ids()]
        return not queue.count and any(when > now() + dt.timedelta(seconds=30) for when in due)

    work(until=parked, timeout=120)
    got = pulls(seller_id)
    assert len(got) == 15  # createReport: a burst of 15, then one a minute per selling partner and app
    assert history.progress(db.session.get(Seller, seller_id)).startswith("Sales history: 15 of 18 days")


def test_a_refused_history_stops_with_its_notice_on_the_page(app, sbx, seller):
    sbx.admin.fault("role_denied", path_prefix="/reports")
    seller_id = seller.id
    pull_all(seller_id)
    got = pulls(seller_id)
    assert [p.status for p in got.values()] == ["refused"]  # asked once, not for every day
    line = history.progress(db.session.get(Seller, seller_id))
    assert line.startswith("Sales history: 0 of 4 days. Amazon withheld the Sales & Traffic report")


def test_a_seller_with_only_seller_central_syncs_nightly(app, sbx):
    app.config.update(SMALL)
    info = sbx.sellers[1]
    seller = sellers.create_seller(info.name, info.region)
    seller.marketplaces = sorted(info.marketplace_ids)[:1]  # one marketplace keeps the history within the burst
    seller.selling_partner_id = info.selling_partner_id
    db.session.commit()
    service.prove_refresh_token(seller, "sp", info.sp_refresh_token)
    service.store_token(seller, "sp", info.sp_refresh_token, authorized_at=now(), actor=None, method="cli")
    db.session.commit()
    seller_id = seller.id
    markets = runs.sp_marketplaces(seller)
    assert markets
    (run_id,) = runs.nightly()
    result = drain(run_id)
    assert result["status"] == "succeeded", result["error"]
    run = db.session.get(SyncRun, run_id)
    assert {r.source for r in run.reports} == {"sp"}
    assert {(r.report_type, r.marketplace_id) for r in run.reports} == {
        (t, m) for t in (plan.SALES_TRAFFIC, *plan.PROMOTION_REPORTS, plan.INVENTORY) for m in markets}
    assert (run.end_date - run.start_date).days + 1 == plan.BACKFILL_DAYS  # its first run reaches back
    assert db.session.scalar(select(func.count()).select_from(SalesTrafficDaily)) > 0
    assert db.session.scalar(select(func.count()).select_from(InventoryDaily)) > 0
    assert history.queue_all() == 1
    work()
    assert {p.status for p in pulls(seller_id).values()} <= {"done", "empty"}
    set_today(sbx.admin.advance(1))
    (second,) = runs.nightly()
    assert (db.session.get(SyncRun, second).end_date - db.session.get(SyncRun, second).start_date).days + 1 == \
        plan.NIGHTLY_DAYS


def _after_history_jobs(seller_id: int) -> set[str]:
    return {job_id.split(f"-{seller_id}-")[0] for job_id in jobs.queue("default").job_ids
            if job_id.startswith("after-history-")}


def test_a_chain_that_stored_days_queues_the_work_that_reads_the_history(app, sbx, seller):
    """The sync's follow-up ran before the chain stored its days: the plans' outcomes and the promotion
    suggestions are queued again once it has (the Done-when test found a plan measured with no history)."""
    seller_id = seller.id
    history.queue(seller_id)
    work()
    assert _after_history_jobs(seller_id) == {"after-history-promotion-plans", "after-history-promotion-suggestions"}
    jobs.queue("default").empty()
    history.queue(seller_id)  # everything is in: nothing new stored, nothing queued
    work()
    assert _after_history_jobs(seller_id) == set()
