"""Each user's email preferences (defaults for users who never saved any) and who may get which email."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from marketing.extensions import db
from marketing.models import EmailPreference, Seller, User
from marketing.security import permissions


def get(user_id: int) -> EmailPreference:
    """The stored preferences, or unsaved defaults."""
    pref = db.session.get(EmailPreference, user_id)
    return pref if pref is not None else default(user_id)


def default(user_id: int) -> EmailPreference:
    """Weekly summary on Monday at 08:00 (UTC until a time zone is saved), alerts on, every visible seller."""
    return EmailPreference(user_id=user_id, weekly=True, alerts=True, weekday=0, hour=8, timezone=None,
                           seller_ids=None)


def stored(user_id: int) -> EmailPreference:
    """The user's row, created with the defaults if missing (for saving)."""
    pref = db.session.get(EmailPreference, user_id)
    if pref is None:
        pref = default(user_id)
        db.session.add(pref)
    return pref


def visible_sellers(user: User) -> list[Seller]:
    """With their connections (for token warnings), without their other users (not needed, many)."""
    return list(db.session.scalars(permissions.visible_sellers_query(user)
                                   .options(selectinload(Seller.connections), lazyload(Seller.users))))


def user(user_id: int) -> User | None:
    """The user without the assigned sellers' eager loads (visible_sellers reads them)."""
    return db.session.scalar(select(User).where(User.id == user_id).options(lazyload(User.sellers)))


def sellers_for(user: User, pref: EmailPreference) -> list[Seller]:
    """The sellers the user's email covers: those the user may see *now*, narrowed to the chosen ones."""
    sellers = visible_sellers(user)
    if pref.seller_ids is None:
        return sellers
    chosen = set(pref.seller_ids)
    return [s for s in sellers if s.id in chosen]


def set_list(user_id: int, list_name: str, on: bool) -> bool:
    """Switch one list for one user; returns whether anything changed (the caller commits)."""
    pref = stored(user_id)
    field = "weekly" if list_name == "weekly" else "alerts"
    if getattr(pref, field) == on:
        return False
    setattr(pref, field, on)
    return True


def reset(user_id: int) -> None:
    """Back to the defaults (admins)."""
    pref = db.session.get(EmailPreference, user_id)
    if pref is not None:
        db.session.delete(pref)


def recipients() -> list[tuple[User, EmailPreference]]:
    """Active users with their preferences (defaults where unsaved), in one query."""
    rows = db.session.execute(
        select(User, EmailPreference).outerjoin(EmailPreference, EmailPreference.user_id == User.id)
        .where(User.active.is_(True)).order_by(User.id).options(lazyload(User.sellers))).all()
    return [(user, pref if pref is not None else default(user.id)) for user, pref in rows]
