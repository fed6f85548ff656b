"""The products page: unit costs typed in or imported, break-even ACoS, and a target ACoS from a margin.

Everyone who sees the seller sees the page and may download it; changing costs and the target ACoS needs
SELLER_SETTINGS (403 otherwise). Bad input never saves anything: the page comes back (400) with what was typed
and a message per bad field or line. The domain is in `marketing.products`.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketing import settings_registry
from marketing.extensions import db
from marketing.models import Seller
from marketing.numbers import BadNumber
from marketing.optimize.margin import DEFAULT_REFERRAL_FEE_PCT
from marketing.products import service
from marketing.products.forms import money_text, parse_fee_pct, parse_margin, parse_money
from marketing.products.service import Row
from marketing.security import permissions as P
from marketing.web.downloads import csv_response

bp = Blueprint("products", __name__)

_MAX_ERRORS_SHOWN = 20
# The products form's fields per ASIN (`cost-B0…`): what a message calls each, and its parser.
_FIELDS = {"cost": ("unit cost", parse_money), "referral": ("referral fee %", parse_fee_pct),
           "fba": ("FBA fee", parse_money)}


def _render(seller: Seller, rows: list[Row] | None = None, status: int = 200, typed: dict[str, str] | None = None,
            margin: str | None = None):
    rows = service.rows_for(seller.id) if rows is None else rows
    margin = request.args.get("margin") if margin is None else margin
    derived, margin_error = None, None
    if margin:
        try:
            derived = service.derive_target_acos(rows, parse_margin(margin))
        except BadNumber as exc:
            margin_error, status = str(exc), 400
    return render_template(
        "products/index.html", seller=seller, rows=rows, sources=service.SOURCES, typed=typed or {},
        fields={f"{prefix}-{r.asin}": money_text(value) for r in rows
                for prefix, value in (("cost", r.unit_cost), ("referral", r.referral_fee_pct), ("fba", r.fba_fee))},
        margin=margin or "", derived=derived, default_referral=DEFAULT_REFERRAL_FEE_PCT,
        margin_error=margin_error, target_acos=settings_registry.get("target_acos", seller.id),
        can_edit=P.can(current_user, P.SELLER_SETTINGS, seller), window_days=service.WINDOW_DAYS,
    ), status


def _editable(seller_id: int) -> tuple[Seller, list[Row]]:
    """The seller (404 if not visible, 403 without SELLER_SETTINGS) and the page's rows, for a change."""
    seller = P.seller_or_404(seller_id)
    P.require(P.SELLER_SETTINGS, seller)
    return seller, service.rows_for(seller.id)


def _back(seller: Seller):
    return redirect(url_for("products.index", seller_id=seller.id), 303)


def _refuse(seller: Seller, rows: list[Row], errors: list[str], what: str, **page):
    for message in errors[:_MAX_ERRORS_SHOWN]:
        flash(message, "error")
    if len(errors) > _MAX_ERRORS_SHOWN:
        flash(f"… and {len(errors) - _MAX_ERRORS_SHOWN} more.", "error")
    flash(what, "error")
    return _render(seller, rows, 400, **page)


@bp.get("/sellers/<int:seller_id>/products")
@login_required
def index(seller_id: int):
    seller = P.seller_or_404(seller_id)
    if request.args.get("format") == "csv":
        P.require(P.EXPORT, seller)
        return csv_response(f"products-{seller.id}", service.EXPORT_HEADER, service.export_rows(seller.id))
    return _render(seller)


@bp.post("/sellers/<int:seller_id>/products")
@login_required
def save_costs(seller_id: int):
    """The page's one form: a unit cost, referral fee and FBA fee field per ASIN; a blank field clears it."""
    seller, rows = _editable(seller_id)
    typed = {name: request.form[name] for r in rows for prefix in _FIELDS
             if (name := f"{prefix}-{r.asin}") in request.form}
    values, errors = {}, []
    for name, raw in typed.items():
        prefix, asin = name.split("-", 1)
        label, parse = _FIELDS[prefix]
        try:
            values[name] = parse(raw)
        except BadNumber as exc:
            errors.append(f"{asin}: {label} {exc}")
    if errors:
        return _refuse(seller, rows, errors, "Nothing was saved; correct the values above and save again.",
                       typed=typed)
    costs = {r.asin: values[f"cost-{r.asin}"] for r in rows if f"cost-{r.asin}" in values}
    fees = {r.asin: {"referral_fee_pct": values[f"referral-{r.asin}"], "fba_fee": values[f"fba-{r.asin}"]}
            for r in rows if f"referral-{r.asin}" in values and f"fba-{r.asin}" in values}
    changed = service.save_costs(seller, rows, costs, current_user, fees)
    db.session.commit()
    flash(f"{changed} value{'s' if changed != 1 else ''} changed." if changed else "Nothing changed.", "success")
    return _back(seller)


@bp.post("/sellers/<int:seller_id>/products/import")
@login_required
def import_costs(seller_id: int):
    """A CSV of `asin,unit_cost[,price][,referral_fee_pct][,fba_fee]`: every line is checked first, and one bad line
    refuses the file."""
    seller, rows = _editable(seller_id)
    upload = request.files.get("file")
    lines, errors = service.read_import(upload.read() if upload else b"", rows)
    if errors:
        return _refuse(seller, rows, errors, "Nothing was imported; correct the file and upload it again.")
    changed = service.import_lines(seller, rows, lines, current_user)
    db.session.commit()
    flash(f"Imported {len(lines)} line{'s' if len(lines) != 1 else ''}: {changed} value"
          f"{'s' if changed != 1 else ''} changed.", "success")
    return _back(seller)


@bp.post("/sellers/<int:seller_id>/products/target-acos")
@login_required
def set_target_acos(seller_id: int):
    """Set the seller's target ACoS to the one derived from the margin (recomputed here, not taken from the
    form), through the audited settings."""
    seller, rows = _editable(seller_id)
    raw = request.form.get("margin", "")
    try:
        derived = service.set_target_from_margin(seller, rows, parse_margin(raw), current_user)
    except (BadNumber, service.ProductError, settings_registry.SettingError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render(seller, rows, 400, margin=raw)
    db.session.commit()
    flash(f"Target ACoS set to {derived.target_acos}% (keeps {derived.margin}% profit after ads over "
          f"{derived.asins} ASIN{'s' if derived.asins != 1 else ''} with a known cost).", "success")
    return _back(seller)
