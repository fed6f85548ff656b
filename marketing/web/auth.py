"""Log in, log out, change password, and set a password from a one-time link."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from marketing import accounts, audit, jobs
from marketing.clock import now
from marketing.extensions import db, limiter
from marketing.security import throttle
from marketing.security.passwords import hash_password, needs_rehash, verify_password
from marketing.web.forms import field
from marketing.web.redirects import safe_next

bp = Blueprint("auth", __name__)


def _failed(response) -> bool:
    return response.status_code == 401


def _typed_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254]


def _source_and_email_key() -> str:
    return f"login-source-email:{get_remote_address()}:{_typed_email()}"


# Failures are limited per source (the address, and the address with one email); the account itself is only
# slowed (security.throttle), so nobody can lock its owner out by failing on purpose.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute;100/hour", methods=["POST"], deduct_when=_failed)
@limiter.limit("5/minute;30/hour", methods=["POST"], key_func=_source_and_email_key, deduct_when=_failed)
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("sellers.overview"))
    if request.method == "GET":
        return render_template("auth/login.html", next=next_url)
    email = field("email", 254)
    throttle.slow_down(jobs.connection(), _typed_email())
    user = accounts.find_user(email) if email else None
    # Verify even for unknown emails so timing does not reveal which accounts exist.
    valid = verify_password(user.password_hash if user else None, request.form.get("password") or "")
    if not (user and valid and user.active):
        throttle.failed(jobs.connection(), _typed_email())
        if user is not None:
            audit.record("login.failed", actor=user, target_type="user", target_id=user.id)
            db.session.commit()
        flash("Invalid email or password.", "error")
        return render_template("auth/login.html", next=next_url, email=email), 401
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(request.form["password"])
    throttle.succeeded(jobs.connection(), _typed_email())
    session.clear()  # no session fixation
    login_user(user)
    user.last_login_at = now()
    audit.record("login", actor=user, target_type="user", target_id=user.id)
    db.session.commit()
    return redirect(next_url or url_for("sellers.overview"))


@bp.post("/logout")
@login_required
def logout():
    """Ends every session of the user, not just this cookie: a copy saved elsewhere stops working too."""
    current_user.end_sessions()
    audit.record("logout", target_type="user", target_id=current_user.id)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10/hour", methods=["POST"], deduct_when=lambda r: r.status_code == 400)
def change_password():
    if request.method == "GET":
        return render_template("auth/change_password.html")
    user = current_user._get_current_object()
    if not verify_password(user.password_hash, request.form.get("current_password") or ""):
        flash("Your current password is not correct.", "error")
        return render_template("auth/change_password.html"), 400
    new = request.form.get("new_password") or ""
    if new != (request.form.get("confirm_password") or ""):
        flash("The new passwords do not match.", "error")
        return render_template("auth/change_password.html"), 400
    try:
        accounts.set_password(user, new)
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return render_template("auth/change_password.html"), 400
    db.session.commit()
    login_user(user)  # the session id changed with the password; keep this session, end the others
    flash("Password changed. Other sessions were signed out.", "success")
    return redirect(url_for("sellers.overview"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("30/hour", methods=["POST"])
def reset_password(token: str):
    row = accounts.redeem_reset_token(token)
    if row is None:
        return render_template("auth/reset_invalid.html"), 404
    if request.method == "GET":
        return render_template("auth/reset.html", email=row.user.email)
    new = request.form.get("new_password") or ""
    if new != (request.form.get("confirm_password") or ""):
        flash("The passwords do not match.", "error")
        return render_template("auth/reset.html", email=row.user.email), 400
    try:
        accounts.set_password(row.user, new, actor=row.user)
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return render_template("auth/reset.html", email=row.user.email), 400
    row.used_at = now()
    db.session.commit()
    flash("Your password is set. Log in with it.", "success")
    return redirect(url_for("auth.login"))


@bp.get("/account")
@login_required
def account():
    return render_template("auth/account.html")
