"""The overview of the sellers a user may see, and each seller's page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from marketing import audit, charts, sellers
from marketing.clock import now
from marketing.dashboard import overview as overview_data
from marketing.dashboard import periods, queries
from marketing.dashboard.seller_page import seller_view
from marketing.dashboard.tables import METRIC_HEADER, OVERVIEW_HEADER, metric_cells, overview_rows
from marketing.extensions import db
from marketing.models import REGIONS
from marketing.security import permissions as P
from marketing.web.downloads import csv_response
from marketing.web.forms import field
from marketing.web.page_args import listing, page_number, period, seller_profiles, wants_csv

bp = Blueprint("sellers", __name__)


@bp.get("/")
@login_required
def overview():
    """All sellers the user may see with their period KPIs, problems first, 25 to a page."""
    rows = db.session.scalars(P.visible_sellers_query(current_user)).all()
    when, message = period()
    result = overview_data.build(rows, when, now(), page_number())
    if wants_csv():
        return csv_response("overview", OVERVIEW_HEADER, overview_rows(result, when))
    chart = charts.to_json(charts.daily_trend(result.trend, "Sellers on this page")) if result.trend else None
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
    profiles, chosen = seller_profiles(seller)
    if wants_csv():
        return _campaigns_csv(chosen)
    when, message = period(chosen)
    board = seller_view(seller, profiles, chosen, when, message, listing(queries.CAMPAIGN_SORTS))
    return render_template("sellers/show.html", seller=seller, board=board)


def _campaigns_csv(chosen):
    """The seller page's campaign table as CSV (every row, in the page's order)."""
    if chosen is None:
        abort(404)
    when, _ = period(chosen)
    table = queries.campaigns(chosen.profile_id, when, listing(queries.CAMPAIGN_SORTS))
    return csv_response(
        f"campaigns-{chosen.profile_id}", ["campaign_id", "name", "state", "from", "to", *METRIC_HEADER],
        ([r.id, r.info["name"], r.info["state"], when.start, when.end, *metric_cells(r.metrics, chosen.currency_code)]
         for r in table.items))


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
