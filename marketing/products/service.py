"""A seller's product rows (costs, prices, what sold) and their audited changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from marketing import audit, settings_registry
from marketing.bids.inputs import PRICE_DAYS, Sold, product_sales
from marketing.extensions import db
from marketing.models import Product, Seller, User
from marketing.products import margin
from marketing.products.forms import money_text
from marketing.products.importing import ImportLine, parse_import

SOURCES = {"sales_traffic": "Sales & Traffic", "ads": "ad sales"}
WINDOW_DAYS = PRICE_DAYS  # observed prices and sales weights: the same as the bid engine's
EXPORT_HEADER = ["asin", "unit_cost", "price", "currency", "observed_price", "observed_from", "break_even_acos"]


class ProductError(ValueError):
    """A change that cannot be made; the message is for the user."""


@dataclass
class Row:
    """One ASIN of the seller on the page."""

    asin: str
    currency: str | None = None
    observed_price: Decimal | None = None
    observed_from: str | None = None  # a key of SOURCES
    sales: Decimal = Decimal(0)  # in the observed price's source, over the window: the weight of the ASIN
    stored_price: Decimal | None = None
    unit_cost: Decimal | None = None
    referral_fee_pct: Decimal | None = None
    fba_fee: Decimal | None = None

    @property
    def price(self) -> Decimal | None:
        """The price the seller entered, else what it sold for."""
        return self.stored_price if self.stored_price is not None else self.observed_price

    @property
    def break_even_acos(self) -> Decimal | None:
        return margin.break_even_acos(self.price, self.unit_cost, self.referral_fee_pct, self.fba_fee)


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
        row.referral_fee_pct, row.fba_fee = product.referral_fee_pct, product.fba_fee
        row.currency = product.currency_code or row.currency
    for asin, part in parts.items():
        row = rows[asin]
        same = [p for p in part if p.currency == row.currency and p.units > 0]
        if same:
            row.sales = sum((p.sales for p in same), Decimal(0))
            row.observed_price = row.sales / sum(p.units for p in same)
            row.observed_from = "sales_traffic" if all(p.source == "sales_traffic" for p in same) else "ads"
        elif last := [p for p in part if p.currency == row.currency and p.price is not None]:
            row.observed_price, row.observed_from = last[0].price, last[0].source  # none sold lately: as before
    return sorted(rows.values(), key=lambda r: (-r.sales, r.asin))


def derive_target_acos(rows: list[Row], margin_pct: Decimal) -> margin.Derived | None:
    """The target ACoS keeping `margin_pct` over the rows with a known cost and price (None if there are none)."""
    return margin.derive_target_acos(
        [margin.Economics(r.asin, r.price, r.unit_cost, r.sales, margin.fees_per_unit(r.price, r.referral_fee_pct,
                                                                                      r.fba_fee))
         for r in rows if r.unit_cost is not None and r.price],
        margin_pct)


def export_rows(seller_id: int) -> Iterator[list]:
    """The page's rows as CSV cells under EXPORT_HEADER (a file that imports back)."""
    for r in rows_for(seller_id):
        yield [r.asin, money_text(r.unit_cost), money_text(r.stored_price), r.currency or "",
               "" if r.observed_price is None else r.observed_price.quantize(Decimal("0.01")),
               SOURCES.get(r.observed_from, ""), "" if r.break_even_acos is None else r.break_even_acos]


_ACTIONS = {"unit_cost": "product.cost_changed", "price": "product.price_changed",
            "referral_fee_pct": "product.fee_changed", "fba_fee": "product.fee_changed"}


def _store(seller: Seller, row: Row, actor: User, *, unit_cost: Decimal | None, price: Decimal | None,
           set_price: bool, fees: dict[str, Decimal | None] | None = None) -> int:
    """Save one ASIN's cost (and price, with `set_price`; the fees given in `fees`); audits each changed value.
    Returns the changes."""
    product = db.session.get(Product, (seller.id, row.asin))
    old = {name: getattr(product, name) if product else None for name in _ACTIONS}
    new = {**old, "unit_cost": unit_cost, "price": price if set_price else old["price"], **(fees or {})}
    changed = [name for name in new if new[name] != old[name]]
    if changed and product is None:
        product = Product(seller_id=seller.id, asin=row.asin, currency_code=row.currency, archived=False)
        db.session.add(product)
    for name in changed:
        setattr(product, name, new[name])
        audit.record(_ACTIONS[name], actor=actor, target_type="product", target_id=row.asin, seller_id=seller.id,
                     old=money_text(old[name]) or None, new=money_text(new[name]) or None,
                     currency=product.currency_code, **({"fee": name} if _ACTIONS[name].endswith("fee_changed")
                                                          else {}))
    if changed:
        product.currency_code = product.currency_code or row.currency
        product.archived = False  # a cost typed for an ASIN on the page brings back an archived product
    return len(changed)


def save_costs(seller: Seller, rows: list[Row], costs: dict[str, Decimal | None], actor: User,
               fees: dict[str, dict[str, Decimal | None]] | None = None) -> int:
    """Store the unit costs (and fees, `{asin: {"referral_fee_pct": …, "fba_fee": …}}`) of ASINs on the page
    (None clears one), audited; returns how many values changed. The caller commits."""
    by_asin = {r.asin: r for r in rows}
    fees = fees or {}
    return sum(_store(seller, by_asin[asin], actor, unit_cost=cost, price=None, set_price=False,
                      fees=fees.get(asin)) for asin, cost in costs.items())


def read_import(data: bytes, rows: list[Row]) -> tuple[list[ImportLine], list[str]]:
    """An uploaded cost file (the page's import and `marketing products import`): its lines, or the messages
    that refuse it."""
    try:
        lines, errors = parse_import(data.decode("utf-8-sig"), {r.asin for r in rows}) if data else ([], [])
    except UnicodeDecodeError:
        lines, errors = [], ["The file is not UTF-8 text; save it as CSV (UTF-8) and upload it again."]
    if not errors and not lines:
        errors = ["The file has no lines to import; each line is asin,unit_cost[,price][,referral_fee_pct]"
                  "[,fba_fee] (with a header for the fees)."]
    return lines, errors


def import_lines(seller: Seller, rows: list[Row], lines: list[ImportLine], actor: User | None) -> int:
    """Store parsed import lines, audited; returns how many values changed. The caller commits."""
    by_asin = {r.asin: r for r in rows}
    return sum(_store(seller, by_asin[line.asin], actor, unit_cost=line.unit_cost, price=line.price,
                      set_price=line.has_price,
                      fees={"referral_fee_pct": line.referral_fee_pct, "fba_fee": line.fba_fee} if line.has_fees
                      else None) for line in lines)


def set_target_from_margin(seller: Seller, rows: list[Row], margin_pct: Decimal, actor: User) -> margin.Derived:
    """Set the seller's target ACoS to the one derived from the margin, through the audited settings.

    Raises ProductError (or settings_registry.SettingError) when it cannot; the caller commits or rolls back."""
    derived = derive_target_acos(rows, margin_pct)
    if derived is None:
        raise ProductError("No ASIN has both a unit cost and a price yet: enter costs below first.")
    if derived.target_acos < Decimal("0.1"):
        raise ProductError(f"No product can keep {derived.margin}% profit after any ad spend; lower the margin.")
    settings_registry.set_value("target_acos", str(derived.target_acos), actor=actor, seller_id=seller.id)
    return derived
