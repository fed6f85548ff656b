"""The overview of the sellers a user may see, and each seller's page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from marketing import audit, charts, sellers
from marketing.clock import now
from marketing.dashboard import overview as overview_data
from marketing.dashboard import periods
from marketing.extensions import db
from marketing.models import REGIONS
from marketing.security import permissions as P
from marketing.web import dashboard
from marketing.web.forms import field
from marketing.web.http import MAX_PAGE, parse_id

bp = Blueprint("sellers", __name__)


@bp.get("/")
@login_required
def overview():
    """All sellers the user may see with their period KPIs, problems first, 25 to a page."""
    rows = db.session.scalars(P.visible_sellers_query(current_user)).all()
    when, message = dashboard.period()
    page = request.args.get("page", "1")
    result = overview_data.build(rows, when, now(), parse_id(page, MAX_PAGE) or 1)
    if dashboard.wants_csv():
        return dashboard.overview_csv(result, when)
    chart = dashboard.figure(charts.daily_trend(result.trend, "Sellers on this page")) if result.trend else None
    return render_template("sellers/overview.html", sellers=rows, result=result, period=when,
                           period_message=message, presets=periods.PRESETS, chart=chart)


@bp.route("/sellers/new", methods=["GET", "POST"])
@login_required
@P.requires(P.ADMINISTER)
def create():
    if request.method == "GET":
        return render_template("sellers/new.html", regions=REGIONS, form={})
    try:
        seller = sellers.create_seller(field("name", 120), field("region", 2), actor=current_user)
        db.session.commit()
    except sellers.SellerError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_template("sellers/new.html", regions=REGIONS, form=request.form), 400
    except IntegrityError:
        db.session.rollback()
        flash("A seller with that name already exists.", "error")
        return render_template("sellers/new.html", regions=REGIONS, form=request.form), 400
    flash(f"Seller {seller.name} added.", "success")
    return redirect(url_for("sellers.show", seller_id=seller.id))


@bp.get("/sellers/<int:seller_id>")
@login_required
def show(seller_id: int):
    seller = P.seller_or_404(seller_id)
    if dashboard.wants_csv():
        return dashboard.seller_campaigns_csv(seller)
    return render_template("sellers/show.html", seller=seller, board=dashboard.seller_view(seller))


@bp.route("/sellers/<int:seller_id>/delete", methods=["GET", "POST"])
@login_required
def delete(seller_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.ADMINISTER)
    if request.method == "GET":
        return render_template("sellers/delete.html", seller=seller)
    if field("confirm_name", 120) != seller.name:
        flash("Type the seller's name exactly to confirm.", "error")
        return render_template("sellers/delete.html", seller=seller), 400
    audit.record("seller.deleted", target_type="seller", target_id=seller.id, name=seller.name)
    sellers.delete_seller(seller)
    db.session.commit()
    flash(f"Seller {seller.name} and its data were deleted.", "success")
    return redirect(url_for("sellers.overview"))


@bp.get("/sellers/<path:anything>")
@login_required
def malformed(anything: str):
    """Seller URLs with a malformed id are simply not found."""
    abort(404)
