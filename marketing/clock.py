"""The product's one clock.

Everything that asks "what day is it" for business purposes (report windows, look-backs, expiry warnings)
asks here, so tests and benchmarks can set the date to the sandbox market's simulated `today`.
Setting it is refused in production (see `Settings.validate`).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

_override: dt.date | None = None


def set_today(day: dt.date | None) -> None:
    """Pin (or unpin, with None) the business date for this process; tests and benchmarks only."""
    global _override
    if day is not None and has_app_context() and current_app.config.get("MARKETING_ENV") == "production":
        raise RuntimeError("the clock cannot be set in production")
    _override = day


def now() -> dt.datetime:
    """Wall-clock time, always UTC-aware (token lifetimes, audit timestamps)."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """The business date: pinned by a test/benchmark, `MARKETING_TODAY`, or the UTC date."""
    if _override is not None:
        return _override
    if has_app_context() and current_app.config.get("MARKETING_TODAY"):
        return dt.date.fromisoformat(current_app.config["MARKETING_TODAY"])
    return now().date()


def today_in(timezone: str | None) -> dt.date:
    """The business date as seen in an Ads profile's time zone (unknown zone: UTC).

    Amazon reports by the profile's local day: at 02:00 UTC it is still yesterday in Los Angeles.
    """
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    moment = now()
    return today() + (moment.astimezone(zone).date() - moment.date())
