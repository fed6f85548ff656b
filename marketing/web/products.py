"""A seller's products: unit costs (typed in or imported from CSV), prices, break-even ACoS, and a target ACoS
derived from the profit the seller wants to keep after ads.

Amazon knows what an ASIN sells for but not what it costs the seller; without the cost no bid can be capped
at break-even. Everyone who sees the seller sees the page and may download it; changing costs and the target
ACoS needs SELLER_SETTINGS (403 otherwise). Bad input never saves anything: the page comes back (400) with
what was typed and a message per bad field or line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from marketing import audit, settings_registry
from marketing.bids.inputs import PRICE_DAYS, Sold, product_sales
from marketing.extensions import db
from marketing.models import Product, Seller
from marketing.security import permissions as P

bp = Blueprint("products", __name__)

_ASIN = re.compile(r"[A-Z0-9]{10}")
_MAX_MONEY = Decimal("1000000000")  # the column is Numeric(14, 4)
_MAX_ERRORS_SHOWN = 20
_MAX_IMPORT_LINES = 50_000
_SOURCES = {"sales_traffic": "Sales & Traffic", "ads": "ad sales"}
WINDOW_DAYS = PRICE_DAYS  # observed prices and sales weights: the same as the bid engine's


class BadValue(ValueError):
    """A typed amount that cannot be stored; the message is for the user."""


def parse_money(raw: str | None, *, positive: bool = False) -> Decimal | None:
    """An exact amount ≥ 0 (> 0 with `positive`) with at most 4 decimals, or None for a blank."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadValue(f"“{raw[:20]}” is not an amount; write it like 12.50.") from None
    if not value.is_finite():
        raise BadValue(f"“{raw[:20]}” is not an amount; write it like 12.50.")
    if value < 0 or (positive and value == 0):
        raise BadValue(f"{raw} must be {'more than' if positive else 'at least'} 0.")
    if value >= _MAX_MONEY:
        raise BadValue(f"{raw} is too large.")
    if value.as_tuple().exponent < -4:
        raise BadValue(f"{raw} has more than 4 decimals.")
    return value


def money_text(value: Decimal | None) -> str:
    """How a stored amount is typed back into a field: 12.50, 0.1234 — not 12.5000 or 1.2E+1."""
    if value is None:
        return ""
    cents = value.quantize(Decimal("0.01"))
    return str(cents) if cents == value else format(value.normalize(), "f")


@dataclass
class Row:
    """One ASIN of the seller on the page."""

    asin: str
    currency: str | None = None
    observed_price: Decimal | None = None
    observed_from: str | None = None  # a key of _SOURCES
    sales: Decimal = Decimal(0)  # in the observed price's source, over the window: the weight of the ASIN
    stored_price: Decimal | None = None
    unit_cost: Decimal | None = None

    @property
    def price(self) -> Decimal | None:
        """The price the seller entered, else what it sold for."""
        return self.stored_price if self.stored_price is not None else self.observed_price

    @property
    def break_even_acos(self) -> Decimal | None:
        """(price − unit cost) / price: the ACoS at which ads eat the whole profit; negative loses money."""
        if self.unit_cost is None or not self.price:
            return None
        return (self.price - self.unit_cost) / self.price


def rows_for(seller_id: int) -> list[Row]:
    """Every ASIN the seller advertises or has a cost for, with its observed price where one is known.

    An ASIN's row is in one currency: the one its cost was entered in, else that of the marketplace where it
    sold the most; its observed price is over the marketplaces of that currency."""
    rows: dict[str, Row] = {}
    parts: dict[str, list[Sold]] = {}
    for sold in product_sales(seller_id):
        parts.setdefault(sold.asin, []).append(sold)
    for asin, part in parts.items():
        best = max(part, key=lambda p: (p.currency is not None, p.sales))
        rows[asin] = Row(asin=asin, currency=best.currency)
    for product in db.session.scalars(select(Product).where(Product.seller_id == seller_id,
                                                            Product.archived.is_(False))):
        row = rows.setdefault(product.asin, Row(asin=product.asin))
        row.stored_price, row.unit_cost = product.price, product.unit_cost
        row.currency = product.currency_code or row.currency
    for asin, part in parts.items():
        row = rows[asin]
        same = [p for p in part if p.currency == row.currency and p.units > 0]
        if same:
            row.sales = sum((p.sales for p in same), Decimal(0))
            row.observed_price = row.sales / sum(p.units for p in same)
            row.observed_from = "sales_traffic" if all(p.source == "sales_traffic" for p in same) else "ads"
    return sorted(rows.values(), key=lambda r: (-r.sales, r.asin))


@dataclass(frozen=True)
class Derived:
    """A target ACoS derived from a profit margin."""

    margin: Decimal  # percent
    target_acos: Decimal  # percent, one decimal
    asins: int  # with both cost and price
    unreachable: list[str]  # ASINs that cannot keep the margin at any ACoS (counted as 0%)


def derive_target_acos(rows: list[Row], margin_pct: Decimal) -> Derived | None:
    """Sales-weighted target ACoS over the ASINs with a known cost and price; None if there are none.

    Each ASIN's own target is `target_acos_from_margin` (break-even − margin); an ASIN that cannot keep the
    margin at any ACoS counts as 0%: spending on its ads at all would cost the margin. Weights are each ASIN's
    sales in the window (a simple average when none sold), so the result is the profit-keeping ACoS of the
    seller's mix rather than of its long tail."""
    import numpy as np

    from marketing.optimize.margin import target_acos_from_margin

    known = [r for r in rows if r.unit_cost is not None and r.price]
    if not known:
        return None
    targets = target_acos_from_margin([float(r.price) for r in known], [float(r.unit_cost) for r in known],
                                      profit_margin=float(margin_pct) / 100)
    weights = np.array([float(r.sales) for r in known])
    if weights.sum() <= 0:
        weights = np.ones(len(known))
    value = float((np.nan_to_num(targets) * weights).sum() / weights.sum())
    return Derived(margin=margin_pct, target_acos=Decimal(str(round(value * 100, 1))), asins=len(known),
                   unreachable=[r.asin for r, t in zip(known, targets, strict=True) if np.isnan(t)])


def parse_margin(raw: str | None) -> Decimal:
    raw = (raw or "").strip().rstrip("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadValue("Profit after ads: enter a percentage such as 10.") from None
    if not value.is_finite() or not 0 <= value < 100:
        raise BadValue("Profit after ads: enter a percentage from 0 to below 100.")
    return value


def _render(seller: Seller, rows: list[Row] | None = None, status: int = 200, typed: dict[str, str] | None = None,
            margin: str | None = None):
    rows = rows_for(seller.id) if rows is None else rows
    margin = request.args.get("margin") if margin is None else margin
    derived, margin_error = None, None
    if margin:
        try:
            derived = derive_target_acos(rows, parse_margin(margin))
        except BadValue as exc:
            margin_error, status = str(exc), 400
    return render_template(
        "products/index.html", seller=seller, rows=rows, sources=_SOURCES, typed=typed or {},
        costs={r.asin: money_text(r.unit_cost) for r in rows}, margin=margin or "", derived=derived,
        margin_error=margin_error, target_acos=settings_registry.get("target_acos", seller.id),
        can_edit=P.can(current_user, P.SELLER_SETTINGS, seller), window_days=WINDOW_DAYS,
    ), status


def _back(seller: Seller):
    return redirect(url_for("products.index", seller_id=seller.id), 303)


@bp.get("/sellers/<int:seller_id>/products")
@login_required
def index(seller_id: int):
    seller = P.seller_or_404(seller_id)
    if request.args.get("format") == "csv":
        return _export(seller)
    return _render(seller)


def _export(seller: Seller):
    from marketing.web.dashboard import csv_response

    P.require(P.EXPORT, seller)
    return csv_response(
        f"products-{seller.id}",
        ["asin", "unit_cost", "price", "currency", "observed_price", "observed_from", "break_even_acos"],
        ([r.asin, money_text(r.unit_cost), money_text(r.stored_price), r.currency or "",
          "" if r.observed_price is None else r.observed_price.quantize(Decimal("0.01")),
          _SOURCES.get(r.observed_from, ""),
          "" if r.break_even_acos is None else r.break_even_acos.quantize(Decimal("0.0001"))]
         for r in rows_for(seller.id)))


def _store(seller: Seller, row: Row, *, unit_cost: Decimal | None, price: Decimal | None,
           set_price: bool) -> int:
    """Save one ASIN's cost (and price, with `set_price`); audits each changed value. Returns the changes."""
    product = db.session.get(Product, (seller.id, row.asin))
    old = {"unit_cost": product.unit_cost, "price": product.price} if product else {"unit_cost": None, "price": None}
    new = {"unit_cost": unit_cost, "price": price if set_price else old["price"]}
    changed = [name for name in new if new[name] != old[name]]
    if changed and product is None:
        product = Product(seller_id=seller.id, asin=row.asin, currency_code=row.currency, archived=False)
        db.session.add(product)
    for name in changed:
        setattr(product, name, new[name])
        action = "product.cost_changed" if name == "unit_cost" else "product.price_changed"
        audit.record(action, actor=current_user, target_type="product", target_id=row.asin, seller_id=seller.id,
                     old=money_text(old[name]) or None, new=money_text(new[name]) or None,
                     currency=product.currency_code)
    if changed:
        product.currency_code = product.currency_code or row.currency
        product.archived = False  # a cost typed for an ASIN on the page brings back an archived product
    return len(changed)


@bp.post("/sellers/<int:seller_id>/products")
@login_required
def save_costs(seller_id: int):
    """The page's one form: a unit cost field per ASIN; a blank field clears the cost."""
    seller = P.seller_or_404(seller_id)
    P.require(P.SELLER_SETTINGS, seller)
    rows = rows_for(seller.id)
    typed = {r.asin: request.form[f"cost-{r.asin}"] for r in rows if f"cost-{r.asin}" in request.form}
    parsed, errors = {}, []
    for asin, raw in typed.items():
        try:
            parsed[asin] = parse_money(raw)
        except BadValue as exc:
            errors.append(f"{asin}: unit cost {exc}")
    if errors:
        for message in errors:
            flash(message, "error")
        flash("Nothing was saved; correct the costs above and save again.", "error")
        return _render(seller, rows, 400, typed)
    by_asin = {r.asin: r for r in rows}
    changed = sum(_store(seller, by_asin[a], unit_cost=c, price=None, set_price=False) for a, c in parsed.items())
    db.session.commit()
    flash(f"{changed} unit cost{'s' if changed != 1 else ''} changed." if changed else "No cost changed.", "success")
    return _back(seller)


@bp.post("/sellers/<int:seller_id>/products/import")
@login_required
def import_costs(seller_id: int):
    """A CSV of `asin,unit_cost[,price]`: every line is checked first, and one bad line refuses the file."""
    seller = P.seller_or_404(seller_id)
    P.require(P.SELLER_SETTINGS, seller)
    rows = rows_for(seller.id)
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    try:
        lines, errors = parse_import(data.decode("utf-8-sig"), {r.asin for r in rows}) if data else ([], [])
    except UnicodeDecodeError:
        lines, errors = [], ["The file is not UTF-8 text; save it as CSV (UTF-8) and upload it again."]
    if not errors and not lines:
        errors = ["The file has no lines to import; each line is asin,unit_cost[,price]."]
    if errors:
        for message in errors[:_MAX_ERRORS_SHOWN]:
            flash(message, "error")
        if len(errors) > _MAX_ERRORS_SHOWN:
            flash(f"… and {len(errors) - _MAX_ERRORS_SHOWN} more.", "error")
        flash("Nothing was imported; correct the file and upload it again.", "error")
        return _render(seller, rows, 400)
    by_asin = {r.asin: r for r in rows}
    changed = sum(_store(seller, by_asin[line.asin], unit_cost=line.unit_cost, price=line.price,
                         set_price=line.has_price) for line in lines)
    db.session.commit()
    flash(f"Imported {len(lines)} line{'s' if len(lines) != 1 else ''}: {changed} value"
          f"{'s' if changed != 1 else ''} changed.", "success")
    return _back(seller)


@dataclass(frozen=True)
class ImportLine:
    asin: str
    unit_cost: Decimal | None
    price: Decimal | None
    has_price: bool  # the line had a price column (a blank one clears the stored price)


def parse_import(text: str, known: set[str]) -> tuple[list[ImportLine], list[str]]:
    """The file's lines, or line-numbered messages for every bad one.

    An optional header line names the columns (`asin`, `unit_cost`, optional `price`; others are ignored, so
    the page's own CSV download imports back); without one the columns are asin, unit_cost[, price]."""
    lines, errors, seen = [], [], {}
    columns, width = None, 0
    reader = csv.reader(io.StringIO(text))
    try:
        for cells in reader:
            number = reader.line_num
            if number > _MAX_IMPORT_LINES:
                return [], [f"The file has more than {_MAX_IMPORT_LINES:,} lines; split it."]
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if columns is None and cells[0].lower() == "asin":
                names = [c.lower() for c in cells]
                if "unit_cost" not in names:
                    return [], [f"Line {number}: the header has no unit_cost column."]
                columns = {name: names.index(name) for name in ("asin", "unit_cost", "price") if name in names}
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
    if not _ASIN.fullmatch(asin):
        return None, f"“{cells[columns['asin']][:20]}” is not an ASIN (10 letters and digits)."
    if asin not in known:
        return None, f"{asin} is not one of this seller's advertised products."
    try:
        cost = parse_money(cells[columns["unit_cost"]])
    except BadValue as exc:
        return None, f"unit cost {exc}"
    has_price = "price" in columns and len(cells) > columns["price"]
    try:
        price = parse_money(cells[columns["price"]], positive=True) if has_price else None
    except BadValue as exc:
        return None, f"price {exc}"
    return ImportLine(asin, cost, price, has_price), None


@bp.post("/sellers/<int:seller_id>/products/target-acos")
@login_required
def set_target_acos(seller_id: int):
    """Set the seller's target ACoS to the one derived from the margin (recomputed here, not taken from the
    form), through the audited settings."""
    seller = P.seller_or_404(seller_id)
    P.require(P.SELLER_SETTINGS, seller)
    rows = rows_for(seller.id)
    raw = request.form.get("margin", "")
    try:
        derived = derive_target_acos(rows, parse_margin(raw))
        if derived is None:
            raise BadValue("No ASIN has both a unit cost and a price yet: enter costs below first.")
        if derived.target_acos < Decimal("0.1"):
            raise BadValue(f"No product can keep {derived.margin}% profit after any ad spend; lower the margin.")
        settings_registry.set_value("target_acos", str(derived.target_acos), actor=current_user,
                                    seller_id=seller.id)
    except (BadValue, settings_registry.SettingError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render(seller, rows, 400, margin=raw)
    db.session.commit()
    flash(f"Target ACoS set to {derived.target_acos}% (keeps {derived.margin}% profit after ads over "
          f"{derived.asins} ASIN{'s' if derived.asins != 1 else ''} with a known cost).", "success")
    return _back(seller)
