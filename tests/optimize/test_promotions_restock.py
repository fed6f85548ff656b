"""Restocks learned from the FBA inventory history, and the stock run forward with them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketing.optimize.promotions.panel import to_days
from marketing.optimize.promotions.restock import restock_model, stock_path
from tests.optimize.promo_data import fba_inventory

DAY0 = date(2026, 1, 1)


def inventory(**kwargs) -> pd.DataFrame:
    return fba_inventory(first=DAY0, **kwargs)


def test_lead_time_reorder_level_order_size_and_drain_are_learned():
    model = restock_model(inventory(lead=12, drain=11.0))
    row = model.loc["A1"]
    assert row["lead_days"] == 12
    assert 190 < row["reorder_units"] <= 200  # between the first level seen below the reorder point and the one before
    assert row["order_units"] == 450 and row["shipments"] >= 2
    assert row["drain_units"] == pytest.approx(11.0)  # the stock's own pace, not the sales'


def test_the_longest_lead_seen_counts():
    slow = inventory(lead=20, days=60, asin="A1")
    fast = inventory(lead=10, days=200, asin="A1")
    fast["date"] = fast["date"] + timedelta(days=60)
    assert restock_model(pd.concat([slow, fast]))["lead_days"].iat[0] == 20


def test_the_open_shipment_and_its_age_are_today_s():
    history = inventory(days=150)
    starts = history.index[(history["inbound"] > 0) & (history["inbound"].shift(1) == 0)]
    assert restock_model(history.iloc[: starts[0] + 3]).empty  # no whole shipment seen yet: no model
    model = restock_model(history.iloc[: starts[1] + 3]).loc["A1"]  # the second one, 3 days on its way
    assert model["inbound"] == 450 and model["inbound_since"] == to_days([history["date"].iat[starts[1]]])[0]
    assert model["shipments"] == 1


def test_a_shipment_cleared_but_not_yet_in_fulfillable_is_still_open():
    """Inbound reads 0 on the landing day and fulfillable rises only the next: on that day the shipment is being
    received, not gone, and it does not count as a whole shipment with a lead one day short."""
    history = inventory(days=150)
    clears = history.index[(history["inbound"] == 0) & (history["inbound"].shift(1) > 0)]
    landing = clears[-1]
    model = restock_model(history.iloc[: landing + 1]).loc["A1"]
    assert model["inbound"] == 450 and np.isfinite(model["inbound_since"])
    assert model["lead_days"] == 12


def test_no_history_no_model():
    assert restock_model(None).empty and restock_model(pd.DataFrame(columns=["asin", "date", "fulfillable",
                                                                            "inbound"])).empty
    flat = inventory(days=30, stock=10_000.0)  # never reorders
    assert restock_model(flat).empty


def test_stock_path_reorders_below_the_level_and_lands_after_the_lead():
    demand = np.full((1, 30), 10.0)
    path = stock_path(np.array([100.0]), demand, lead=np.array([5.0]), reorder=np.array([60.0]),
                      order=np.array([200.0]), inbound=np.array([0.0]), arrival=np.array([-1.0]))[0]
    assert path[0] == 100 and path[4] == 60 and path[5] == 50  # below 60 after day 4's sales: ordered
    assert path[10] == 200 + 0 and path[9] == 10  # lands 5 days later
    never = stock_path(np.array([100.0]), demand, lead=np.array([5.0]), reorder=np.array([-np.inf]),
                       order=np.array([0.0]), inbound=np.array([0.0]), arrival=np.array([-1.0]))[0]
    assert never[10] == 0 and never.min() == 0  # no restock: runs dry and stays dry


def test_an_inbound_shipment_lands_on_its_day_and_blocks_a_second_order():
    demand = np.full((1, 12), 10.0)
    path = stock_path(np.array([50.0]), demand, lead=np.array([5.0]), reorder=np.array([60.0]),
                      order=np.array([200.0]), inbound=np.array([300.0]), arrival=np.array([3.0]))[0]
    assert list(path[:5]) == [50, 40, 30, 320, 310]  # the open shipment, not a new order of 200
    overdue = stock_path(np.array([50.0]), demand, lead=np.array([5.0]), reorder=np.array([60.0]),
                         order=np.array([200.0]), inbound=np.array([300.0]), arrival=np.array([-4.0]))[0]
    assert overdue[1] == 340  # an overdue shipment is expected tomorrow


def test_the_stock_run_forward_orders_on_the_day_the_seller_did():
    """The order shows on the first day below the reorder level (190 when it is 200): a model that took that day's
    level for the reorder level would order a day late in every cycle, its shipment landing a day late, and an ASIN
    whose cycle leaves it a day of stock would look as if it ran out."""
    history = inventory(lead=12, days=200)
    model = restock_model(history).loc["A1"]
    first = int(history.index[history["fulfillable"].diff() > 0][0])  # the first landing: nothing inbound after it
    assert history["inbound"].iat[first] == 0 and len(history) - first > 100  # several cycles run forward
    days = len(history) - first - 1
    path = stock_path(np.array([history["fulfillable"].iat[first]]), np.full((1, days), 10.0),
                      lead=np.array([model["lead_days"]]), reorder=np.array([model["reorder_units"]]),
                      order=np.array([model["order_units"]]), inbound=np.array([0.0]), arrival=np.array([-1.0]))[0]
    assert list(path) == list(history["fulfillable"].iloc[first:].to_numpy())
