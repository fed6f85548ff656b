"""Date ranges from the query string, and the formatting shared by tables and hover text."""

import datetime as dt
from decimal import Decimal

import pytest

from marketing import formatting
from marketing.dashboard import periods
from marketing.dashboard.metrics import Comparison, Metrics

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize(("args", "start", "end"), [
    ({}, dt.date(2026, 2, 13), dt.date(2026, 3, 14)),
    ({"range": "7d"}, dt.date(2026, 3, 8), dt.date(2026, 3, 14)),
    ({"range": "90d"}, dt.date(2025, 12, 15), dt.date(2026, 3, 14)),
    ({"range": "mtd"}, dt.date(2026, 3, 1), TODAY),
    ({"from": "2026-01-01", "to": "2026-01-31"}, dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
])
def test_presets_and_explicit_ranges(args, start, end):
    period, message = periods.resolve(args, TODAY)
    assert (period.start, period.end, message) == (start, end, None)


@pytest.mark.parametrize("args", [
    {"from": "yesterday", "to": "2026-01-01"}, {"from": "2026-02-30", "to": "2026-03-01"},
    {"from": "2026-03-01", "to": "2026-02-01"}, {"from": "2026-03-01", "to": "2027-01-01"},
    {"from": "2020-01-01", "to": "2026-01-01"}, {"from": "2026-01-01"}, {"range": "<b>"},
])
def test_bad_ranges_fall_back_to_the_default_with_a_message(args):
    period, message = periods.resolve(args, TODAY)
    assert period == periods.preset("30d", TODAY)
    assert message and "showing last 30 days" in message


def test_previous_period_has_the_same_length_just_before():
    period = periods.Period(dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    assert period.previous() == periods.Period(dt.date(2026, 2, 19), dt.date(2026, 2, 28))


def test_formatting():
    assert formatting.money(Decimal("1234.5"), "EUR") == "1,234.50 EUR"
    assert formatting.money(Decimal("1234.5"), "JPY") == "1,234 JPY"
    assert formatting.money(None, "USD") == formatting.percent(None) == "—"
    assert formatting.percent(Decimal("0.2345")) == "23.4%"
    assert formatting.change(Decimal("-0.5")) == "-50.0%" and formatting.change(Decimal("0.1")) == "+10.0%"
    stamp = dt.datetime(2026, 3, 2, 5, 30, tzinfo=dt.UTC)
    assert formatting.local_time(stamp, "America/Los_Angeles") == "2026-03-01 21:30 PST"


def test_ratios_are_derived_after_summing_and_change_needs_a_previous_value():
    a = Metrics(clicks=10, cost=Decimal("10"), sales=Decimal("100"))
    b = Metrics(clicks=30, cost=Decimal("30"), sales=Decimal("0"))
    total = a + b
    assert total.acos == Decimal("0.4") and total.cpc == Decimal("1")
    assert b.acos is None and Metrics().tacos is None
    comparison = Comparison(total, a)
    assert comparison.change("cost") == Decimal("3") and Comparison(a, Metrics()).change("cost") is None
