"""Aggregated queries: currencies kept apart, change vs the previous period, TACoS only with Sales & Traffic."""

from decimal import Decimal

import pytest

from marketing.dashboard import overview, periods, queries
from marketing.dashboard.rollups import refresh_rollups
from tests.dashboard.conftest import TODAY, day

pytestmark = pytest.mark.sqlite

LAST_7 = periods.preset("7d", TODAY)


@pytest.fixture
def two_markets(make_seller, seed):
    """One seller advertising in the US (USD) and Canada (CAD), Sales & Traffic synced for the US only."""
    seller = make_seller("Two Markets")
    seed.connect(seller, (1, "US", "USD", "America/New_York"), (2, "CA", "CAD", "America/Toronto"))
    seed.campaign(seller, 1, 10, "US one", days={day(n): (100, 10, "10.00", 1, "40.00") for n in range(1, 15)})
    seed.campaign(seller, 2, 20, "CA one", currency="CAD",
                  days={day(n): (100, 10, "5.00", 1, "10.00") for n in range(1, 8)})
    for n in range(1, 4):  # Sales & Traffic covers three of the seven days
        seed.sales_traffic(seller, "US", day(n), "200.00")
    seed.rollup(seller)
    return seller


def test_totals_are_per_currency_and_never_mixed(two_markets):
    totals = queries.totals([two_markets.id], LAST_7)
    assert set(totals) == {(two_markets.id, "USD"), (two_markets.id, "CAD")}
    assert totals[(two_markets.id, "USD")].cost == Decimal("70.00")
    assert totals[(two_markets.id, "CAD")].cost == Decimal("35.00")
    assert totals[(two_markets.id, "CAD")].acos == Decimal("0.5")


def test_tacos_only_where_sales_and_traffic_exists(two_markets):
    totals = queries.totals([two_markets.id], LAST_7)
    us, ca = totals[(two_markets.id, "USD")], totals[(two_markets.id, "CAD")]
    assert us.total_sales == Decimal("600.00") and us.tacos_cost == Decimal("30.00")  # the 3 covered days only
    assert us.tacos == Decimal("0.05")
    assert ca.tacos is None and ca.total_sales is None


def test_daily_series_cover_every_day_and_only_known_days_have_tacos(two_markets):
    series = queries.daily([two_markets.id], LAST_7)["USD"]
    assert [d for d, _ in series] == LAST_7.dates()
    assert [m.tacos is not None for _, m in series] == [False] * 4 + [True] * 3


def test_change_vs_previous_period_and_totals_per_currency_in_the_overview(two_markets, make_seller, seed):
    other = make_seller("Euro Shop")
    seed.connect(other, (3, "DE", "EUR", "Europe/Berlin"))
    seed.campaign(other, 3, 30, "DE one", currency="EUR", days={day(n): (10, 1, "1.00", 0, "0") for n in range(1, 8)})
    seed.rollup(other)
    from marketing.clock import now

    result = overview.build([two_markets, other], LAST_7, now())
    assert set(result.totals) == {"USD", "CAD", "EUR"}
    us = result.totals["USD"]
    assert us.current.cost == Decimal("70.00") and us.previous.cost == Decimal("70.00")  # days 8-14
    assert us.change("cost") == 0
    assert result.totals["CAD"].previous.cost == 0 and result.totals["CAD"].change("cost") is None
    summary = next(s for s in result.sellers if s.seller.id == two_markets.id)
    assert set(summary.comparisons) == {"USD", "CAD"}


def test_unmanaged_profiles_are_left_out(two_markets, db):
    from marketing.models import AdsProfile

    db.session.query(AdsProfile).filter_by(profile_id=2).update({"managed": False})
    db.session.commit()
    assert set(queries.totals([two_markets.id], LAST_7)) == {(two_markets.id, "USD")}


def test_refresh_rollups_is_idempotent_and_replaces_its_window(two_markets, seed, db):
    before = queries.totals([two_markets.id], LAST_7)
    assert refresh_rollups(two_markets.id, day(7), day(1)) == 14
    assert refresh_rollups(two_markets.id, day(7), day(1)) == 14
    assert queries.totals([two_markets.id], LAST_7) == before
    from marketing.models import SpCampaignDaily

    db.session.query(SpCampaignDaily).filter_by(profile_id=1, date=day(1)).update({"cost": Decimal("99")})
    db.session.commit()
    refresh_rollups(two_markets.id, day(1).isoformat(), day(1).isoformat())
    assert queries.totals([two_markets.id], LAST_7)[(two_markets.id, "USD")].cost == Decimal("159.00")


def test_problems_come_first(make_seller, seed, db):
    from marketing.clock import now
    from marketing.models import SyncRun

    calm, failing, revoked, costly, barren = (make_seller(n) for n in ("A calm", "B failing", "C revoked",
                                                                          "D costly", "E barren"))
    for seller in (calm, failing, costly, barren):
        seed.connect(seller, (seller.id * 10, "US", "USD", "UTC"))
    seed.connect(revoked, (99, "US", "USD", "UTC"), revoked_at=now())
    seed.campaign(costly, costly.id * 10, 1, "c", days={day(1): (10, 5, "90", 1, "100")})  # ACoS 90% vs 30%
    seed.campaign(barren, barren.id * 10, 2, "b", days={day(1): (10, 5, "40", 0, "0")})  # spend, no sales
    seed.rollup(costly)
    seed.rollup(barren)
    db.session.add(SyncRun(seller_id=failing.id, kind="nightly", status="failed", start_date=day(3),
                           end_date=day(1), error="boom"))
    db.session.commit()
    result = overview.build([calm, failing, revoked, costly, barren], LAST_7, now())
    assert [s.seller.name for s in result.sellers] == ["C revoked", "B failing", "D costly", "E barren", "A calm"]
    assert result.sellers[2].problems == [(3, "ACoS 90% vs target 30% (USD)")]
    assert result.sellers[3].problems == [(3, "Spend without sales (USD)")]
    assert calm.id in {s.seller.id for s in result.page.items} and result.page.total == 5
    assert result.sellers[4].empty_state == "first_sync"


def test_campaign_listing_filters_sorts_and_pages(shop):
    listing = queries.Listing(sort="acos", descending=True, per_page=1)
    page = queries.campaigns(111, periods.preset("30d", TODAY), listing)
    assert page.total == 2 and page.pages == 2 and page.items[0].info["name"] == "<script>alert(1)</script>"
    beyond = queries.campaigns(111, periods.preset("30d", TODAY), queries.Listing(per_page=1, page=9))
    assert (beyond.page, beyond.total, [r.id for r in beyond.items]) == (2, 2, [1002])  # the last page instead
    paused = queries.campaigns(111, periods.preset("30d", TODAY), queries.Listing(state="paused"))
    assert [r.id for r in paused.items] == [1002]
    named = queries.campaigns(111, periods.preset("30d", TODAY), queries.Listing(search="tents"))
    assert [r.id for r in named.items] == [1001]
    assert queries.campaigns(111, periods.preset("30d", TODAY), queries.Listing(search="%")).total == 0


def test_spend_without_sales_is_the_worst_acos(shop, seed):
    """Sorted by ACoS, worst first, a campaign that spends and sells nothing leads (it used to sink last)."""
    seed.campaign(shop, 111, 1003, "Burning", days={day(n): (300, 20, "15.00", 0, "0") for n in range(1, 8)})
    seed.campaign(shop, 111, 1004, "Idle", days={day(1): (0, 0, "0", 0, "0")})
    worst = queries.campaigns(111, periods.preset("30d", TODAY), queries.Listing(sort="acos", descending=True))
    assert [r.id for r in worst.items] == [1003, 1002, 1001, 1004]
    best = queries.campaigns(111, periods.preset("30d", TODAY), queries.Listing(sort="acos", descending=False))
    assert [r.id for r in best.items] == [1001, 1002, 1003, 1004]


def test_targets_show_the_ad_group_default_bid_when_inherited(shop):
    page = queries.targets(111, 1001, periods.preset("30d", TODAY), queries.Listing(sort="text", descending=False))
    rows = {r.info["text"]: r for r in page.items}
    assert rows["camping tent"].info["bid"] == Decimal("0.75") and rows["camping tent"].info["inherited"]
    assert rows["tent 4 person"].info["bid"] == Decimal("1.10") and not rows["tent 4 person"].info["inherited"]
    assert rows["tent 4 person"].metrics.cost == Decimal("240.00")


def test_the_rollup_refresh_follows_every_successful_sync(two_markets, db):
    from marketing.dashboard import rollups
    from marketing.models import ProfileDaily, SyncReport, SyncRun
    from marketing.sync import outcome

    assert outcome.AFTER_SYNC["dashboard-rollups"] == "marketing.dashboard.rollups.after_sync"
    db.session.query(ProfileDaily).delete()
    run = SyncRun(seller_id=two_markets.id, kind="nightly", status="succeeded", start_date=day(3), end_date=day(1))
    run.reports.append(SyncReport(source="ads", profile_id=1, report_type="spCampaigns", start_date=day(5),
                                  end_date=day(1)))
    db.session.add(run)
    db.session.commit()
    rollups.after_sync(two_markets.id, run.id)
    days = {row.date for row in db.session.query(ProfileDaily)}
    assert days == {day(n) for n in range(1, 6)}  # the reports' window, wider than the run's
