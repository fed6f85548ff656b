"""Plotly figures, built server-side as pure functions of query results.

Every point's hover text is formatted here with `marketing.formatting` (the tables' helpers), and every name
that came from Amazon or a user is HTML-escaped, because plotly.js renders a subset of HTML in labels.
Figures use the empty "none" template with a few explicit styles: plotly's stock templates add ~10 KB of
JSON and ~80 ms of build time per figure. Charts receive daily sums, never per-keyword rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from marketing.dashboard.metrics import Metrics
from marketing.formatting import money, percent

SPEND, SALES, ACOS, TACOS, BID, CPC, CHANGE = "#1f6feb", "#2f855a", "#c0392b", "#b7791f", "#6f42c1", "#1f6feb", "#111"
_FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12, "color": "#1d2330"}
_GRID = "#e4e7ec"

Days = list[tuple[dt.date, Metrics]]


def _layout(height: int, **extra) -> dict:
    return {"template": "none", "font": _FONT, "height": height, "margin": {"l": 70, "r": 60, "t": 30, "b": 40},
            "hovermode": "x unified", "barmode": "group", "bargap": 0.25, "plot_bgcolor": "#fff",
            "paper_bgcolor": "#fff", "legend": {"orientation": "h", "x": 0, "y": 1.08},
            "xaxis": {"type": "date", "gridcolor": _GRID, "showspikes": False}, **extra}


def _money_axis(currency: str, domain: list[float], **extra) -> dict:
    return {"title": {"text": currency}, "domain": domain, "gridcolor": _GRID, "rangemode": "tozero",
            "tickformat": ",.0f", **extra}


def _ratio_axis(title: str, overlaying: str, domain: list[float]) -> dict:
    return {"title": {"text": title}, "overlaying": overlaying, "side": "right", "tickformat": ".0%",
            "rangemode": "tozero", "showgrid": False, "domain": domain}


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def daily_trend(series: dict[str, Days], label: str) -> go.Figure:
    """Spend and ad-sales bars per day with ACoS (and TACoS, where known) as lines on a second axis.

    One stacked panel per currency, sharing the date axis, so amounts in different currencies never share
    an axis. `label` (the seller, campaign...) heads the hover box.
    """
    currencies = sorted(series)
    traces: list[dict] = []
    layout = _layout(max(320, 280 * len(currencies)))
    gap = 0.08
    height = (1 - gap * (len(currencies) - 1)) / max(1, len(currencies))
    for i, currency in enumerate(currencies):
        days = series[currency]
        money_axis, ratio_axis = f"y{2 * i + 1}" if i else "y", f"y{2 * i + 2}"
        top = 1 - i * (height + gap)
        domain = [max(0.0, top - height), top]
        layout["yaxis" + (str(2 * i + 1) if i else "")] = _money_axis(currency, domain)
        layout["yaxis" + str(2 * i + 2)] = _ratio_axis("ACoS", money_axis, domain)
        dates = [d.isoformat() for d, _ in days]
        suffix = f" ({currency})" if len(currencies) > 1 else ""
        head = f"<b>{escape(label)}</b><br>"
        traces.append(_trace("bar", dates, [m.cost for _, m in days], f"Spend{suffix}", money_axis,
                             [f"{head}Spend: {money(m.cost, currency)}" for _, m in days], marker={"color": SPEND}))
        traces.append(_trace("bar", dates, [m.sales for _, m in days], f"Ad sales{suffix}", money_axis,
                             [f"Ad sales: {money(m.sales, currency)}" for _, m in days], marker={"color": SALES}))
        traces.append(_ratio_line(dates, [m.acos for _, m in days], "ACoS", suffix, ACOS, ratio_axis))
        tacos = [m.tacos for _, m in days]
        if any(t is not None for t in tacos):
            traces.append(_ratio_line(dates, tacos, "TACoS", suffix, TACOS, ratio_axis, dash="dot"))
    return go.Figure({"data": traces, "layout": layout})


def _trace(kind: str, dates: list[str], values: list, name: str, axis: str, hovertext: list[str], **style) -> dict:
    """One trace whose hover shows exactly `hovertext` (formatted like the tables)."""
    return {"type": kind, "x": dates, "y": [_float(v) for v in values], "name": name, "yaxis": axis,
            "hovertext": hovertext, "hovertemplate": "%{hovertext}<extra></extra>", **style}


def _ratio_line(dates: list[str], values: list[Decimal | None], name: str, suffix: str, color: str, axis: str,
                dash: str = "solid") -> dict:
    return _trace("scatter", dates, values, name + suffix, axis, [f"{name}: {percent(v)}" for v in values],
                  mode="lines+markers", line={"color": color, "width": 2, "dash": dash}, marker={"size": 4},
                  connectgaps=False)


def bid_history(days: list, changes: list, currency: str, label: str, timezone: str) -> go.Figure:
    """A target's daily bid (as reported) against its CPC, with ACoS on a second axis and applied changes marked.

    `days` are `queries.TargetDay`s, `changes` are `queries.BidChange`s (marked on the local day they happened).
    """
    dates = [d.date.isoformat() for d in days]
    head = f"<b>{escape(label)}</b><br>"
    traces = [
        _trace("scatter", dates, [d.bid for d in days], "Bid", "y",
               [f"{head}Bid: {money(d.bid, currency)}" for d in days],
               mode="lines", line={"color": BID, "width": 2, "shape": "hv"}, connectgaps=True),
        _trace("scatter", dates, [d.metrics.cpc for d in days], "CPC", "y",
               [f"CPC: {money(d.metrics.cpc, currency)}" for d in days],
               mode="lines+markers", line={"color": CPC, "width": 1.5}, marker={"size": 4}, connectgaps=False),
        _ratio_line(dates, [d.metrics.acos for d in days], "ACoS", "", ACOS, "y2"),
    ]
    layout = _layout(360, yaxis=_money_axis(currency, [0, 1], tickformat=",.2f"),
                     yaxis2=_ratio_axis("ACoS", "y", [0, 1]))
    if changes:
        zone = ZoneInfo(timezone)
        bids = {d.date: d.bid for d in days}
        when = [c.at.astimezone(zone).date() for c in changes]
        traces.append(_trace(
            "scatter", [w.isoformat() for w in when],
            [c.new_bid or bids.get(w) for c, w in zip(changes, when, strict=True)], "Applied change", "y",
            [f"{escape(c.action)} by {escape(c.actor or 'the system')}: "
             f"{money(c.old_bid, currency)} → {money(c.new_bid, currency)}" for c in changes],
            mode="markers",
            marker={"symbol": "diamond", "size": 11, "color": CHANGE, "line": {"color": "#fff", "width": 1}}))
        layout["shapes"] = [{"type": "line", "xref": "x", "yref": "paper", "x0": w.isoformat(), "x1": w.isoformat(),
                             "y0": 0, "y1": 1, "line": {"color": CHANGE, "width": 1, "dash": "dot"}} for w in when]
    return go.Figure({"data": traces, "layout": layout})


def to_json(fig: go.Figure) -> str:
    """The figure as JSON for a `<script type="application/json">` block (plotly escapes `<`, `>` and `/`)."""
    return fig.to_json()


PROMOTION, BASELINE, STOCK = "rgba(183, 121, 31, 0.15)", "#b7791f", "#6f42c1"


def promotion_timeline(days: list, windows: list[dict], label: str, currency: str | None) -> go.Figure:
    """An ASIN's units per day (bars) and price paid (line, second axis), its promotions shaded with each one's
    baseline (units per day) drawn across it, and its FBA stock (dotted, third axis) where known.

    `days` are (date, units, price, stock) tuples, `windows` dicts of label, start, end, baseline."""
    dates = [d.isoformat() for d, _, _, _ in days]
    head = f"<b>{escape(label)}</b><br>"
    traces = [
        _trace("bar", dates, [u for _, u, _, _ in days], "Units", "y",
               [f"{head}Units: {u:,.0f}" for _, u, _, _ in days], marker={"color": SALES}),
        _trace("scatter", dates, [p for _, _, p, _ in days], "Price paid", "y2",
               [f"Price paid: {money(p, currency or '')}" for _, _, p, _ in days], mode="lines",
               line={"color": SPEND, "width": 2}, connectgaps=False),
    ]
    # the legend goes under the dates: the promotions' labels take the top edge
    layout = _layout(400, yaxis={"title": {"text": "Units"}, "gridcolor": _GRID, "rangemode": "tozero"},
                     yaxis2={"title": {"text": currency or "Price"}, "overlaying": "y", "side": "right",
                             "showgrid": False, "rangemode": "tozero", "tickformat": ",.2f"},
                     legend={"orientation": "h", "x": 0, "y": -0.14, "yanchor": "top"},
                     margin={"l": 70, "r": 60, "t": 30, "b": 70})
    if any(s is not None for _, _, _, s in days):
        traces.append(_trace("scatter", dates, [s for _, _, _, s in days], "FBA stock", "y3",
                             [f"Stock: {s:,}" if s is not None else "Stock: unknown" for _, _, _, s in days],
                             mode="lines", line={"color": STOCK, "width": 1, "dash": "dot"}, connectgaps=True))
        layout["yaxis3"] = {"overlaying": "y", "side": "right", "visible": False, "rangemode": "tozero"}
    shapes = []
    for w in windows:
        start, end = w["start"].isoformat(), (w["end"] + dt.timedelta(days=1)).isoformat()
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": start, "x1": end, "y0": 0, "y1": 1,
                       "fillcolor": PROMOTION, "line": {"width": 0}, "layer": "below"})
        if w.get("baseline") is not None:
            shapes.append({"type": "line", "xref": "x", "yref": "y", "x0": start, "x1": end, "y0": w["baseline"],
                           "y1": w["baseline"], "line": {"color": BASELINE, "width": 2, "dash": "dash"}})
    layout["shapes"] = shapes
    layout["annotations"] = [{"x": w["start"].isoformat(), "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom",
                              "xanchor": "left", "showarrow": False, "text": escape(w["label"]),
                              "font": {"size": 10, "color": BASELINE}} for w in windows]
    return go.Figure({"data": traces, "layout": layout})
