"""The one permission table every page, job trigger and command consults.

| action                 | admin | marketer (assigned) | viewer (assigned) |
| view / export          |   ✓   |          ✓          |         ✓         |
| connect, sync, seller settings |   ✓   |   ✓   |         –         |
| act on suggestions     |   ✓   |          ✓          |         –         |
| administer             |   ✓   |          –          |         –         |
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from marketing.extensions import db
from marketing.models import Seller, User, user_sellers

VIEW = "view"
EXPORT = "export"
MANAGE_CONNECTIONS = "manage_connections"
SYNC = "sync"
SELLER_SETTINGS = "seller_settings"
ACT_ON_SUGGESTIONS = "act_on_suggestions"
ADMINISTER = "administer"  # users, seller create/delete, assignments, app settings, audit log, job health

_ALLOWED = {
    VIEW: {"admin", "marketer", "viewer"},
    EXPORT: {"admin", "marketer", "viewer"},
    MANAGE_CONNECTIONS: {"admin", "marketer"},
    SYNC: {"admin", "marketer"},
    SELLER_SETTINGS: {"admin", "marketer"},
    ACT_ON_SUGGESTIONS: {"admin", "marketer"},
    ADMINISTER: {"admin"},
}


def can(user: User, action: str, seller: Seller | None = None) -> bool:
    """May `user` do `action` (on `seller`, when the action is seller-scoped)?"""
    if not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if user.role not in _ALLOWED[action]:
        return False
    if seller is None or user.is_admin:
        return True
    return any(s.id == seller.id for s in user.sellers)


def visible_sellers_query(user: User):
    """A select of the sellers `user` may see (all for admins, assigned ones otherwise)."""
    query = select(Seller).order_by(Seller.name)
    if not user.is_admin:
        query = query.join(user_sellers, user_sellers.c.seller_id == Seller.id).where(
            user_sellers.c.user_id == user.id
        )
    return query


def seller_or_404(seller_id: int) -> Seller:
    """The seller if the current user may see it; unknown and foreign ids look the same (404)."""
    seller = db.session.get(Seller, seller_id)
    if seller is None or not can(current_user, VIEW, seller):
        abort(404)
    return seller


def require(action: str, seller: Seller | None = None) -> None:
    if not can(current_user, action, seller):
        abort(403)


def requires(action: str):
    """Decorator for views whose permission does not depend on a seller."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require(action)
            return view(*args, **kwargs)

        return wrapped

    return decorator
