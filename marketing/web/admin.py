"""Admin pages: users and their sellers, app settings, the audit log, and background-job health."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from marketing import accounts, audit, jobs, settings_registry
from marketing.extensions import db
from marketing.jobs import health
from marketing.models import ROLES, AuditEvent, Seller, User
from marketing.security import permissions as P
from marketing.security import throttle
from marketing.web import parse_id
from marketing.web.forms import field

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50


@bp.before_request
@login_required
def _admins_only():
    P.require(P.ADMINISTER)


@bp.get("/users")
def users():
    rows = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", users=rows, roles=ROLES, form={}, slowed=throttle.slowed_accounts())


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
                               slowed=throttle.slowed_accounts()), 400
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
    role = field("role", 16)
    if role not in ROLES:
        return _refuse(target, "Choose a valid role.")
    if target.id == current_user.id and role != "admin":
        return _refuse(target, "You cannot remove your own admin role.")
    wanted_ids = {n for v in request.form.getlist("seller_ids") if (n := parse_id(v))}
    wanted = db.session.scalars(select(Seller).where(Seller.id.in_(wanted_ids))).all() if wanted_ids else []
    before = sorted(s.id for s in target.sellers)
    if role != target.role:
        audit.record("user.role_changed", target_type="user", target_id=target.id, old=target.role, new=role)
        target.role = role
    target.sellers = list(wanted)
    after = sorted(s.id for s in wanted)
    if before != after:
        audit.record("user.sellers_changed", target_type="user", target_id=target.id, old=before, new=after)
    db.session.commit()
    flash(f"Saved {target.email}.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int):
    target = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    if target.id == current_user.id and not active:
        return _refuse(target, "You cannot deactivate yourself.")
    if target.active != active:
        target.active = active
        target.end_sessions()
        audit.record("user.activated" if active else "user.deactivated", target_type="user", target_id=target.id)
        db.session.commit()
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
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max((total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE, 1)
    # Clamped to the last page: a huge ?page= would otherwise overflow the database's OFFSET.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = db.session.scalars(query.limit(AUDIT_PAGE_SIZE).offset((page - 1) * AUDIT_PAGE_SIZE)).all()
    return render_template("admin/audit.html", events=rows, page=page, pages=pages, action=action, total=total)


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
    values = {d.key: _typed(d.key) if status == 400 else d.dump(settings_registry.get(d.key)) for d in definitions}
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
