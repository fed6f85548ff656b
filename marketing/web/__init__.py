"""Web blueprints, the login manager wiring, error pages and template helpers."""

from __future__ import annotations

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from marketing import formatting
from marketing.connections import alerts
from marketing.connections.service import token_status
from marketing.extensions import db, login_manager
from marketing.models import Notice, User
from marketing.security import permissions
from marketing.web import (
    admin,
    auth,
    connections,
    dashboard,
    health,
    mail,
    products,
    promotions,
    sellers,
    suggestions,
    sync,
    vendor,
)
from marketing.web.headers import no_store
from marketing.web.http import DatabaseIdConverter, parse_id, wants_json
from marketing.web.inputs import refuse_nul_characters
from marketing.web.page_args import url_with

# Registered in this order by `init_app`; a new page's blueprint is added here.
BLUEPRINTS = (
    auth.bp,
    sellers.bp,
    connections.bp,
    admin.bp,
    health.bp,
    sync.bp,
    dashboard.bp,
    vendor.bp,
    suggestions.bp,
    products.bp,
    promotions.bp,
    mail.bp,
)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)

    app.jinja_env.globals.update(can=permissions.can, P=permissions, token_status=token_status)
    app.jinja_env.globals.update(url_with=url_with, plotly_version=vendor.PLOTLY_VERSION)
    app.jinja_env.filters.update(formatting.FILTERS)
    app.context_processor(_chrome)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.before_request(refuse_nul_characters)
    app.after_request(no_store)


def _chrome() -> dict:
    """What the layout shows on every page: admin banners and the unread-notice count."""
    if not getattr(current_user, "is_authenticated", False):
        return {"banners": [], "unread_notices": 0}
    unread = db.session.scalar(select(func.count(Notice.id)).where(
        Notice.user_id == current_user.id, Notice.read_at.is_(None)))
    return {"banners": alerts.banners() if current_user.is_admin else [], "unread_notices": unread}


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
