"""How an ASIN's FBA stock is replenished, learned from its daily inventory history, and the stock it will have.

A promotion that assumes no restock can only be proposed for an ASIN holding the whole promotion's units plus a
month of cover, which is few of them at any time; yet most sellers reorder at a stock level and the shipment
lands a while later. The history the product keeps (fulfillable and inbound units per ASIN and day) shows both:

    shipment      inbound goes from 0 to > 0 on day s (the order), and back to 0 later; the first day after that
                  on which fulfillable rises is its arrival a
    lead_days     the longest a − s seen (the longest, so a slow shipment is not a surprise)
    reorder_units the level at which the seller orders: the order shows on the first day below it, so it lies
                  between fulfillable on day s and on the day before; the median of their midpoints (day s's level
                  alone would put every order a day late, and an ASIN whose cycle leaves it a day of stock would
                  look as if it ran out)
    order_units   the median inbound on the days s: how much an order brings
    drain_units   the median fall of fulfillable per day over the last `DRAIN_DAYS` days that saw no arrival and
                  no stock-out: stock can leave faster than Sales & Traffic's units (removals, damage, other
                  channels), and it is the stock that runs out

`stock_path` then runs the stock forward day by day: each day's demand is taken out, a shipment already inbound
lands `lead_days` after it showed, and a new order is placed when stock falls below the reorder level with nothing
inbound. A shipment whose inbound has cleared but whose units are not in fulfillable yet is being received: still open.
An ASIN without one whole shipment in its history has no model: its restocks are unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.optimize.promotions.panel import to_days

MODEL_COLUMNS = ("lead_days", "reorder_units", "order_units", "drain_units", "shipments", "inbound", "inbound_since")
ARRIVAL_SLACK_DAYS = 3  # a rise of fulfillable this long after inbound cleared is the shipment landing
DRAIN_DAYS = 56


def restock_model(history: pd.DataFrame | None) -> pd.DataFrame:
    """history: asin, date, fulfillable, inbound (one row per ASIN and day). Per ASIN with at least one whole
    shipment: lead_days, reorder_units, order_units, drain_units, shipments (how many were seen), and the latest
    day's open shipment: inbound (units) and inbound_since (epoch day it first showed; NaN when none is open)."""
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in MODEL_COLUMNS})
    if history is None or history.empty:
        return empty
    f = history.dropna(subset=["asin", "date"]).assign(
        asin=lambda x: x["asin"].astype(str), day=lambda x: to_days(x["date"]),
        fulfillable=lambda x: pd.to_numeric(x["fulfillable"], errors="coerce").fillna(0.0),
        inbound=lambda x: pd.to_numeric(x["inbound"], errors="coerce").fillna(0.0),
    ).sort_values(["asin", "day"]).drop_duplicates(["asin", "day"], keep="last")
    asin, day = f["asin"].to_numpy(dtype=object), f["day"].to_numpy()
    stock, inbound = f["fulfillable"].to_numpy(dtype=float), f["inbound"].to_numpy(dtype=float)
    same = np.r_[False, asin[1:] == asin[:-1]]  # the row before is the same ASIN's
    open_ = inbound > 0
    before = np.r_[False, open_[:-1]] & same
    starts = np.flatnonzero(open_ & ~before & same)  # a first row already inbound may be mid-shipment
    clears = np.flatnonzero(~open_ & before)
    rises = np.flatnonzero(same & (stock > np.r_[np.inf, stock[:-1]]))
    if not len(starts):
        return empty
    # each start's clear: the next clear of the same ASIN; its arrival: the first rise soon after the clear
    c = np.searchsorted(clears, starts)
    has_clear = c < len(clears)
    clear = clears[np.minimum(c, max(len(clears) - 1, 0))] if len(clears) else np.zeros(len(starts), int)
    has_clear &= asin[clear] == asin[starts]
    r = np.searchsorted(rises, clear)
    rise = rises[np.minimum(r, max(len(rises) - 1, 0))] if len(rises) else clear
    landed = (r < len(rises)) & (asin[rise] == asin[starts]) & (day[rise] - day[clear] <= ARRIVAL_SLACK_DAYS)
    arrival = np.where(landed, day[rise], day[clear])
    end = pd.Series(day).groupby(asin).transform("max").to_numpy()
    # inbound cleared but not yet in fulfillable, within the slack: the shipment is being received, still open
    receiving = has_clear & ~landed & (day[clear] >= end[starts] - ARRIVAL_SLACK_DAYS)
    trigger = (stock[starts] + stock[starts - 1]) / 2  # `starts` are never an ASIN's first row
    done = pd.DataFrame({"asin": asin[starts], "lead_days": arrival - day[starts], "reorder_units": trigger,
                         "order_units": inbound[starts]})[has_clear & ~receiving]
    if done.empty:
        return empty
    model = done.groupby("asin").agg(lead_days=("lead_days", "max"), reorder_units=("reorder_units", "median"),
                                     order_units=("order_units", "median"), shipments=("lead_days", "size"))
    last = f.groupby("asin").tail(1).set_index("asin")
    still_open = pd.DataFrame({"since": day[starts], "units": inbound[starts]}, index=asin[starts])[
        ~has_clear | receiving].groupby(level=0).last()
    fall = np.r_[stock[:-1] - stock[1:], np.nan]  # from each day to the next
    steady = np.r_[same[1:], False] & (fall >= 0) & (np.r_[stock[1:], 0.0] > 0)
    recent = day >= end - DRAIN_DAYS
    model["drain_units"] = pd.Series(fall[steady & recent]).groupby(asin[steady & recent]).median().reindex(
        model.index)
    model["inbound"] = np.fmax(last["inbound"].reindex(model.index).fillna(0.0),
                               still_open["units"].reindex(model.index).fillna(0.0))
    model["inbound_since"] = np.where(model["inbound"] > 0, still_open["since"].reindex(model.index), np.nan)
    return model.astype(float)


def stock_path(stock: np.ndarray, demand: np.ndarray, *, lead: np.ndarray, reorder: np.ndarray,
               order: np.ndarray, inbound: np.ndarray, arrival: np.ndarray) -> np.ndarray:
    """Sellable units at the start of each day, (n, days + 1), from today's `stock` (n,) and each day's expected
    `demand` (n, days): a day's sales are what it demands, as far as the stock goes; the open shipment of
    `inbound` units lands at the start of day `arrival` (days from today; an overdue one tomorrow); once the stock left
    after a day falls below `reorder` with nothing on its way, an order of `order` units lands `lead` days on."""
    n, days = demand.shape
    out = np.empty((n, days + 1))
    level = np.asarray(stock, dtype=float).copy()
    pending = np.where(np.asarray(inbound) > 0, np.maximum(np.asarray(arrival, dtype=float), 1.0), -1.0)
    qty = np.asarray(inbound, dtype=float).copy()
    out[:, 0] = level
    for k in range(days):
        level = np.maximum(level - demand[:, k], 0.0)
        reorder_now = (pending < 0) & (level < reorder)
        pending = np.where(reorder_now, k + 1 + lead, pending)
        qty = np.where(reorder_now, order, qty)
        landing = pending == k + 1
        level = level + np.where(landing, qty, 0.0)
        pending = np.where(landing, -1.0, pending)
        out[:, k + 1] = level
    return out
