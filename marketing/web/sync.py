"""The seller page's sync panel: "Sync now", and the latest run's progress as JSON for live updates."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, url_for
from flask_login import current_user, login_required

from marketing.extensions import db
from marketing.security import permissions as P
from marketing.sync import history, runs
from marketing.web.http import wants_json

bp = Blueprint("sync", __name__)


@bp.app_template_global("sync_progress")
def sync_progress(seller) -> dict | None:
    """The latest run of `seller` as the panel shows it, or None before the first run."""
    run = runs.latest_run(seller.id)
    return runs.progress(run) if run is not None else None


@bp.app_template_global("sales_history")
def sales_history(seller) -> str | None:
    """The by-ASIN sales history's progress line (`sync.history.progress`), or None without Seller Central."""
    return history.progress(seller)


@bp.post("/sellers/<int:seller_id>/sync")
@login_required
def sync_now(seller_id: int):
    seller = P.seller_or_404(seller_id)
    P.require(P.SYNC, seller)
    try:
        run, started = runs.start_run(seller.id, "manual", requested_by_id=current_user.id)
    except runs.SyncRefused as exc:
        db.session.rollback()
        if wants_json():
            return jsonify(error=str(exc)), 409
        flash(f"Cannot sync: {exc}.", "error")
        return redirect(url_for("sellers.show", seller_id=seller.id))
    if wants_json():
        return jsonify(run=runs.progress(run), started=started), 202 if started else 200
    flash("Sync started." if started else f"A sync is already running (run {run.id}, started "
          f"{run.created_at:%Y-%m-%d %H:%M} UTC); showing it.", "success" if started else "info")
    return redirect(url_for("sellers.show", seller_id=seller.id, _anchor="sync"))


@bp.get("/sellers/<int:seller_id>/sync/status")
@login_required
def status(seller_id: int):
    seller = P.seller_or_404(seller_id)
    return jsonify(run=sync_progress(seller))
