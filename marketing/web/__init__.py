"""Web blueprints, the login manager wiring, error pages and template helpers."""

from __future__ import annotations

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from marketing import formatting
from marketing.connections.service import token_status
from marketing.extensions import db, login_manager
from marketing.models import User
from marketing.security import permissions

MAX_ID = 2**31 - 1  # database ids
MAX_AMAZON_ID = 2**63 - 1  # Amazon ids are 64-bit
MAX_PAGE = 999_999  # beyond it a page number would only overflow OFFSET


def parse_id(text: str | None, limit: int = MAX_ID) -> int | None:
    """A whole number typed in a URL or form (an id, a page), or None.

    `str.isdigit()` alone lets "²" through to `int()` (a 500), and a number beyond the column's range
    would fail in the database."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        return None
    number = int(text)
    return number if number <= limit else None


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in our URLs is a database id; one beyond the column's range cannot exist.

    It becomes 0 (never an id), so the view's lookup finds nothing and answers 404. Without this,
    /sellers/99999999999999999999 reaches the database and fails there (a 500). (Raising ValidationError
    instead would turn POSTs to such URLs into 405s, because of how werkzeug reports method mismatches.)
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


def init_app(app: Flask) -> None:
    from marketing.web import admin, auth, connections, dashboard, health, products, sellers, suggestions, sync, vendor
    from marketing.web.mail import bp as mail_bp

    app.url_map.converters["int"] = DatabaseIdConverter
    app.register_blueprint(auth.bp)
    app.register_blueprint(sellers.bp)
    app.register_blueprint(connections.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(sync.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(suggestions.bp)
    app.register_blueprint(products.bp)
    app.register_blueprint(mail_bp)

    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)

    app.jinja_env.globals.update(can=permissions.can, P=permissions, token_status=token_status)
    app.jinja_env.globals.update(url_with=dashboard.url_with, plotly_version=vendor.PLOTLY_VERSION)
    app.jinja_env.filters.update(formatting.FILTERS)
    app.context_processor(_chrome)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def _chrome() -> dict:
    """What the layout shows on every page: admin banners and the unread-notice count."""
    if not getattr(current_user, "is_authenticated", False):
        return {"banners": [], "unread_notices": 0}
    from sqlalchemy import func, select

    from marketing.connections import alerts
    from marketing.models import Notice

    unread = db.session.scalar(select(func.count(Notice.id)).where(
        Notice.user_id == current_user.id, Notice.read_at.is_(None)))
    return {"banners": alerts.banners() if current_user.is_admin else [], "unread_notices": unread}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.is_json or best == "application/json"


def _load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    user = db.session.get(User, number) if (number := parse_id(user_id)) is not None else None
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def _unauthorized():
    if wants_json():
        return jsonify(error="authentication required"), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _csrf_error(error: CSRFError):
    return _render_error(400, "The form expired or was tampered with. Go back, reload the page and try again.")


def _http_error(error: HTTPException):
    messages = {
        403: "Your role does not allow this.",
        404: "There is nothing here, or you do not have access to it.",
        405: "That action is not available here.",
        413: "That upload is too large.",
        429: "Too many attempts. Wait a few minutes and try again.",
    }
    return _render_error(error.code or 500, messages.get(error.code, error.description))


def _render_error(code: int, message: str):
    if wants_json():
        return jsonify(error=message), code
    return render_template("error.html", code=code, message=message, user=current_user), code
