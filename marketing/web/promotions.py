"""The seller's Promotions page (measured past promotions, an ASIN's timeline, suggestions, plans), a plan's
printable page with its Seller Central steps, and the admin page of promotion fees.

Everyone who may see the seller sees the pages and downloads them; approving, rejecting, marking entered and
cancelling need ACT_ON_SUGGESTIONS (403 otherwise). Another seller's suggestion or plan id answers 404. Bad input
never saves anything: the page comes back (400) with the message and what was typed. The domain is in
`marketing.promotions`.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketing import charts
from marketing.extensions import db
from marketing.models import Seller
from marketing.models.suggestions import Kind, Trigger
from marketing.promotions import fees, measuring, pages, plans, service
from marketing.promotions.forms import ApproveForm, EnteredForm, FeeForm
from marketing.security import permissions as P
from marketing.suggestions import lifecycle, queries
from marketing.web.downloads import csv_response
from marketing.web.page_args import wants_csv

bp = Blueprint("promotions", __name__)


def _render(seller: Seller, status: int = 200, typed: dict | None = None):
    sort = request.args.get("sort", "start")
    descending = request.args.get("dir", "desc") != "asc"
    past = pages.sorted_past(measuring.past(seller.id), sort, descending)
    choices = pages.asins(seller.id)
    asin = (request.args.get("asin") or "").strip()[:16] or (choices[0] if choices else None)
    timeline = pages.timeline(seller.id, asin) if asin else None
    if asin and timeline is None and request.args.get("asin"):
        flash(f"No sales history for ASIN {asin}; choose one of the seller's ASINs.", "error")
        status = 404 if status == 200 else status
    figure = charts.to_json(charts.promotion_timeline(timeline.days, timeline.windows, timeline.asin,
                                                      timeline.currency)) if timeline else None
    suggestions = pages.pending(seller.id)
    return render_template(
        "promotions/index.html", seller=seller, past=past, sort=sort, descending=descending, asin=asin,
        asins=choices, timeline=timeline, timeline_figure=figure, suggestions=suggestions,
        terms={s.id: plans.proposed_terms(s) for s in suggestions}, typed=typed or {},
        run=queries.latest_run(seller.id, Kind.PROMOTION), enter_unit_cost=pages.enter_unit_cost(seller.id),
        plans=pages.plan_list(seller.id), can_act=P.can(current_user, P.ACT_ON_SUGGESTIONS, seller),
        sp=seller.connection("sp"), amount=plans.amount_text,
    ), status


def _back(seller: Seller):
    return redirect(url_for("promotions.index", seller_id=seller.id), 303)


@bp.get("/sellers/<int:seller_id>/promotions")
@login_required
def index(seller_id: int):
    seller = P.seller_or_404(seller_id)
    if wants_csv():
        P.require(P.EXPORT, seller)
        return csv_response(f"promotions-{seller.id}", pages.CSV_HEADER, pages.csv_rows(measuring.past(seller.id)))
    return _render(seller)


@bp.post("/sellers/<int:seller_id>/promotions/run")
@login_required
def run(seller_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    service.enqueue(seller.id, trigger=Trigger.MANUAL)
    flash("New promotion suggestions are being computed; reload in a moment.", "success")
    return _back(seller)


def _promotion_suggestion(seller: Seller, suggestion_id: int):
    found = lifecycle.for_seller(seller.id, [suggestion_id])
    if not found or found[0].kind != Kind.PROMOTION:
        abort(404)
    return found[0]


@bp.post("/sellers/<int:seller_id>/promotions/suggestions/<int:suggestion_id>/approve")
@login_required
def approve(seller_id: int, suggestion_id: int):
    """Approve as proposed, or with the terms typed on the row (checked against Amazon's rules)."""
    seller = P.seller_or_404(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    suggestion = _promotion_suggestion(seller, suggestion_id)
    form = ApproveForm()
    typed = {suggestion.id: {k: request.form.get(k, "") for k in ("discount", "start", "end", "budget")}}
    if not form.validate():
        for message in form.errors_text():
            flash(f"{suggestion.entity_ref}: {message}", "error")
        return _render(seller, 400, typed)
    try:
        plan = plans.approve(suggestion, actor=current_user, terms=form.terms())
    except (plans.PlanError, lifecycle.NotAllowed) as exc:
        db.session.rollback()
        flash(f"{suggestion.entity_ref}: {exc} Nothing was approved.", "error")
        return _render(seller, 400, typed)
    db.session.commit()
    flash(f"Approved: plan #{plan.id}. Enter it in Seller Central with the steps below, then mark it entered.",
          "success")
    return redirect(url_for("promotions.plan", seller_id=seller.id, plan_id=plan.id), 303)


@bp.post("/sellers/<int:seller_id>/promotions/suggestions/<int:suggestion_id>/reject")
@login_required
def reject(seller_id: int, suggestion_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    suggestion = _promotion_suggestion(seller, suggestion_id)
    try:
        changed = plans.reject(suggestion, actor=current_user)
    except lifecycle.NotAllowed as exc:
        flash(str(exc), "error")
        return _back(seller)
    db.session.commit()
    flash(f"{suggestion.entity_ref}: suggestion rejected." if changed else "It was already rejected.", "success")
    return _back(seller)


def _plan(seller_id: int):
    seller = P.seller_or_404(seller_id)
    found = plans.for_seller(seller.id, request.view_args["plan_id"])
    if found is None:
        abort(404)
    return seller, found


@bp.get("/sellers/<int:seller_id>/promotions/plans/<int:plan_id>")
@login_required
def plan(seller_id: int, plan_id: int):
    """The plan's printable page: the Seller Central steps and values, the link to the create page, predicted vs
    actual; `?format=csv` downloads the steps."""
    seller, found = _plan(seller_id)
    if wants_csv():
        P.require(P.EXPORT, seller)
        return csv_response(f"promotion-plan-{found.id}", ["step", "value"], plans.steps(found))
    return _plan_page(seller, found)


def _plan_page(seller: Seller, found, status: int = 200, amazon_id: str = ""):
    return render_template("promotions/plan.html", seller=seller, plan=found, steps=plans.steps(found),
                           amount=plans.amount_text,
                           link=plans.seller_central_url(found), amazon_id=amazon_id,
                           can_act=P.can(current_user, P.ACT_ON_SUGGESTIONS, seller),
                           cancellable=found.state in plans.CANCELLABLE), status


@bp.post("/sellers/<int:seller_id>/promotions/plans/<int:plan_id>/entered")
@login_required
def entered(seller_id: int, plan_id: int):
    seller, found = _plan(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    form = EnteredForm()
    typed = (request.form.get("amazon_id") or "")[:100]
    try:
        if not form.validate():
            raise plans.PlanError("Amazon's id is at most 64 characters; check what you copied.")
        plans.mark_entered(found, actor=current_user, amazon_id=form.amazon_id.data)
    except plans.PlanError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _plan_page(seller, found, 400, typed)
    db.session.commit()
    flash(f"Plan #{found.id} marked entered; the next reports will show it.", "success")
    return redirect(url_for("promotions.plan", seller_id=seller.id, plan_id=found.id), 303)


@bp.post("/sellers/<int:seller_id>/promotions/plans/<int:plan_id>/cancel")
@login_required
def cancel(seller_id: int, plan_id: int):
    seller, found = _plan(seller_id)
    P.require(P.ACT_ON_SUGGESTIONS, seller)
    try:
        plans.cancel(found, actor=current_user)
    except plans.PlanError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _plan_page(seller, found, 400)
    db.session.commit()
    flash(f"Plan #{found.id} cancelled. If it was entered in Seller Central, end it there too.", "success")
    return redirect(url_for("promotions.plan", seller_id=seller.id, plan_id=found.id), 303)


@bp.route("/admin/promotion-fees", methods=["GET", "POST"])
@login_required
def fee_table():
    """Admins add a fee from a date on (or correct the row of that date); every change is audited."""
    P.require(P.ADMINISTER)
    form = FeeForm()
    if request.method == "POST":
        if form.validate():
            row, created = fees.save(form.values(), actor=current_user)
            db.session.commit()
            flash(f"{'Added' if created else 'Changed'} the {row.type} fee of {row.marketplace_id} from "
                  f"{row.effective_from.isoformat()}.", "success")
            return redirect(url_for("promotions.fee_table"), 303)
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return render_template("promotions/fees.html", form=form, rows=fees.all_rows(),
                               amount=plans.amount_text), 400
    return render_template("promotions/fees.html", form=form, rows=fees.all_rows(), amount=plans.amount_text)
