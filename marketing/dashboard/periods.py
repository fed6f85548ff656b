"""The date range a page shows: presets, `?from=&to=` validation, and the previous period to compare with.

Report dates are already days in each profile's time zone (Amazon reports that way), so a range is a plain
pair of dates; "today" comes from `marketing.clock.today()` so tests and benchmarks can pin it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PRESETS = {"7d": "Last 7 days", "14d": "Last 14 days", "30d": "Last 30 days", "90d": "Last 90 days",
           "mtd": "Month to date"}
DEFAULT_PRESET = "30d"
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    preset: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same number of days immediately before."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def label(self) -> str:
        return PRESETS.get(self.preset) or f"{self.start.isoformat()} – {self.end.isoformat()}"

    def args(self) -> dict[str, str]:
        """Query arguments that reproduce this period in a link."""
        if self.preset:
            return {"range": self.preset}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def preset(key: str, today: dt.date) -> Period:
    """Presets end yesterday (the last complete day) except month to date, which includes today."""
    if key == "mtd":
        return Period(today.replace(day=1), today, "mtd")
    days = int(key.rstrip("d"))
    return Period(today - dt.timedelta(days=days), today - dt.timedelta(days=1), key)


def resolve(args, today: dt.date) -> tuple[Period, str | None]:
    """The period asked for in `args` (a request's query arguments), or the default and a message saying why."""
    default = preset(DEFAULT_PRESET, today)
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if not raw_from and not raw_to:
        key = args.get("range") or DEFAULT_PRESET
        if key not in PRESETS:
            return default, f"Unknown date range “{key[:20]}”; showing {default.label.lower()}."
        return preset(key, today), None
    try:
        start, end = dt.date.fromisoformat(raw_from[:10]), dt.date.fromisoformat(raw_to[:10])
    except ValueError:
        return default, f"Enter dates as YYYY-MM-DD; showing {default.label.lower()}."
    if start > end:
        return default, f"The start date is after the end date; showing {default.label.lower()}."
    if end > today:
        return default, f"The range ends in the future; showing {default.label.lower()}."
    if (end - start).days + 1 > MAX_DAYS:
        return default, f"Choose at most {MAX_DAYS} days; showing {default.label.lower()}."
    return Period(start, end), None
