"""The products page's economics, over the bid engine's own rule (`optimize.margin`), so the break-even a
seller reads is the one the engine caps bids at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from marketing.models.base import MONEY_SCALE
from marketing.optimize.margin import break_even_acos as _break_even
from marketing.optimize.margin import fees_per_unit, target_acos_from_margin


def break_even_acos(price: Decimal | None, unit_cost: Decimal | None, referral_fee_pct: Decimal | None = None,
                    fba_fee: Decimal | None = None) -> Decimal | None:
    """(price − unit cost − fees) / price to the column's scale; None without a cost or a positive price;
    negative means the product loses money before any ad spend."""
    if unit_cost is None or not price or price <= 0:
        return None
    fees = fees_per_unit(price, referral_fee_pct, fba_fee)
    ratio = float(_break_even(float(price), float(unit_cost), fees))
    return Decimal(repr(ratio)).quantize(MONEY_SCALE)


@dataclass(frozen=True)
class Derived:
    """A target ACoS derived from a profit margin."""

    margin: Decimal  # percent
    target_acos: Decimal  # percent, one decimal
    asins: int  # with both cost and price
    unreachable: list[str]  # ASINs that cannot keep the margin at any ACoS (counted as 0%)


@dataclass(frozen=True)
class Economics:
    """What the derivation needs of one ASIN."""

    asin: str
    price: Decimal
    unit_cost: Decimal
    sales: Decimal  # over the window: the ASIN's weight
    fees: float = 0.0  # per unit (`fees_per_unit`)


def derive_target_acos(items: Sequence[Economics], margin_pct: Decimal) -> Derived | None:
    """Sales-weighted target ACoS over the ASINs given; None if there are none.

    Each ASIN's own target is `target_acos_from_margin` (break-even − margin); an ASIN that cannot keep the
    margin at any ACoS counts as 0%: spending on its ads at all would cost the margin. Weights are each ASIN's
    sales in the window (a simple average when none sold), so the result is the profit-keeping ACoS of the
    seller's mix rather than of its long tail."""
    if not items:
        return None
    targets = target_acos_from_margin([float(i.price) for i in items], [float(i.unit_cost) for i in items],
                                      [i.fees for i in items], profit_margin=float(margin_pct) / 100)
    weights = np.array([float(i.sales) for i in items])
    if weights.sum() <= 0:
        weights = np.ones(len(items))
    value = float((np.nan_to_num(targets) * weights).sum() / weights.sum())
    return Derived(margin=margin_pct, target_acos=Decimal(str(round(value * 100, 1))), asins=len(items),
                   unreachable=[i.asin for i, t in zip(items, targets, strict=True) if np.isnan(t)])
