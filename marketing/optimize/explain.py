"""One sentence per suggestion, with its numbers, cheap enough for a million rows.

Numbers are formatted once per distinct displayed value (np.unique: a few thousand bids, percentages
and counts, whatever the row count), then each template is filled with %-formatting over the columns.
Measured on 1M rows this is ~3× faster than concatenating numpy StringDType arrays piece by piece.
"""

from __future__ import annotations

import string
from decimal import Decimal

import numpy as np

from marketing.optimize.reasons import REASONS, Reason

_NA = np.iinfo(np.int64).min  # display unit of a missing / infinite number

_VALUE = (
    "{orders} {orders_word} from {clicks} {clicks_word} in {days} days (ACoS {acos}){history}: at an estimated "
    "{cvr} CVR and {aov} per order a click is worth {value_per_click}"
)
_BY_ACOS = " and clicks cost ~{cpc_ratio} of the bid, so {target_acos} ACoS allows {ideal_bid}"
_BY_MARGIN = (
    "; at a {break_even_acos} margin before ads, with clicks costing ~{cpc_ratio} of the bid and the next click "
    "{marginal_factor}× the average, the most profitable bid is {ideal_bid} (the {target_acos} ACoS cap would "
    "allow more)"
)
_TEMPLATES = {
    Reason.RAISE_PROFITABLE: _VALUE + _BY_ACOS + "; raise {current_bid} → {proposed_bid} ({change}).",
    Reason.LOWER_UNPROFITABLE: _VALUE + _BY_ACOS + "; lower {current_bid} → {proposed_bid} ({change}).",
    Reason.LOWER_NO_ORDERS: "{clicks} {clicks_word} and 0 orders in {days} days: even optimistically "
    "(CVR ≤ {cvr_high}) this {kind} can't reach {target_acos} ACoS at {current_bid}; lower to {proposed_bid} "
    "({change}).",
    Reason.RAISE_VISIBILITY: "Only {impressions} impressions in {days} days, too few to learn from: "
    "raise {current_bid} → {proposed_bid} ({change}) for visibility.",
    Reason.CLAMPED_MIN: "{current_bid} is below the minimum bid of {floor}; raise it to {proposed_bid}.",
    Reason.CLAMPED_MAX: "{current_bid} is above the maximum bid of {ceiling}; lower it to {proposed_bid}.",
    Reason.HOLD_COOLDOWN: "The bid changed on {last_change_date}; waiting {cooldown_days} days to see its effect "
    "before changing it again.",
    Reason.HOLD_DEAD_BAND: "The suggested bid {proposed_bid} is within ±{dead_band} of the current {current_bid}; "
    "keep it.",
    Reason.HOLD_PROFITABLE: "ACoS {acos} already meets the {target_acos} target; keep {current_bid}.",
    Reason.HOLD_LEARNING: "{clicks} {clicks_word} and 0 orders in {days} days is not yet evidence: CVR could still "
    "be up to {cvr_high} (break-even {break_even_cvr}); keep {current_bid}.",
    Reason.HOLD_NO_VALUE: "No orders in its ad group or campaign and no product price, so a click can't be valued "
    "yet; keep {current_bid}.",
    Reason.LOWER_BUDGET_BOUND: "Budget-bound: the campaign spent its daily budget on most recent days, so clicks "
    "at ACoS {acos} stop early in the day; lower {current_bid} → {proposed_bid} ({change}) for cheaper clicks over "
    "more of the day.",
    Reason.HOLD_BUDGET_BOUND: "Budget-bound: the campaign spent its daily budget on most recent days, so a higher "
    "bid would buy dearer clicks, not more of them; keep {current_bid} (the engine would raise toward "
    "{ideal_bid}).",
    Reason.HOLD_BUDGET_ROOM: "The campaign spends {campaign_spend} a day of its {campaign_budget} budget: a higher bid "
    "would run it out of budget, buying dearer clicks for part of the day instead of more of them; keep "
    "{current_bid} (the engine would raise toward {ideal_bid}).",
    Reason.BACK_OFF: "The last change ({last_change} on {last_change_date}) did not pay: {measured_clicks} clicks "
    "and CPC {measured_cpc} against untouched targets, extra spend at a {measured_marginal_acos} marginal ACoS; "
    "step back {current_bid} → {proposed_bid} ({change}).",
    Reason.HOLD_SAME_STEP: "The bid changed on {last_change_date} the same way; waiting for a week of data after "
    "it before another step; keep {current_bid}.",
}
_INHERITED = " Sets an explicit {kind} bid instead of the ad group default."
_MEASURED = (" Last change {last_change} on {last_change_date}: {measured_clicks} clicks, CPC {measured_cpc}, "
             "marginal ACoS {measured_marginal_acos} (against untouched targets).")
_OBJECTIVE = {"profit": " Objective: profit.", "growth": " Objective: growth.",
              "growth_no_costs": " Objective: growth (no unit cost known)."}
# Where the product's margin, not the ACoS target, sets the bid (see bids.py).
_MARGIN_TEMPLATES = {
    reason: _TEMPLATES[reason].replace(_BY_ACOS, _BY_MARGIN)
    for reason in (Reason.RAISE_PROFITABLE, Reason.LOWER_UNPROFITABLE)
} | {
    Reason.HOLD_PROFITABLE: "ACoS {acos} is already profitable at a {break_even_acos} margin before ads; keep "
    "{current_bid}."
}

_MONEY = ("current_bid", "proposed_bid", "ideal_bid", "value_per_click", "aov", "floor", "ceiling", "campaign_budget",
          "campaign_spend")
_PERCENT = ("cvr", "cvr_high", "break_even_cvr", "target_acos", "break_even_acos")


_OBJECTIVES = tuple(sorted(_OBJECTIVE))  # sorted: looked up by np.searchsorted


def explain(rows: dict[str, np.ndarray], *, days: int, dead_band: float, cooldown_days: int, currency: str):
    """Explanation per row (object array of str) from the engine's working columns (see bids.py).

    Rows are grouped by everything that picks their sentence (reason, margin- or ACoS-limited, inherited bid,
    measured last change, objective), so each row's string is built once, by one template."""
    constants = {"days": str(days), "dead_band": f"{dead_band:.0%}", "cooldown_days": str(cooldown_days)}
    out = np.empty(rows["reason"].size, dtype=object)
    reason = rows["reason"].astype(np.int64)
    margin = np.isin(reason, [REASONS.index(r) for r in _MARGIN_TEMPLATES]) & rows["margin_limited"]
    inherited = rows["inherited_bid"] & (rows["direction"] != "hold")
    measured = rows["measured"] & (reason != REASONS.index(Reason.BACK_OFF))
    objective = np.searchsorted(np.array(_OBJECTIVES), rows["objective_reason"].astype(str))
    key = (((reason * 2 + margin) * 2 + inherited) * 2 + measured) * len(_OBJECTIVES) + objective
    order = np.argsort(key, kind="stable")
    keys, starts = np.unique(key[order], return_index=True)
    for k, at in zip(keys.tolist(), np.split(order, starts[1:]), strict=True):
        rest, obj = divmod(k, len(_OBJECTIVES))
        rest, meas = divmod(rest, 2)
        rest, inh = divmod(rest, 2)
        code, by_margin = divmod(rest, 2)
        template = (_MARGIN_TEMPLATES if by_margin else _TEMPLATES)[REASONS[code]]
        template += (_INHERITED if inh else "") + (_MEASURED if meas else "") + _OBJECTIVE[_OBJECTIVES[obj]]
        out[at] = _render(template, _Fields(rows, at, currency), constants)
    return out


def decimal_text(amount: np.ndarray, decimals: np.ndarray, *, grouping: str = "", prefix: str = "") -> np.ndarray:
    """Exact decimal strings per row ("0.90", "120"; grouping="," → "1,200.00"), rounded half-up."""
    amount = np.asarray(amount, dtype=float)
    decimals = np.broadcast_to(np.asarray(decimals, dtype=np.int64), amount.shape)
    units = _units(amount, 10.0**decimals)
    key = np.where(units == _NA, _NA, units * 8 + decimals)  # decimals < 8
    return _each_distinct(key, lambda k: f"{prefix}{Decimal(k // 8).scaleb(-(k % 8)):{grouping}}")


def _render(template: str, fields: _Fields, constants: dict[str, str]) -> list[str]:
    """'{clicks} clicks in {days} days' → one string per row, by %-formatting over the field columns."""
    pattern, columns = [], []
    for literal, name, _, _ in string.Formatter().parse(template):
        pattern.append(literal.replace("%", "%%"))
        if name in constants:
            pattern.append(constants[name].replace("%", "%%"))
        elif name is not None:
            pattern.append("%s")
            columns.append(fields[name].tolist())
    pattern = "".join(pattern)
    return [pattern % values for values in zip(*columns, strict=True)]


class _Fields:
    """Formatted columns for the rows `at`, by field name."""

    def __init__(self, rows, at, currency):
        self._rows, self._at, self._currency = rows, at, currency

    def __getitem__(self, name: str) -> np.ndarray:
        if name in _MONEY:
            return decimal_text(self._get(name), self._get("decimals"), grouping=",", prefix=self._currency)
        if name in _PERCENT:
            return _each_distinct(_units(self._get(name), 1000.0), _tenths_percent)
        if name in ("last_change", "measured_clicks", "measured_cpc"):
            column = {"last_change": "change_pct_last"}.get(name, f"{name}_pct")
            return _each_distinct(_units(self._get(column), 100.0), _signed_percent)
        if name == "measured_marginal_acos":
            value = np.where(self._get("measured_sales_delta") > 0, self._get(name), np.nan)
            return _each_distinct(_units(np.where(value >= 0, value, np.nan), 100.0), lambda u: f"{u}%")
        if name == "marginal_factor":
            return _each_distinct(_units(self._get(name), 100.0), lambda u: f"{u / 100:.2f}")
        if name == "cpc_ratio":
            return _each_distinct(_units(self._get(name), 100.0), lambda u: f"{u}%")
        if name == "history":
            return _history(
                self._get("orders"), self._get("clicks"), self._get("evidence_orders"), self._get("evidence_clicks")
            )
        if name == "acos":
            return _each_distinct(_units(self._get(name), 100.0), lambda u: f"{u}%")
        if name in ("clicks", "orders", "impressions"):
            return _each_distinct(self._get(name).astype(np.int64), lambda n: f"{n:,}")
        if name.endswith("_word"):
            noun = name.removesuffix("_word")
            return np.where(self._get(noun) == 1, noun.removesuffix("s"), noun).astype(object)
        if name == "change":
            pct = _units(self._get("change_pct"), 100.0)
            return _each_distinct(pct * 2 + (self._get("limited_by") == "step_cap"), _change)
        if name == "last_change_date":
            return _each_distinct(self._get(name).astype("datetime64[D]").astype(np.int64), _date)
        return self._get(name).astype(object)  # kind

    def _get(self, name):
        return self._rows[name][self._at]


def _history(orders, clicks, evidence_orders, evidence_clicks) -> np.ndarray:
    """The clause "; 12 orders from 130 clicks with older data" where the CVR also rests on older data."""
    more = evidence_clicks > clicks
    key = np.where(more, evidence_orders.astype(np.int64) * (1 << 32) + evidence_clicks.astype(np.int64), -1)
    return _each_distinct(key, _older)


def _older(key: int) -> str:
    if key < 0:
        return ""
    orders, clicks = divmod(key, 1 << 32)
    return f"; {orders:,} {'order' if orders == 1 else 'orders'} from {clicks:,} clicks with older data"


def _units(x, scale):
    """Round half-up to integer display units (cents, tenths of a percent); non-finite → _NA."""
    x = np.asarray(x, dtype=float) * scale
    finite = np.isfinite(x)
    return np.where(finite, np.floor(np.where(finite, x, 0) + 0.5 + 1e-7), _NA).astype(np.int64)


def _each_distinct(units: np.ndarray, fmt) -> np.ndarray:
    values, inverse = np.unique(units, return_inverse=True)
    return np.array([("n/a" if v == _NA else fmt(v)) for v in values.tolist()], dtype=object)[inverse]


def _signed_percent(u: int) -> str:
    return f"{'+' if u > 0 else '−' if u < 0 else ''}{abs(u)}%"


def _tenths_percent(u: int) -> str:
    return f"{u // 10}%" if u % 10 == 0 else f"{u / 10:.1f}%"


def _change(key: int) -> str:
    pct, capped = divmod(key, 2)
    return f"{'+' if pct > 0 else '−'}{abs(pct)}%{' cap' if capped else ''}"


def _date(day: int) -> str:
    return str(np.datetime64(day, "D"))
