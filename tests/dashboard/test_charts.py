"""Figure builders, checked on fig.to_dict(): traces, axes, the second y-axis and hover text."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from marketing import charts
from marketing.dashboard.metrics import Metrics
from marketing.dashboard.queries import BidChange, TargetDay

START = dt.date(2026, 3, 1)


def days(n=3, total_sales=None):
    return [(START + dt.timedelta(days=i),
             Metrics(clicks=10, cost=Decimal("1234.5"), sales=Decimal("4115"), total_sales=total_sales,
                     tacos_cost=Decimal("1234.5") if total_sales else None)) for i in range(n)]


def test_trend_has_spend_and_sales_bars_and_acos_on_a_second_axis():
    fig = charts.daily_trend({"USD": days()}, "Acme").to_dict()
    kinds = [(t["type"], t["name"], t["yaxis"]) for t in fig["data"]]
    assert kinds == [("bar", "Spend", "y"), ("bar", "Ad sales", "y"), ("scatter", "ACoS", "y2")]
    layout = fig["layout"]
    assert layout["yaxis"]["title"]["text"] == "USD"
    assert layout["yaxis2"]["overlaying"] == "y" and layout["yaxis2"]["side"] == "right"
    assert layout["yaxis2"]["tickformat"] == ".0%"
    spend, sales, acos = fig["data"]
    assert spend["hovertext"][0] == "<b>Acme</b><br>Spend: 1,234.50 USD"
    assert sales["hovertext"][0] == "Ad sales: 4,115.00 USD"
    assert acos["hovertext"][0] == "ACoS: 30.0%" and acos["y"][0] == pytest.approx(0.3)
    assert spend["x"][0] == "2026-03-01"


def test_tacos_line_only_where_sales_and_traffic_is_known():
    assert "TACoS" not in [t["name"] for t in charts.daily_trend({"USD": days()}, "x").to_dict()["data"]]
    fig = charts.daily_trend({"USD": days(total_sales=Decimal("12345"))}, "x").to_dict()
    tacos = next(t for t in fig["data"] if t["name"] == "TACoS")
    assert tacos["yaxis"] == "y2" and tacos["hovertext"][0] == "TACoS: 10.0%"


def test_each_currency_gets_its_own_axes_so_amounts_never_share_one():
    fig = charts.daily_trend({"USD": days(), "JPY": days()}, "Page").to_dict()
    axes = {t["name"]: t["yaxis"] for t in fig["data"]}
    assert axes == {"Spend (JPY)": "y", "Ad sales (JPY)": "y", "ACoS (JPY)": "y2",
                    "Spend (USD)": "y3", "Ad sales (USD)": "y3", "ACoS (USD)": "y4"}
    layout = fig["layout"]
    assert layout["yaxis"]["title"]["text"] == "JPY" and layout["yaxis3"]["title"]["text"] == "USD"
    assert layout["yaxis"]["domain"][0] > layout["yaxis3"]["domain"][1]  # stacked, not overlapping
    assert fig["data"][0]["hovertext"][0].endswith("Spend: 1,234 JPY")  # no minor units for yen


def test_names_are_escaped_in_hover_text_and_the_json_cannot_close_its_script_tag():
    fig = charts.daily_trend({"USD": days()}, "<script>alert(1)</script>")
    assert fig.to_dict()["data"][0]["hovertext"][0].startswith("<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>")
    payload = charts.to_json(fig)
    assert "<" not in payload and "</script" not in payload.lower()
    assert json.loads(payload)["data"][0]["name"] == "Spend"


def test_a_year_of_days_stays_well_under_the_payload_budget():
    payload = charts.to_json(charts.daily_trend({"USD": days(366, Decimal("9000"))}, "A" * 120))
    assert len(payload.encode()) < 200_000


def test_bid_history_marks_applied_changes_on_the_local_day():
    history = [TargetDay(START + dt.timedelta(days=i), Decimal("0.80"),
                         Metrics(clicks=4, cost=Decimal("2.4"), sales=Decimal("12"))) for i in range(5)]
    changes = [BidChange(dt.datetime(2026, 3, 3, 5, 0, tzinfo=dt.UTC), "bid.applied", "m@example.com",
                         Decimal("0.80"), Decimal("0.95"))]
    fig = charts.bid_history(history, changes, "USD", "tent <4>", "America/Los_Angeles").to_dict()
    names = [t["name"] for t in fig["data"]]
    assert names == ["Bid", "CPC", "ACoS", "Applied change"]
    bid, cpc, acos, applied = fig["data"]
    assert bid["line"]["shape"] == "hv" and bid["hovertext"][0] == "<b>tent &lt;4&gt;</b><br>Bid: 0.80 USD"
    assert cpc["hovertext"][0] == "CPC: 0.60 USD" and acos["yaxis"] == "y2"
    assert applied["x"] == ["2026-03-02"]  # 05:00 UTC is still the 2nd in Los Angeles
    assert applied["y"] == [0.95]
    assert applied["hovertext"] == ["bid.applied by m@example.com: 0.80 USD → 0.95 USD"]
    assert fig["layout"]["shapes"][0]["x0"] == "2026-03-02"
