"""Amazon report sources, one module each: how a sync step creates a report, asks its status and reads its rows.

`steps` picks the adapter by `SyncReport.source` (`for_report`) and stays free of per-API branches; a new
report source is a new module here plus its entry in `SOURCES`.
"""

from __future__ import annotations

from marketing.models import SyncReport
from marketing.sync.sources import ads, sp
from marketing.sync.sources.base import Source, Status

SOURCES: dict[str, Source] = {ads.SOURCE.api: ads.SOURCE, sp.SOURCE.api: sp.SOURCE}

__all__ = ["SOURCES", "Source", "Status", "for_report"]


def for_report(report: SyncReport) -> Source:
    return SOURCES[report.source]
