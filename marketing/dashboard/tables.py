"""The dashboard's tables as CSV rows: one header and one cell order for metrics, whichever page downloads."""

from __future__ import annotations

from collections.abc import Iterator

from marketing.dashboard import periods
from marketing.dashboard.metrics import Metrics

METRIC_HEADER = ["currency", "impressions", "clicks", "spend", "ad_sales", "orders", "units", "acos", "roas", "cpc"]
OVERVIEW_HEADER = ["seller", "from", "to", *METRIC_HEADER, "tacos", "previous_spend", "previous_ad_sales"]


def metric_cells(m: Metrics, currency: str) -> list:
    return [currency, m.impressions, m.clicks, m.cost, m.sales, m.orders, m.units, _plain(m.acos), _plain(m.roas),
            _plain(m.cpc)]


def _plain(value):
    return "" if value is None else round(value, 4)


def overview_rows(result, when: periods.Period) -> Iterator[list]:
    """Every visible seller's period metrics per currency, with the previous period's spend and sales."""
    for s in result.sellers:
        for currency, c in s.comparisons.items():
            yield [s.seller.name, when.start, when.end, *metric_cells(c.current, currency), _plain(c.current.tacos),
                   c.previous.cost, c.previous.sales]
