"""Truth about promotions, for benchmarks only (served under /_sandbox/promotions/, see `admin.py`).

* `true_incremental(book, promotion)`: what a promotion really added, against the same market without it —
  same seed, same bids, same luck (`Book.variant` re-simulates the days from its start on): units, revenue
  and profit over all of the seller's products in the marketplace (so a pull-forward dip and cannibalised
  siblings count), from its start to `post_days` after its end or to yesterday, whichever comes first.
  Profit = revenue × (1 − referral) − units × (unit cost + FBA fee) − change in ad cost − the promotion's fee.
* `best_promotion(book, asin, start, end)`: the most profitable promotion for one ASIN in a window, from the
  hidden parameters (elasticity, the run's promotion shape, stock and reorders) with expected (noise-free)
  demand: every type × depth, a Lightning Deal on the first day, a Best Deal on up to 7 days, a coupon on the
  whole window (≤ 90 days); candidates that would run an ASIN out of stock are never best; `best` is None
  when nothing beats running no promotion.

Fees are `Fee` values per promotion type; types left out get the guide's US fees, scaled to the currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np

from .catalog import REFERRAL
from .market import Book
from .retail import DIP_DAYS, Promotion
from .spdocs import retail_day

DEPTHS = tuple(round(0.05 * k, 2) for k in range(1, 11))  # 5 % … 50 %
TYPES = ("COUPON", "LIGHTNING_DEAL", "BEST_DEAL")


@dataclass(frozen=True)
class Fee:
    """What Amazon charges for one promotion: fixed + per day + per redemption + a share of its sales (capped)."""

    fixed: float = 0.0
    per_day: float = 0.0
    per_redemption: float = 0.0
    variable_pct: float = 0.0  # fraction (0.025)
    variable_cap: float | None = None


def default_fees(fx: float = 1.0) -> dict[str, Fee]:
    """The guide's fees from June 2025 ($5 + 2.5 % per coupon; deals $70/day + 1 %; variable part capped at
    $2,000), converted at the marketplace's rate."""
    deal = Fee(per_day=70.0 * fx, variable_pct=0.01, variable_cap=2000.0 * fx)
    return {"COUPON": Fee(fixed=5.0 * fx, variable_pct=0.025, variable_cap=2000.0 * fx),
            "LIGHTNING_DEAL": deal, "BEST_DEAL": deal}  # fmt: skip


def fees_from(raw: Mapping | None, fx: float = 1.0) -> dict[str, Fee]:
    """Fees per type from plain mappings ({"COUPON": {"fixed": 5, …}}); types left out keep the defaults."""
    fees = default_fees(fx)
    for kind, spec in (raw or {}).items():
        if kind not in fees or not isinstance(spec, Mapping):
            raise ValueError(f"fees: give an object per type among {', '.join(fees)}")
        unknown = set(spec) - set(Fee.__dataclass_fields__)
        if unknown:
            raise ValueError(f"fees.{kind}: unknown fields {sorted(unknown)}")
        try:
            fees[kind] = Fee(**{k: None if v is None else float(v) for k, v in spec.items()})
        except (TypeError, ValueError):
            raise ValueError(f"fees.{kind}: values must be numbers") from None
    return fees


def promotion_fee(fee: Fee, *, days: int, sales: float, redemptions: float) -> float:
    variable = fee.variable_pct * sales
    if fee.variable_cap is not None:
        variable = min(variable, fee.variable_cap)
    return fee.fixed + fee.per_day * days + fee.per_redemption * redemptions + variable


def _unit_costs(book: Book, unit_costs: Mapping[str, float] | None) -> np.ndarray:
    """Unit cost plus FBA fee per product: the catalog's hidden cost unless the caller gives its own."""
    c = book.cat
    cost = c.unit_cost.copy()
    for asin, value in (unit_costs or {}).items():
        if asin not in c.asin:
            raise ValueError(f"unit_costs: unknown ASIN {asin}")
        cost[c.asin.index(asin)] = float(value)
    return cost + (c.fees - REFERRAL * c.price)


def _fee(book: Book, promo: Promotion, units_at_price: np.ndarray, fees: Mapping[str, Fee]) -> float:
    """The promotion's fee from the units its buyers bought at the promotional price (coupons: redemptions)."""
    idx = np.asarray(promo.products)
    sales = float((units_at_price * book.cat.price[idx] * (1.0 - np.asarray(promo.cut))).sum())
    redemptions = float(units_at_price.sum()) if promo.kind == "COUPON" else 0.0
    return promotion_fee(fees[promo.kind], days=promo.days, sales=sales, redemptions=redemptions)


def true_incremental(
    book: Book,
    promotion: Promotion | str,
    *,
    fees: Mapping[str, Fee] | None = None,
    unit_costs: Mapping[str, float] | None = None,
    post_days: int = DIP_DAYS,
) -> dict:
    """The promotion's true effect (see the module). `promotion` is an id in the book, or a Promotion not in
    it (then the market *with* it is the variant: e.g. a zero-discount control)."""
    if isinstance(promotion, str):
        promo = next((p for p in book.retail.promotions if p.ident == promotion), None)
        if promo is None:
            raise ValueError(f"no promotion {promotion!r} in this marketplace")
        with_, without = book, book.variant(drop=promo.ident)
    else:
        promo = promotion
        with_, without = book.variant(add=promo), book
    today = book.market.today_ordinal
    first, last = max(promo.start, book.market.origin_ordinal), min(promo.end + post_days, today - 1)
    if last < first:
        raise ValueError("the promotion has not started yet: move the clock past its start")
    fees = {**default_fees(book.profile.fx), **(fees or {})}
    n, idx = len(book.cat.price), np.asarray(promo.products)
    d_units, d_sales, during = np.zeros(n), np.zeros(n), np.zeros(n)
    baseline, at_price, ad_cost = np.zeros(len(idx)), np.zeros(len(idx)), 0.0
    for d in range(first, last + 1):
        a, b = retail_day(with_, d), retail_day(without, d)
        d_units += a["units"] - b["units"]
        d_sales += a["sales"] - b["sales"]
        ad_cost += float(with_.day(d).cost.sum() - without.day(d).cost.sum())
        if d <= promo.end:
            during += a["units"] - b["units"]
            baseline += b["units"][idx]
            at_price += a["units"][idx] * promo.share * with_.retail.on(promo, d)
    fee = _fee(book, promo, at_price, fees)
    margin = float((d_sales * (1.0 - REFERRAL) - d_units * _unit_costs(book, unit_costs)).sum())
    in_window = min(promo.end, last) - first + 1
    mask = np.zeros(n, bool)
    mask[idx] = True
    return {
        "id": promo.ident,
        "type": promo.kind,
        "asins": [book.cat.asin[p] for p in promo.products],
        "start": date.fromordinal(promo.start).isoformat(),
        "end": date.fromordinal(promo.end).isoformat(),
        "through": date.fromordinal(last).isoformat(),
        "complete": last >= promo.end + post_days,
        "units": round(float(d_units.sum()), 2),
        "revenue": round(float(d_sales.sum()), 2),
        "profit": round(margin - ad_cost - fee, 2),
        "fee": round(fee, 2),
        "ad_cost": round(ad_cost, 2),
        "promoted_units": round(float(during[mask].sum()), 2),
        "dip_units": round(float((d_units - during)[mask].sum()), 2),
        "cannibalised_units": round(float(-d_units[~mask].sum()), 2),
        "baseline_units": round(float(baseline.sum()) / max(1, in_window), 3),
        "per_asin": {book.cat.asin[p]: round(float(d_units[p]), 2) for p in np.flatnonzero(d_units)},
    }


def _expected(retail, days: range, costs: np.ndarray, price: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected units, margin (after referral, cost and FBA) per product over `days`, and the lowest stock."""
    units, margin, low = np.zeros(len(price)), np.zeros(len(price)), np.full(len(price), np.inf)
    for d in days:
        sold = retail.expected_units(d)
        factor = retail.effects(d)[0]
        units += sold
        margin += sold * (price * factor * (1.0 - REFERRAL) - costs)
        low = np.minimum(low, retail.stock(d + 1))
    return units, margin, low


def best_promotion(
    book: Book,
    asin: str,
    start: date,
    end: date,
    *,
    fees: Mapping[str, Fee] | None = None,
    unit_cost: float | None = None,
    types: Iterable[str] = TYPES,
    depths: Iterable[float] = DEPTHS,
    post_days: int = DIP_DAYS,
) -> dict:
    """The most profitable promotion for `asin` in [start, end] (see the module), with every candidate."""
    c = book.cat
    if asin not in c.asin:
        raise ValueError(f"unknown ASIN {asin} in marketplace {book.profile.marketplace_id}")
    if end < start:
        raise ValueError("end must not be before start")
    p = c.asin.index(asin)
    s, e = start.toordinal(), end.toordinal()
    busy = [q for q in book.retail.promotions if p in q.products and q.start <= e and s <= q.end]
    if busy:
        raise ValueError(f"{asin} already has {busy[0].kind} {busy[0].ident} in that window")
    fees = {**default_fees(book.profile.fx), **(fees or {})}
    costs = _unit_costs(book, None if unit_cost is None else {asin: unit_cost})
    length = {"COUPON": min(90, e - s + 1), "LIGHTNING_DEAL": 1, "BEST_DEAL": min(7, e - s + 1)}
    days = range(s, e + post_days + 1)
    base_units, base_margin, base_low = _expected(book.retail, days, costs, c.price)
    candidates = []
    for kind in types:
        if kind not in TYPES:
            raise ValueError(f"types: unknown promotion type {kind!r}")
        for depth in depths:
            if kind == "COUPON" and depth > 0.5 + 1e-9:
                continue
            promo = Promotion(kind, (p,), s, s + length[kind] - 1, (float(depth),), "oracle")
            twin = book.retail.variant(add=promo)
            units, margin, low = _expected(twin, days, costs, c.price)
            days_on = [d for d in range(promo.start, promo.end + 1) if twin.on(promo, d)]
            at_price = np.array([sum(twin.expected_units(d)[p] for d in days_on)])
            fee = _fee(book, promo, at_price * promo.share, fees)
            candidates.append(
                {
                    "type": kind,
                    "discount_type": "PERCENT_OFF_LIST_PRICE",
                    "discount_amount": round(depth * 100, 2),
                    "start": date.fromordinal(promo.start).isoformat(),
                    "end": date.fromordinal(promo.end).isoformat(),
                    "units": round(float((units - base_units).sum()), 2),
                    "profit": round(float((margin - base_margin).sum()) - fee, 2),
                    "fee": round(fee, 2),
                    "stockout": bool(((low <= 0) & (base_low > 0)).any()),
                }
            )
    candidates.sort(key=lambda x: -x["profit"])
    best = next((x for x in candidates if not x["stockout"] and x["profit"] > 0), None)
    return {
        "asin": asin,
        "marketplace_id": book.profile.marketplace_id,
        "window": {"start": start.isoformat(), "end": (start + timedelta(days=e - s)).isoformat()},
        "post_days": post_days,
        "promo_shape": book.retail.shape,
        "elasticity": round(float(book.retail.elasticity[p]), 3),
        "baseline_units": round(sum(float(book.retail.expected_units(d)[p]) for d in range(s, e + 1)) / (e - s + 1), 3),
        "fees": {k: asdict(v) for k, v in fees.items()},
        "best": best,
        "candidates": candidates,
    }
