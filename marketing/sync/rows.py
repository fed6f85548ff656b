"""Report rows → fact-table values: tolerant of what Amazon really sends, exact, and cheap per row.

Every finite number is rounded half-even to its column's scale (money 4 places, counts whole), so float noise
(`83.22999999999999`) is stored as 83.2300; ids come as numbers or strings; a metric left null (no clicks, no
conversions) is stored as 0. A report is refused only for text in a number, a non-finite value, a missing id,
a negative count or an overflow — and the refusal names the report, the row, the field and the value.

Each report type maps to one or more `Part`s (a fact table, the constants that scope it, and a row mapper).
Mappers run on every row of reports with a million rows, so the happy path is a list comprehension of small
converters; only when it fails does `diagnose` walk the fields again to name the bad one. Flat mappers (Ads
reports) also have a bulk twin, `FastMapper`: msgspec decodes a slice of the JSON array straight into structs of
the needed fields with the converters' checks as type constraints, and the rows become one COPY text block.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from operator import attrgetter
from typing import Annotated, Any

import msgspec
from sqlalchemy import Table

from marketing.models import (
    SalesTrafficAsinDaily,
    SalesTrafficAsinWeekly,
    SalesTrafficDaily,
    SpCampaignDaily,
    SpProductDaily,
    SpSearchTermDaily,
    SpTargetDaily,
    copy_text,
)

ADS_REPORT_TYPES = ("spCampaigns", "spTargeting", "spSearchTerm", "spAdvertisedProduct")
SALES_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
COUPONS = "GET_COUPON_PERFORMANCE_REPORT"
PROMOTIONS = "GET_PROMOTION_PERFORMANCE_REPORT"  # a seller's Lightning Deals and Best Deals
PROMOTION_REPORTS = (COUPONS, PROMOTIONS)
# Pass these to `SpClient.iter_document_items`; the ingest routes each (prefix, item) to its table.
SALES_TRAFFIC_PREFIXES = ("salesAndTrafficByDate.item", "salesAndTrafficByAsin.item")
ATTRIBUTION_DAYS = {"seller": 7, "vendor": 14}  # Sponsored Products windows by account type (ADS_API.md §4.4)
_WINDOWS = (1, 7, 14, 30)
_SCALE = Decimal("0.0001")  # Numeric(14, 4)
_NUMERIC_14_4 = Context(prec=14, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])
_INT32 = 2**31
_INT64 = 2**63

Converter = Callable[[Any], Any]


class IngestError(ValueError):
    """A report the ingest refuses: names the report type, the row (1-based) and the field."""


class _Bad(ValueError):
    """A converter's reason, when it has a better one than 'unexpected value'."""


# -- converters: return the column value or raise ---------------------------------------------------------


def _finite(value: Any) -> Decimal:
    """A JSON number (int, float, Decimal) or numeric text as a finite Decimal; floats by their shortest repr
    (what the JSON text said), so `83.22999999999999` stays that and rounds to 83.2300, never 83.2299...9 of
    the binary value."""
    if type(value) is Decimal:
        number = value
    elif type(value) is int:
        return Decimal(value)
    elif type(value) is float:
        number = Decimal(repr(value))
    elif type(value) is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError from None  # text in a number
    else:
        raise ValueError
    if not number.is_finite():
        raise _Bad(f"{value} is not a finite number")
    return number


_REFUSED = object()  # a converter's ``null`` when a JSON null is refused


def _int_below(limit: int, low: int, what: str, null: Any = _REFUSED) -> Converter:
    """Integers in [low, limit): a JSON integer as is; any other finite number rounded half-even to a whole;
    a JSON null as ``null`` unless refused."""

    def convert(value: Any) -> int:
        if type(value) is int and low <= value < limit:
            return value
        if value is None and null is not _REFUSED:
            return null
        if type(value) is str and value.isdigit():  # ids are integers in reports, strings elsewhere
            return convert(int(value))
        number = value if type(value) is int else int(_finite(value).to_integral_value(ROUND_HALF_EVEN))
        if number < 0 <= low:
            raise _Bad(f"{value} is a negative {what}")
        if not low <= number < limit:
            raise _Bad(f"{value} is outside the {what} range {low}..{limit - 1}")
        return number

    return convert


_id_range = _int_below(_INT64, 1, "id")


def _id(value: Any) -> int:
    """Ids as JSON integers or digit strings; a number with a fraction is no id, nor a float past 2**53 (inexact)."""
    if type(value) is str and not value.isdigit():
        raise ValueError
    if type(value) in (float, Decimal):
        number = _finite(value)
        if number != number.to_integral_value() or (type(value) is float and abs(value) >= 2**53):
            raise _Bad(f"{value} is not an exact id")
    return _id_range(value)


def _money_or(null: Any = _REFUSED) -> Converter:
    """Money: any finite number, rounded half-even to the column's 4 places; refused only past its 10 whole
    digits. One quantize in a 14-digit context both rounds and checks the range. Float noise from a
    float-backed service (`83.22999999999999`) is normal in Amazon's JSON and becomes 83.2300."""

    def money(value: Any) -> Decimal:
        if value is None and null is not _REFUSED:
            return null
        number = value if type(value) is Decimal and value.is_finite() else _finite(value)
        try:
            return number.quantize(_SCALE, context=_NUMERIC_14_4)
        except InvalidOperation:
            raise _Bad(f"{value} does not fit 10 digits and 4 decimals") from None

    return money


_count = _int_below(_INT32, 0, "count")
_big_count = _int_below(_INT64, 0, "count")
_money = _money_or()
# Metrics Amazon leaves null when nothing happened (no clicks, no conversions): stored as 0, since the metric
# columns are NOT NULL (their default is 0 too).
_count_metric = _int_below(_INT32, 0, "count", null=0)
_big_count_metric = _int_below(_INT64, 0, "count", null=0)
_money_metric = _money_or(null=Decimal(0))
_optional_money = _money_or(null=None)  # e.g. a bid: NULL when Amazon has none
# What `FastMapper` decodes a converter's field as: the JSON values the converter accepts unchanged (others —
# ids as strings, counts as floats, say — fail the bulk decode and take the row-by-row path). Money is checked
# (and rounded when it must be) per batch, as text. A metric's JSON null is written as its `null_text`.
_id.fast = Annotated[int, msgspec.Meta(ge=1, le=_INT64 - 1)]  # type: ignore[attr-defined]
_count.fast = Annotated[int, msgspec.Meta(ge=0, le=_INT32 - 1)]  # type: ignore[attr-defined]
_big_count.fast = Annotated[int, msgspec.Meta(ge=0, le=_INT64 - 1)]  # type: ignore[attr-defined]
_money.fast = Decimal  # type: ignore[attr-defined]
_optional_money.fast = Decimal | None  # type: ignore[attr-defined]
_count_metric.fast, _count_metric.null_text = _count.fast | None, "0"  # type: ignore[attr-defined]
_big_count_metric.fast, _big_count_metric.null_text = _big_count.fast | None, "0"  # type: ignore[attr-defined]
_money_metric.fast, _money_metric.null_text = Decimal | None, "0"  # type: ignore[attr-defined]
# For the documents read object by object (`sync.promotions`, `sync.inventory`): a value Amazon may leave out.
optional_money = _optional_money
optional_count = _int_below(_INT32, 0, "count", null=None)
count_or_zero = _count_metric


def _text(max_length: int | None = None, *, required: bool = False) -> Converter:
    def convert(value: Any) -> str | None:
        if value is None and not required:
            return None
        if type(value) is not str or (required and not value):
            raise ValueError
        if max_length is not None and len(value) > max_length:
            raise _Bad(f"is longer than {max_length} characters")
        return value

    fast = Annotated[str, msgspec.Meta(min_length=1 if required else 0, max_length=max_length)]
    convert.fast = fast if required else fast | None  # type: ignore[attr-defined]
    convert.text = True  # type: ignore[attr-defined]
    return convert


def _day(start: dt.date, end: dt.date) -> Converter:
    """ISO date inside [start, end]; the few distinct dates of a report are parsed once."""
    seen: dict[str, dt.date] = {}

    def convert(value: Any) -> dt.date:
        day = seen.get(value)
        if day is not None:
            return day
        if type(value) is not str or len(value) != 10:
            raise ValueError
        day = dt.date.fromisoformat(value)
        if not start <= day <= end:
            raise _Bad(f"{value} is outside the report window {start}..{end}")
        seen[value] = day
        return day

    convert.fast, convert.distinct = str, True  # type: ignore[attr-defined]
    return convert


def _equals(expected: str) -> Converter:
    def convert(value: Any) -> None:
        if value is not None and value != expected:
            raise _Bad(f"{value!r} differs from the profile's currency {expected}; currencies are never mixed")

    convert.fast, convert.distinct = str | None, True  # type: ignore[attr-defined]
    return convert


def _get(path: str) -> Callable[[Any], Any]:
    """A getter for a field, a nested one ('salesByDate.unitsOrdered') or the first present of 'a|b'."""
    if "|" in path:
        getters = [_get(p) for p in path.split("|")]

        def first(row: Any) -> Any:
            for get in getters:
                value = _read(get, row, required=False)
                if value is not None:
                    return value
            raise KeyError(path)

        return first
    keys = path.split(".")

    def get(row: Any) -> Any:
        for key in keys:
            row = row[key]
        return row

    return get


def _read(get: Callable[[Any], Any], row: Any, required: bool) -> Any:
    if required:
        return get(row)
    try:
        return get(row)
    except KeyError:
        return None


# -- parts ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    column: str | None  # None: checked, not stored
    path: str
    convert: Converter
    required: bool = True


class RowMapper:
    """Maps a row to the values of `columns`; required fields must be present, optional ones may be absent."""

    def __init__(self, fields: Sequence[Field]):
        self.fields = tuple(fields)
        stored = [f for f in fields if f.column is not None]
        stored.sort(key=lambda f: not f.required)  # required first: the fast path reads them with row[key]
        self.columns = tuple(f.column for f in stored)
        self._flat = all("." not in f.path and "|" not in f.path for f in stored)
        self._required = [(f.path, f.convert) for f in stored if f.required]
        self._optional = [(f.path, f.convert) for f in stored if not f.required]
        self._stored = [(_get(f.path), f.convert, f.required) for f in stored]
        self._checks = [(_get(f.path), f.convert, f.required) for f in fields if f.column is None]
        self.fast = FastMapper(stored, [f for f in fields if f.column is None]) if FastMapper.fits(fields) else None

    def __call__(self, row: Any) -> list[Any]:
        if self._flat:  # Ads rows: plain dict lookups, the hot path
            values = [convert(row[key]) for key, convert in self._required]
            get = row.get
            values += [convert(get(key)) for key, convert in self._optional]
        else:
            values = [convert(_read(get, row, required)) for get, convert, required in self._stored]
        for get, convert, required in self._checks:
            convert(_read(get, row, required))
        return values

    def diagnose(self, row: Any) -> str:
        """Why `row` failed: the first missing or bad field (slow; only after a failure)."""
        if not isinstance(row, dict):
            return f"is not a JSON object ({type(row).__name__})"
        for field in self.fields:
            try:
                value = _get(field.path)(row)
            except (KeyError, TypeError):
                if field.required:
                    return f"field {field.path!r}: missing"
                continue
            try:
                field.convert(value)
            except _Bad as exc:
                return f"field {field.path!r}: {exc}"
            except (ValueError, TypeError, ArithmeticError, AttributeError):
                shown = "null" if value is None else repr(value)[:60]
                return f"field {field.path!r}: unexpected value {shown}"
        return "unreadable row"


# Money as `str(Decimal)` that the row mapper's `_money` stores unchanged: ≤ 10 digits, ≤ 4 decimals.
_MONEY_TEXT = re.compile(r"(?:(?:-?\d{1,10}(?:\.\d{1,4})?|\\N)\n)*")


class FastMapper:
    """A flat `RowMapper` in bulk: a JSON array slice → structs (`decode`) → one block of COPY text (`copy_block`).

    Every check of the row-by-row mapper is here too: as a type constraint (ids, counts, text lengths), on the
    distinct values of a batch (dates, currency), or on the batch's money as text. Whatever it refuses goes
    through the row-by-row mapper, which accepts it or names the row and field exactly as before.
    """

    @staticmethod
    def fits(fields: Sequence[Field]) -> bool:
        return all("." not in f.path and "|" not in f.path and hasattr(f.convert, "fast") for f in fields)

    def __init__(self, stored: Sequence[Field], checks: Sequence[Field]):
        attrs = [(f"f{i}", f) for i, f in enumerate([*stored, *checks])]
        spec = [(a, f.convert.fast) if f.required else (a, f.convert.fast | None, None) for a, f in attrs]
        struct = msgspec.defstruct("Row", spec, kw_only=True, rename={a: f.path for a, f in attrs})
        self._decoder = msgspec.json.Decoder(list[struct])
        self._distinct = [(attrgetter(a), f.convert) for a, f in attrs if getattr(f.convert, "distinct", False)]
        self._texts = [attrgetter(a) for a, f in attrs[: len(stored)] if getattr(f.convert, "text", False)]
        money, cells, nulls = [], [], {}
        for a, f in attrs[: len(stored)]:
            nullable = not f.required or (f.convert.fast | None) == f.convert.fast
            null = f"_null_{a}"  # a name for the text a JSON null is stored as (no backslash in an f-string)
            nulls[null] = getattr(f.convert, "null_text", copy_text.NULL)
            if f.convert.fast in (Decimal, Decimal | None):  # formatted (and checked) first, as a column
                money.append((f"m{len(money)}", a, nullable, null))
                cells.append(f"{{{money[-1][0]}}}")
            else:
                cells.append(f"{{{null} if r.{a} is None else r.{a}}}" if nullable else f"{{r.{a}}}")
        lines = ["def copy_block(rows, prefix):"]
        for name, a, nullable, null in money:
            value = f"{null} if r.{a} is None else str(r.{a})" if nullable else f"str(r.{a})"
            lines.append(f"    {name} = [{value} for r in rows]")
        if money:  # money as sent, if it surely fits; else rounded to the column's scale like `_money` does
            joined = " + ".join(name for name, *_ in money)
            lines.append(f"    if not _MONEY_TEXT.fullmatch('\\n'.join({joined}) + '\\n'):")
            lines.append("        try:")
            for name, a, nullable, null in money:
                value = f"str(_money(r.{a}))"
                value = f"{null} if r.{a} is None else {value}" if nullable else value
                lines.append(f"            {name} = [{value} for r in rows]")
            lines.append("        except (ValueError, ArithmeticError):  # the row-by-row mapper names it")
            lines.append("            return None")
        line = "{prefix}" + "\\t".join(cells) + "\\n"  # the generated f-string's own escapes
        names = [name for name, *_ in money]
        loop = f"{', '.join(['r', *names])} in zip(rows, {', '.join(names)})" if money else "r in rows"
        lines.append(f'    return "".join([f"{line}" for {loop}])')
        namespace: dict[str, Any] = {"_MONEY_TEXT": _MONEY_TEXT, "_money": _money, **nulls}
        exec("\n".join(lines), namespace)  # noqa: S102 (generated from our own field list)
        self._format: Callable[[list[Any], str], str | None] = namespace["copy_block"]

    def decode(self, batch: bytes) -> list[Any]:
        """Structs of a ``b"[...]"`` slice; `msgspec.ValidationError` if a row does not fit the fast types."""
        return self._decoder.decode(batch)

    def copy_block(self, rows: list[Any], prefix: str = "") -> str | None:
        """The rows as COPY text lines (each after ``prefix``), or None if a batch-wide check fails: a distinct
        date or currency the row mapper refuses, money it refuses (non-finite, too large), text COPY would need
        escaped."""
        for get, convert in self._distinct:
            for value in set(map(get, rows)):
                try:
                    converted = convert(value)
                except (ValueError, TypeError):
                    return None
                if isinstance(converted, dt.date) and converted.isoformat() != value:
                    return None
        if any(copy_text.SPECIAL.search("".join(filter(None, map(get, rows)))) for get in self._texts):
            return None
        return self._format(rows, prefix)


@dataclass(frozen=True)
class Part:
    """One fact table fed by a report: rows in `scope` and the window are replaced by the mapped rows."""

    fact: Table
    scope: dict[str, Any]  # delete filter besides the date window, e.g. {"profile_id": 42}
    constants: dict[str, Any]  # same for every row (scope + currency ...), added when merging
    mapper: RowMapper
    date_column: str = "date"  # the column the window applies to


def _metrics(days: int, money_name: str = "cost") -> list[Field]:
    return [
        Field("impressions", "impressions", _big_count_metric),
        Field("clicks", "clicks", _big_count_metric),
        Field("cost", money_name, _money_metric),
        Field("orders", f"purchases{days}d", _count_metric),
        Field("units", f"unitsSoldClicks{days}d", _count_metric),
        Field("sales", f"sales{days}d", _money_metric),
    ]


def _ads_fields(report_type: str, days: int, start: dt.date, end: dt.date, currency: str) -> list[Field]:
    day = Field("date", "date", _day(start, end))
    currency_check = Field(None, "campaignBudgetCurrencyCode", _equals(currency), required=False)
    ids = [Field("campaign_id", "campaignId", _id), Field("ad_group_id", "adGroupId", _id)]
    if report_type == "spCampaigns":
        own = [Field("campaign_id", "campaignId", _id),
               Field("campaign_name", "campaignName", _text(), required=False),
               Field("campaign_status", "campaignStatus", _text(16), required=False)]  # fmt: skip
    elif report_type == "spTargeting":
        own = [Field("target_id", "keywordId", _id), *ids,
               Field("keyword_bid", "keywordBid", _optional_money, required=False),
               Field("match_type", "matchType", _text(32), required=False)]  # fmt: skip
    elif report_type == "spSearchTerm":
        own = [Field("target_id", "keywordId", _id), Field("search_term", "searchTerm", _text(required=True)), *ids]
    else:  # spAdvertisedProduct
        own = [Field("ad_id", "adId", _id), *ids,
               Field("asin", "advertisedAsin", _text(16), required=False),
               Field("sku", "advertisedSku", _text(64), required=False)]  # fmt: skip
    return [day, *own, *_metrics(days), currency_check]


_ADS_FACTS = {
    "spCampaigns": SpCampaignDaily.__table__,
    "spTargeting": SpTargetDaily.__table__,
    "spSearchTerm": SpSearchTermDaily.__table__,
    "spAdvertisedProduct": SpProductDaily.__table__,
}


def ads_part(
    report_type: str, profile_id: int, start: dt.date, end: dt.date, currency: str, attribution_days: int
) -> Part:
    if attribution_days not in _WINDOWS:
        raise ValueError(f"attribution_days must be one of {_WINDOWS}")
    fact = _ADS_FACTS[report_type]
    constants: dict[str, Any] = {"profile_id": profile_id}
    if "currency_code" in fact.c:
        constants["currency_code"] = currency
    fields = _ads_fields(report_type, attribution_days, start, end, currency)
    return Part(fact, {"profile_id": profile_id}, constants, RowMapper(fields))


def sales_traffic_parts(
    seller_id: int, marketplace_id: str, start: dt.date, end: dt.date, currency: str, by_date: bool = True
) -> dict[str, Part | None]:
    """Parts by document prefix. Amazon's by-ASIN rows cover the whole requested range, so they are daily
    facts only for a one-day report; for longer ranges they are skipped (None) and that table left alone.
    Without `by_date` (a one-day report beside a range report that owns the daily totals) only by-ASIN."""
    scope = {"seller_id": seller_id, "marketplace_id": marketplace_id}
    money = [Field(None, "salesByDate.orderedProductSales.currencyCode", _equals(currency))]
    date_mapper = RowMapper([
        Field("date", "date", _day(start, end)),
        Field("ordered_sales", "salesByDate.orderedProductSales.amount", _money),
        Field("units_ordered", "salesByDate.unitsOrdered", _count),
        Field("total_order_items", "salesByDate.totalOrderItems", _count),
        Field("sessions", "trafficByDate.sessions", _count),
        Field("page_views", "trafficByDate.pageViews", _count),
        *money,
    ])  # fmt: skip
    parts: dict[str, Part | None] = {
        SALES_TRAFFIC_PREFIXES[0]: Part(
            SalesTrafficDaily.__table__, scope, {**scope, "currency_code": currency}, date_mapper
        ) if by_date else None,
        SALES_TRAFFIC_PREFIXES[1]: None,
    }
    if start == end:
        constants = {**scope, "date": start, "currency_code": currency}
        parts[SALES_TRAFFIC_PREFIXES[1]] = Part(SalesTrafficAsinDaily.__table__, scope, constants,
                                                _by_asin(currency, page_views=True))
    return parts


def sales_traffic_week_parts(seller_id: int, marketplace_id: str, week_start: dt.date, currency: str
                             ) -> dict[str, Part | None]:
    """Parts by document prefix of a one-week (Sun–Sat, WEEK granularity) report: its by-ASIN rows, which Amazon
    sums over the week, are that week's row of `sales_traffic_asin_weekly`; its daily totals are not stored."""
    scope = {"seller_id": seller_id, "marketplace_id": marketplace_id}
    constants = {**scope, "week_start": week_start, "currency_code": currency}
    return {SALES_TRAFFIC_PREFIXES[0]: None,
            SALES_TRAFFIC_PREFIXES[1]: Part(SalesTrafficAsinWeekly.__table__, scope, constants,
                                            _by_asin(currency, page_views=False), date_column="week_start")}


def _by_asin(currency: str, *, page_views: bool) -> RowMapper:
    """A Sales & Traffic report's by-child-ASIN rows (the weekly table keeps no page views)."""
    return RowMapper([
        Field("asin", "childAsin|parentAsin", _text(16, required=True)),
        Field("parent_asin", "parentAsin", _text(16)),
        Field("ordered_sales", "salesByAsin.orderedProductSales.amount", _money),
        Field("units_ordered", "salesByAsin.unitsOrdered", _count),
        Field("sessions", "trafficByAsin.sessions", _count),
        *([Field("page_views", "trafficByAsin.pageViews", _count)] if page_views else []),
        Field(None, "salesByAsin.orderedProductSales.currencyCode", _equals(currency)),
    ])  # fmt: skip
