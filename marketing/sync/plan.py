"""What a run asks Amazon for: report types, date windows and attribution windows, per profile.

Pure functions of the profiles and the clock, so the plan is stored once (as SyncReport rows) and a
resumed run never re-plans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from marketing.clock import today_in
from marketing.sync.rows import ADS_REPORT_TYPES, SALES_TRAFFIC

__all__ = ["ADS_REPORT_TYPES", "SALES_TRAFFIC", "plan", "windows"]
STRUCTURE = "structure"  # a pseudo report: one structure sync per profile, tracked like a report
MAX_WINDOW_DAYS = 31  # reporting v3's longest date range per report
# Amazon keeps 95 days; two days' margin so a request made across a time-zone edge is never refused.
BACKFILL_DAYS = 93
NIGHTLY_DAYS = 14  # Amazon restates attributed sales for about two weeks
# Amazon sums a Sales & Traffic report's by-ASIN figures over its whole range, so daily by-ASIN facts need
# one-day reports; createReport allows a burst of 15 and then one a minute, so a run asks for at most this
# many (the latest days not yet stored: yesterday, on a nightly run).
ASIN_DAYS = 3


@dataclass(frozen=True)
class PlannedReport:
    source: str  # ads | sp
    report_type: str
    profile_id: int
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


def plan(profiles, days_for, sales_traffic: bool, asin_stored: Collection[tuple[str, dt.date]] = ()
         ) -> list[PlannedReport]:
    """Structure + the four SP reports per profile; per seller marketplace, one Sales & Traffic report for the
    range (daily totals) and one-day reports for up to `ASIN_DAYS` of its latest days (daily by ASIN).

    `profiles` are AdsProfile rows; `days_for(profile)` is how many trailing days that profile needs;
    `asin_stored` the (marketplace id, day) pairs that already have by-ASIN facts.
    """
    out: list[PlannedReport] = []
    markets: dict[str, tuple[int, dt.date, dt.date]] = {}
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
    if not sales_traffic:
        return out
    for market, (pid, start, end) in sorted(markets.items()):
        out.append(PlannedReport("sp", SALES_TRAFFIC, pid, market, start, end))
        if start == end:  # a one-day report already carries that day by ASIN
            continue
        days = [end - dt.timedelta(days=n) for n in range(min(ASIN_DAYS, (end - start).days + 1))]
        out.extend(PlannedReport("sp", SALES_TRAFFIC, pid, market, day, day)
                   for day in sorted(days) if (market, day) not in asin_stored)
    return out
