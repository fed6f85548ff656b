"""Admin pages: users and their sellers, app settings, the audit log, and background-job health."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from marketing import accounts, audit, jobs, settings_registry
from marketing.extensions import db
from marketing.jobs import health
from marketing.models import ROLES, AuditEvent, Seller, User
from marketing.security import permissions as P
from marketing.security import throttle
from marketing.web.forms import field
from marketing.web.http import parse_id
from marketing.web.page_args import paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50


@bp.before_request
@login_required
def _admins_only():
    P.require(P.ADMINISTER)


@bp.get("/users")
def users():
    rows = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", users=rows, roles=ROLES, form={},
                           slowed=throttle.slowed_accounts(jobs.connection()))


@bp.post("/users")
def create_user():
    try:
        user = accounts.create_user(field("email", 254), field("role", 16), name=field("name", 120),
                                    actor=current_user)
        link = accounts.issue_reset_link(user, actor=current_user)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        rows = db.session.scalars(select(User).order_by(User.email)).all()
        return render_template("admin/users.html", users=rows, roles=ROLES, form=request.form,
                               slowed=throttle.slowed_accounts(jobs.connection())), 400
    flash(f"{user.email} was invited. Send them this one-time link to set a password: {link}", "success")
    return redirect(url_for("admin.user", user_id=user.id))


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    target = _user_or_404(user_id)
    all_sellers = db.session.scalars(select(Seller).order_by(Seller.name)).all()
    return render_template("admin/user.html", target=target, roles=ROLES, sellers=all_sellers)


def _refuse(target: User, message: str):
    """Show the user's page again with the reason (400), instead of redirecting away from it."""
    flash(message, "error")
    all_sellers = db.session.scalars(select(Seller).order_by(Seller.name)).all()
    return render_template("admin/user.html", target=target, roles=ROLES, sellers=all_sellers), 400


@bp.post("/users/<int:user_id>")
def update_user(user_id: int):
    target = _user_or_404(user_id)
    wanted_ids = {n for v in request.form.getlist("seller_ids") if (n := parse_id(v))}
    try:
        accounts.set_access(target, field("role", 16), wanted_ids, actor=current_user)
    except accounts.AccountError as exc:
        db.session.rollback()
        return _refuse(target, str(exc))
    db.session.commit()
    flash(f"Saved {target.email}.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int):
    target = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    try:
        if accounts.set_active(target, active, actor=current_user):
            db.session.commit()
    except accounts.AccountError as exc:
        return _refuse(target, str(exc))
    flash(f"{target.email} is {'active' if active else 'deactivated'}.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/reset-link")
def reset_link(user_id: int):
    target = _user_or_404(user_id)
    if not target.active:
        flash("Activate the user first.", "error")
        return redirect(url_for("admin.user", user_id=target.id))
    link = accounts.issue_reset_link(target, actor=current_user)
    db.session.commit()
    flash(f"One-time link for {target.email} (valid 24 hours): {link}", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.get("/audit")
def audit_log():
    action = (request.args.get("action") or "").strip()
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    page = paginate(query, AUDIT_PAGE_SIZE)
    return render_template("admin/audit.html", events=page.items, page=page.page, pages=max(page.pages, 1),
                           action=action, total=page.total)


def _typed(key: str) -> str | None:
    """What the user typed in a field (the checkbox, not its hidden "no", for a yes/no one)."""
    values = request.form.getlist(key)
    return values[-1] if values else None


@bp.route("/settings", methods=["GET", "POST"])
def app_settings():
    definitions = [d for d in settings_registry.DEFINITIONS.values()]
    status = 200
    if request.method == "POST":
        errors = settings_registry.save_form(request.form, [d.key for d in definitions], actor=current_user)
        if errors:
            db.session.rollback()
            for message in errors:
                flash(message, "error")
            status = 400
        else:
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("admin.app_settings"))
    stored = settings_registry.get_many(d.key for d in definitions)
    values = {d.key: _typed(d.key) if status == 400 else d.dump(stored[d.key]) for d in definitions}
    return render_template("admin/settings.html", definitions=definitions, values=values), status


@bp.get("/jobs")
def job_health():
    return render_template("admin/jobs.html", report=health.report())


@bp.post("/jobs/<queue>/<job_id>/retry")
def retry_job(queue: str, job_id: str):
    if queue not in jobs.QUEUES or not health.requeue(queue, job_id):
        abort(404)
    audit.record("job.retried", target_type="job", target_id=job_id, queue=queue)
    db.session.commit()
    flash(f"Job {job_id} was put back on the {queue} queue.", "success")
    return redirect(url_for("admin.job_health"))
