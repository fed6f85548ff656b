"""ISO weeks (Monday–Sunday): parsing `YYYY-Www`, and the last complete week as seen from a local date."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from marketing.dashboard.periods import Period

_FORMAT = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class Week:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def period(self) -> Period:
        return Period(self.monday, self.sunday)

    def previous(self) -> Week:
        return of(self.monday - dt.timedelta(days=7))

    def __str__(self) -> str:
        return self.label


def of(day: dt.date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number)


def parse(text: str) -> Week:
    """`2026-W49` → Week; ValueError with a sentence for anything else (including W53 of a 52-week year)."""
    match = _FORMAT.match((text or "").strip())
    if not match:
        raise ValueError(f"a week is written YYYY-Www, e.g. 2026-W49; got {text!r}")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{text} does not exist: {year} has no week {number}") from None
    return Week(year, number)


def last_complete(local_today: dt.date) -> Week:
    """The last Monday–Sunday that ended before `local_today`."""
    return of(local_today - dt.timedelta(days=local_today.weekday() + 1))


def zone(name: str | None) -> ZoneInfo:
    """The named IANA time zone; UTC when unset or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return False
    return "/" in name or name == "UTC"
