"""A file of unit costs (`asin,unit_cost[,price][,referral_fee_pct][,fba_fee]`): every line is checked first, and
one bad line refuses the file, with a line-numbered message for each bad one."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from marketing.numbers import BadNumber
from marketing.products.forms import parse_fee_pct, parse_money

ASIN = re.compile(r"[A-Z0-9]{10}")
MAX_LINES = 50_000


@dataclass(frozen=True)
class ImportLine:
    asin: str
    unit_cost: Decimal | None
    price: Decimal | None
    has_price: bool  # the line had a price column (a blank one clears the stored price)
    referral_fee_pct: Decimal | None = None
    fba_fee: Decimal | None = None
    has_fees: bool = False  # the file has fee columns (a blank one clears the stored fee)


OPTIONAL = ("price", "referral_fee_pct", "fba_fee")


def parse_import(text: str, known: set[str]) -> tuple[list[ImportLine], list[str]]:
    """The file's lines, or line-numbered messages for every bad one (and no lines).

    An optional header line names the columns (`asin`, `unit_cost`, optional `price`, `referral_fee_pct` (percent
    of the price) and `fba_fee` (per unit); others are ignored, so the page's own CSV download imports back);
    without one the columns are asin, unit_cost[, price] as before. `known` are the seller's ASINs: a line for
    any other is an error."""
    lines, errors, seen = [], [], {}
    columns, width = None, 0
    reader = csv.reader(io.StringIO(text))
    try:
        for cells in reader:
            number = reader.line_num
            if number > MAX_LINES:
                return [], [f"The file has more than {MAX_LINES:,} lines; split it."]
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if columns is None and cells[0].lower() == "asin":
                names = [c.lower() for c in cells]
                if "unit_cost" not in names:
                    return [], [f"Line {number}: the header has no unit_cost column."]
                columns = {name: names.index(name) for name in ("asin", "unit_cost", *OPTIONAL) if name in names}
                width = len(names)
                continue
            if columns is None:
                columns, width = {"asin": 0, "unit_cost": 1, "price": 2}, 3
            line, problem = _import_line(cells, columns, width, known)
            if problem is None and line.asin in seen:
                problem = f"{line.asin} is already on line {seen[line.asin]}."
            if problem:
                errors.append(f"Line {number}: {problem}")
            else:
                seen[line.asin] = number
                lines.append(line)
    except csv.Error as exc:
        errors.append(f"Line {reader.line_num}: not valid CSV ({exc}).")
    return ([] if errors else lines), errors


def _import_line(cells: list[str], columns: dict[str, int], width: int,
                 known: set[str]) -> tuple[ImportLine | None, str | None]:
    needed = max(columns["asin"], columns["unit_cost"]) + 1
    if not needed <= len(cells) <= width:
        expected = "asin,unit_cost[,price]" if width == 3 else f"{needed} to {width} values"
        return None, f"expected {expected}, got {len(cells)} value{'s' if len(cells) != 1 else ''}."
    asin = cells[columns["asin"]].upper()
    if not ASIN.fullmatch(asin):
        return None, f"“{cells[columns['asin']][:20]}” is not an ASIN (10 letters and digits)."
    if asin not in known:
        return None, f"{asin} is not one of this seller's advertised products."
    try:
        cost = parse_money(cells[columns["unit_cost"]])
    except BadNumber as exc:
        return None, f"unit cost {exc}"
    has_price = "price" in columns and len(cells) > columns["price"]
    try:
        price = parse_money(cells[columns["price"]], positive=True) if has_price else None
    except BadNumber as exc:
        return None, f"price {exc}"
    fees = {}
    for name in ("referral_fee_pct", "fba_fee"):
        raw = cells[columns[name]] if name in columns and len(cells) > columns[name] else ""
        try:
            fees[name] = parse_fee_pct(raw) if name == "referral_fee_pct" else parse_money(raw)
        except BadNumber as exc:
            return None, f"{name.replace('_', ' ').replace(' pct', ' %')} {exc}"
    has_fees = "referral_fee_pct" in columns or "fba_fee" in columns
    return ImportLine(asin, cost, price, has_price, fees["referral_fee_pct"], fees["fba_fee"], has_fees), None
