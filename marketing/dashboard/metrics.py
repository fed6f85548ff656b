"""Summed advertising metrics and the ratios derived from them (derived after summing, never averaged)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


def ratio(numerator, denominator) -> Decimal | None:
    """numerator / denominator, or None when the denominator is zero or unknown."""
    if numerator is None or not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def change(current, previous) -> Decimal | None:
    """Relative change from `previous` to `current` (0.1 = +10%); None without a non-zero previous value."""
    if current is None or not previous:
        return None
    return (Decimal(current) - Decimal(previous)) / Decimal(previous)


@dataclass(frozen=True)
class Metrics:
    impressions: int = 0
    clicks: int = 0
    cost: Decimal = ZERO
    orders: int = 0
    units: int = 0
    sales: Decimal = ZERO
    # Seller Central's ordered sales and the ad cost of the same days; None where Sales & Traffic is not synced.
    total_sales: Decimal | None = None
    tacos_cost: Decimal | None = None

    @classmethod
    def from_row(cls, row, **extra) -> Metrics:
        return cls(impressions=int(row.impressions or 0), clicks=int(row.clicks or 0), cost=row.cost or ZERO,
                   orders=int(row.orders or 0), units=int(row.units or 0), sales=row.sales or ZERO, **extra)

    @property
    def acos(self) -> Decimal | None:
        return ratio(self.cost, self.sales)

    @property
    def roas(self) -> Decimal | None:
        return ratio(self.sales, self.cost)

    @property
    def cpc(self) -> Decimal | None:
        return ratio(self.cost, self.clicks)

    @property
    def ctr(self) -> Decimal | None:
        return ratio(self.clicks, self.impressions)

    @property
    def tacos(self) -> Decimal | None:
        return ratio(self.tacos_cost, self.total_sales)

    def __add__(self, other: Metrics) -> Metrics:
        """Sum of two metric sets in the same currency; TACoS parts stay None only if unknown on both sides."""
        return Metrics(self.impressions + other.impressions, self.clicks + other.clicks, self.cost + other.cost,
                       self.orders + other.orders, self.units + other.units, self.sales + other.sales,
                       _add_known(self.total_sales, other.total_sales), _add_known(self.tacos_cost, other.tacos_cost))


def _add_known(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None:
        return b
    return a if b is None else a + b


@dataclass(frozen=True)
class Comparison:
    """A period's metrics beside the previous period's, with the change of each KPI."""

    current: Metrics
    previous: Metrics

    def change(self, kpi: str) -> Decimal | None:
        return change(getattr(self.current, kpi), getattr(self.previous, kpi))
