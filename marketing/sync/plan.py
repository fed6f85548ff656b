"""What a run asks Amazon for: report types, date windows and attribution windows, per profile.

Pure functions of the profiles and the clock, so the plan is stored once (as SyncReport rows) and a
resumed run never re-plans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from marketing.clock import today, today_in
from marketing.sync.rows import ADS_REPORT_TYPES, COUPONS, PROMOTION_REPORTS, PROMOTIONS, SALES_TRAFFIC

__all__ = ["ADS_REPORT_TYPES", "COUPONS", "PROMOTIONS", "PROMOTION_REPORTS", "SALES_TRAFFIC", "plan", "windows"]
STRUCTURE = "structure"  # a pseudo report: one structure sync per profile, tracked like a report
INVENTORY = "fbaInventory"  # a pseudo report: today's FBA inventory summaries of one marketplace
DIRECT = (STRUCTURE, INVENTORY)  # pseudo reports: one call, no report to request, poll and download
MAX_WINDOW_DAYS = 31  # reporting v3's longest date range per report
# Amazon keeps 95 days; two days' margin so a request made across a time-zone edge is never refused.
BACKFILL_DAYS = 93
NIGHTLY_DAYS = 14  # Amazon restates attributed sales for about two weeks
# Coupon and deal reports select by start date: the first pull reaches back this far (Amazon keeps 2 years;
# a year of baselines and the 28 days around each promotion), later ones re-read the promotions that started
# in the last `PROMOTION_DAYS` (a running promotion's figures grow until it ends).
PROMOTION_FIRST_DAYS = 400
PROMOTION_DAYS = 60


@dataclass(frozen=True)
class PlannedReport:
    source: str  # ads | sp
    report_type: str
    profile_id: int | None  # None: an SP-API report of a seller without Ads
    marketplace_id: str | None
    start: dt.date
    end: dt.date


def windows(start: dt.date, end: dt.date, size: int = MAX_WINDOW_DAYS) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut into consecutive windows of at most `size` days."""
    out = []
    while start <= end:
        last = min(end, start + dt.timedelta(days=size - 1))
        out.append((start, last))
        start = last + dt.timedelta(days=1)
    return out


def profile_range(timezone: str, days: int) -> tuple[dt.date, dt.date]:
    """The trailing `days` complete local days of a profile, ending "yesterday" in its time zone."""
    end = today_in(timezone) - dt.timedelta(days=1)
    return end - dt.timedelta(days=days - 1), end


def promotion_window(first: bool) -> tuple[dt.date, dt.date]:
    """The start dates a coupon or deal report selects: up to yesterday (the window must not reach into the future,
    and Amazon's figures stop at the day before anyway), back `PROMOTION_FIRST_DAYS` the first time."""
    end = today() - dt.timedelta(days=1)
    return end - dt.timedelta(days=(PROMOTION_FIRST_DAYS if first else PROMOTION_DAYS) - 1), end


def plan(profiles, days_for, sales_traffic: bool, *, sp_markets: Collection[str] = (), sp_days: int = NIGHTLY_DAYS,
         promotions_seen: Collection[tuple[str, str]] = ()) -> list[PlannedReport]:
    """Structure + the four SP reports per profile; per seller marketplace (of a seller profile, else of
    `sp_markets` for a seller without Ads, over its trailing `sp_days`): Sales & Traffic for the range (daily
    totals), the coupon and deal reports (`promotion_window`, first or not per `promotions_seen`: the
    (marketplace, report type) pairs stored before) and today's FBA inventory.

    `profiles` are AdsProfile rows; `days_for(profile)` is how many trailing days that profile needs. Daily
    facts by ASIN are the sales history job's (`sync.history`), not a run's.
    """
    out: list[PlannedReport] = []
    markets: dict[str, tuple[int | None, dt.date, dt.date]] = {}
    for profile in profiles:
        start, end = profile_range(profile.timezone, days_for(profile))
        out.append(PlannedReport("ads", STRUCTURE, profile.profile_id, profile.marketplace_id, start, end))
        for first, last in windows(start, end):
            out.extend(PlannedReport("ads", t, profile.profile_id, profile.marketplace_id, first, last)
                       for t in ADS_REPORT_TYPES)
        if profile.account_type != "seller":  # a vendor profile's marketplace is not a Seller Central one
            continue
        known = markets.get(profile.marketplace_id)
        if known is None or (end - start) > (known[2] - known[1]):
            markets[profile.marketplace_id] = (profile.profile_id, start, end)
    for market in sp_markets:
        markets.setdefault(market, (None, *profile_range(None, sp_days)))
    if not sales_traffic:
        return out
    day = today()
    for market, (pid, start, end) in sorted(markets.items()):
        out.append(PlannedReport("sp", SALES_TRAFFIC, pid, market, start, end))
        for report_type in PROMOTION_REPORTS:
            out.append(PlannedReport("sp", report_type, pid, market,
                                     *promotion_window((market, report_type) not in promotions_seen)))
        out.append(PlannedReport("sp", INVENTORY, pid, market, day, day))
    return out
