"""What people type on the products page: amounts and a profit margin, read by `marketing.numbers`."""

from __future__ import annotations

from decimal import Decimal

from marketing.models.base import MONEY_PLACES, MONEY_SCALE
from marketing.numbers import BadNumber, parse_decimal

MAX_MONEY = Decimal(10**9) - MONEY_SCALE  # below the Numeric(14, 4) column's limit, far above any price


def parse_money(raw: str | None, *, positive: bool = False) -> Decimal | None:
    """An exact amount ≥ 0 (> 0 with `positive`) with at most the column's decimals, or None for a blank.

    Messages name what was typed ("-1 must be at least 0."): callers prefix the field ("unit cost ")."""
    label = (raw or "").strip()[:20]
    value = parse_decimal(raw, places=MONEY_PLACES, minimum=Decimal(0), maximum=MAX_MONEY, label=label)
    if positive and value == 0:
        raise BadNumber(f"{label} must be more than 0.")
    return value


def parse_fee_pct(raw: str | None) -> Decimal | None:
    """Amazon's referral fee, in percent of the price (0 to 100; "15", "15%"), or None for a blank."""
    return parse_decimal(raw, places=MONEY_PLACES, minimum=Decimal(0), maximum=Decimal(100), affixes="%",
                         label=(raw or "").strip()[:20])


def parse_margin(raw: str | None) -> Decimal:
    """The profit to keep after ads, in percent: from 0 to below 100 ("10", "10%")."""
    try:
        value = parse_decimal(raw, places=MONEY_PLACES, example="10", affixes="%", label="Profit after ads")
    except BadNumber as exc:
        raise BadNumber(f"Profit after ads: enter a percentage such as 10. {exc}") from None
    if value is None:
        raise BadNumber("Profit after ads: enter a percentage such as 10.")
    if not 0 <= value < 100:
        raise BadNumber("Profit after ads: enter a percentage from 0 to below 100.")
    return value


def money_text(value: Decimal | None) -> str:
    """How a stored amount is typed back into a field: 12.50, 0.1234 — not 12.5000 or 1.2E+1."""
    if value is None:
        return ""
    cents = value.quantize(Decimal("0.01"))
    return str(cents) if cents == value else format(value.normalize(), "f")
