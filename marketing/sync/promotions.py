"""Coupon and deal reports → `promotions` + `promotion_asins`, the report's window of start dates replaced.

A report lists the promotions whose start falls in its window (`plan.promotion_window`). After a pull the
stored promotions of that (seller, marketplace, type, window) are exactly the report's: each one is updated in
place under its Amazon id (so a plan matched to it keeps its link), new ones are added, and those Amazon no
longer lists are deleted — all in the caller's transaction, like the fact ingest (`sync.ingest`).

Tolerant like the fact ingest: fields Amazon leaves out are stored as NULL, extra fields are ignored, money is
rounded half-even to its column (float noise such as 83.22999999999999 becomes 83.23). A promotion of a type
the product does not measure (the deal report also knows Deal of the Day, Price Discount, …) is skipped and
named in the returned notice. A promotion without its id or dates, or a value that is no number where one is
expected, refuses the whole report (`IngestError`): the data stored before stays.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketing.clock import now
from marketing.models import Promotion, PromotionAsin
from marketing.models.promotions import DiscountType, PromotionType
from marketing.sync.rows import COUPONS, PROMOTIONS, IngestError, optional_count, optional_money

PREFIXES = {COUPONS: ("coupons.item",), PROMOTIONS: ("promotions.item",)}
# The types each report's promotions are stored under; the coupon report's items carry no type.
TYPES = {COUPONS: (PromotionType.COUPON,), PROMOTIONS: (PromotionType.LIGHTNING_DEAL, PromotionType.BEST_DEAL)}
WHAT = {COUPONS: "coupon report", PROMOTIONS: "deal report"}


@dataclass(frozen=True)
class Stored:
    rows: int  # promotions stored
    notice: str | None  # what was skipped, for the run's notice


@dataclass
class _Parsed:
    values: dict[str, Any]
    asins: dict[str, tuple[int | None, Any]]  # asin → (units, revenue)


class _BadField(ValueError):
    """Why a field cannot be stored ("missing", "is longer than 64 characters", …), for the refusal."""


def _timestamp(value: Any) -> dt.datetime:
    if type(value) is not str:
        raise ValueError
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _text(limit: int | None = None):
    def convert(value: Any) -> str:
        if type(value) is int:  # an id sent as a number
            value = str(value)
        if type(value) is not str:
            raise ValueError
        if limit is not None and len(value) > limit:
            raise _BadField(f"is longer than {limit} characters")
        return value

    return convert


def _get(item: dict, name: str, convert, required: bool = False) -> Any:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise _BadField("missing")
        return None
    try:
        return convert(value)
    except _BadField:
        raise
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise _BadField(str(exc) or f"unexpected value {value!r}"[:80]) from None


class _Field:
    def __init__(self, report_type: str, number: int):
        self.where = f"{report_type} row {number}"

    def __call__(self, item: dict, name: str, convert, required: bool = False) -> Any:
        try:
            return _get(item, name, convert, required)
        except _BadField as exc:
            raise IngestError(f"{self.where}: field {name!r}: {exc}") from None


def _coupon(item: dict, field: _Field, currency: str) -> _Parsed:
    discount_type = field(item, "discountType", _text(32))
    values = {
        "type": PromotionType.COUPON.value,
        "amazon_id": field(item, "couponId", _text(64), required=True),
        "name": field(item, "name", _text()),
        "status": None,
        "starts_at": field(item, "startDateTime", _timestamp, required=True),
        "ends_at": field(item, "endDateTime", _timestamp, required=True),
        "currency_code": field(item, "currencyCode", _text(3)) or currency,
        "discount_type": discount_type if discount_type in set(DiscountType) else None,
        "discount_amount": field(item, "discountAmount", optional_money),
        "budget": field(item, "budget", optional_money),
        "budget_spent": field(item, "budgetSpent", optional_money),
        "total_discount": field(item, "totalDiscount", optional_money),
        "clips": field(item, "clips", optional_count),
        "redemptions": field(item, "redemptions", optional_count),
        "units": None,
        "revenue": field(item, "sales", optional_money),
    }
    asins = {}
    for entry in item.get("asins") or []:
        asin = field(entry, "asin", _text(16)) if isinstance(entry, dict) else None
        if asin:
            asins[asin] = (None, None)  # the coupon report has no per-ASIN figures
    return _Parsed(values, asins)


def _deal(item: dict, field: _Field, currency: str) -> _Parsed:
    values = {
        "type": item["type"],
        "amazon_id": field(item, "promotionId", _text(64), required=True),
        "name": field(item, "promotionName", _text()),
        "status": field(item, "status", _text(32)),
        "starts_at": field(item, "startDateTime", _timestamp, required=True),
        "ends_at": field(item, "endDateTime", _timestamp, required=True),
        "currency_code": field(item, "revenueCurrencyCode", _text(3)) or currency,
        "discount_type": None, "discount_amount": None, "budget": None, "budget_spent": None,
        "total_discount": None, "clips": None, "redemptions": None,
        "units": field(item, "unitsSold", optional_count),
        "revenue": field(item, "revenue", optional_money),
    }
    asins = {}
    for entry in item.get("includedProducts") or []:
        asin = field(entry, "asin", _text(16)) if isinstance(entry, dict) else None
        if asin:
            asins[asin] = (field(entry, "productUnitsSold", optional_count),
                           field(entry, "productRevenue", optional_money))
    return _Parsed(values, asins)


def parse(report_type: str, items: Iterable[Any], currency: str) -> tuple[list[_Parsed], Counter]:
    """The report's promotions of the types we store, and a count of the others by type."""
    parsed: list[_Parsed] = []
    skipped: Counter = Counter()
    known = {t.value for t in TYPES[report_type]}
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        if isinstance(item, tuple):  # (prefix, item) from `SpClient.iter_document_items`
            item = item[1]
        if not isinstance(item, dict):
            raise IngestError(f"{report_type} row {number}: is not a JSON object ({type(item).__name__})")
        if report_type == PROMOTIONS and item.get("type") not in known:
            skipped[str(item.get("type") or "no type")] += 1
            continue
        field = _Field(report_type, number)
        row = (_coupon if report_type == COUPONS else _deal)(item, field, currency)
        if row.values["amazon_id"] in seen:
            raise IngestError(f"{report_type} row {number}: promotion {row.values['amazon_id']} is listed twice")
        seen.add(row.values["amazon_id"])
        parsed.append(row)
    return parsed, skipped


def ingest_promotions(session: Session, report_type: str, items: Iterable[Any], *, seller_id: int,
                      marketplace_id: str, start: dt.date, end: dt.date, currency: str) -> Stored:
    """Replace the promotions of the report's window with its items (the caller commits)."""
    parsed, skipped = parse(report_type, items, currency)
    types = [t.value for t in TYPES[report_type]]
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    ids = [row.values["amazon_id"] for row in parsed]
    stored = {(p.type, p.amazon_id): p for p in session.scalars(select(Promotion).where(
        Promotion.seller_id == seller_id, Promotion.marketplace_id == marketplace_id, Promotion.type.in_(types),
        or_(Promotion.amazon_id.in_(ids), Promotion.starts_at.between(since, until - dt.timedelta(microseconds=1))),
    ))}
    kept = set()
    for row in parsed:
        key = (row.values["type"], row.values["amazon_id"])
        promotion = stored.get(key)
        if promotion is None:
            promotion = Promotion(seller_id=seller_id, marketplace_id=marketplace_id)
            session.add(promotion)
        for name, value in row.values.items():
            setattr(promotion, name, value)
        promotion.fetched_at = now()
        _replace_asins(promotion, row.asins)
        kept.add(key)
    for key, promotion in stored.items():
        if key not in kept:
            session.delete(promotion)
    session.flush()
    return Stored(len(parsed), _notice(report_type, marketplace_id, skipped))


def _replace_asins(promotion: Promotion, asins: dict[str, tuple[int | None, Any]]) -> None:
    """Update the promotion's ASIN rows in place (deleting and re-adding a row of the same key in one flush
    would insert before it deletes)."""
    current = {a.asin: a for a in promotion.asins}
    for asin, (units, revenue) in asins.items():
        row = current.get(asin)
        if row is None:
            promotion.asins.append(PromotionAsin(asin=asin, units=units, revenue=revenue))
        else:
            row.units, row.revenue = units, revenue
    for asin, row in current.items():
        if asin not in asins:
            promotion.asins.remove(row)


def _notice(report_type: str, marketplace_id: str, skipped: Counter) -> str | None:
    if not skipped:
        return None
    count = sum(skipped.values())
    kinds = ", ".join(f"{kind} ({n})" for kind, n in sorted(skipped.items()))
    return (f"The {WHAT[report_type]} for marketplace {marketplace_id} lists {count} promotion"
            f"{'s' if count != 1 else ''} of a type the product does not measure ({kinds}); "
            "skipped, the others are stored.")
