"""The overview of the sellers a user may see, and each seller's page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from marketing import audit, sellers
from marketing.extensions import db
from marketing.models import REGIONS
from marketing.security import permissions as P
from marketing.web.forms import field

bp = Blueprint("sellers", __name__)


@bp.get("/")
@login_required
def overview():
    rows = db.session.scalars(P.visible_sellers_query(current_user)).all()
    return render_template("sellers/overview.html", sellers=rows)


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
    return render_template("sellers/show.html", seller=seller)


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
