"""User accounts: creation, one-time password links, and their upkeep (used by pages, CLI and jobs)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_request_context, url_for
from sqlalchemy import delete, func, select

from marketing import audit
from marketing.clock import now
from marketing.extensions import db
from marketing.models import ROLES, PasswordResetToken, Seller, User
from marketing.security.passwords import hash_password, password_problem

RESET_LINK_LIFETIME = dt.timedelta(hours=24)


class AccountError(ValueError):
    """A user-facing reason an account operation was refused."""


def normalise_email(raw: str) -> str:
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"That email address is not valid: {exc}") from None


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, role: str, *, name: str = "", password: str | None = None,
                actor: User | None = None) -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    if find_user(email) is not None:
        raise AccountError(f"A user with email {email} already exists.")
    if password is not None and (problem := password_problem(password)):
        raise AccountError(problem)
    user = User(email=email, role=role, name=name.strip(),
                password_hash=hash_password(password) if password else None)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor=actor, target_type="user", target_id=user.id, email=email, role=role)
    return user


def set_access(user: User, role: str, seller_ids: set[int], *, actor: User) -> None:
    """The user's role and the sellers they may see, each change audited; refuses an unknown role and an admin
    removing their own admin role (someone must stay able to administer). The caller commits."""
    if role not in ROLES:
        raise AccountError("Choose a valid role.")
    if user.id == actor.id and role != "admin":
        raise AccountError("You cannot remove your own admin role.")
    wanted = db.session.scalars(select(Seller).where(Seller.id.in_(seller_ids))).all() if seller_ids else []
    before = sorted(s.id for s in user.sellers)
    if role != user.role:
        audit.record("user.role_changed", actor=actor, target_type="user", target_id=user.id, old=user.role,
                     new=role)
        user.role = role
    user.sellers = list(wanted)
    after = sorted(s.id for s in wanted)
    if before != after:
        audit.record("user.sellers_changed", actor=actor, target_type="user", target_id=user.id, old=before,
                     new=after)


def set_active(user: User, active: bool, *, actor: User) -> bool:
    """Activate or deactivate the user (which ends their sessions), audited; returns whether it changed.
    An admin cannot deactivate themself. The caller commits."""
    if user.id == actor.id and not active:
        raise AccountError("You cannot deactivate yourself.")
    if user.active == active:
        return False
    user.active = active
    user.end_sessions()
    audit.record("user.activated" if active else "user.deactivated", actor=actor, target_type="user",
                 target_id=user.id)
    return True


def set_password(user: User, password: str, *, actor: User | None = None) -> None:
    if problem := password_problem(password):
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.end_sessions()
    audit.record("user.password_changed", actor=actor or user, target_type="user", target_id=user.id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reset_link(user: User, *, actor: User | None = None) -> str:
    """A one-time link to set the password; earlier unused links for the user stop working."""
    db.session.execute(delete(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)))
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=_digest(token),
                                      expires_at=now() + RESET_LINK_LIFETIME))
    audit.record("user.reset_link_issued", actor=actor, target_type="user", target_id=user.id)
    return external_url("auth.reset_password", token=token)


def redeem_reset_token(token: str) -> PasswordResetToken | None:
    """The valid, unused token row for this link, or None (unknown, used or expired look the same)."""
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= now() or not row.user.active:
        return None
    return row


def purge_expired_reset_links() -> int:
    """Periodic: delete links that can no longer be used."""
    result = db.session.execute(delete(PasswordResetToken).where(
        (PasswordResetToken.expires_at <= now()) | PasswordResetToken.used_at.is_not(None)))
    db.session.commit()
    return result.rowcount


def external_url(endpoint: str, **values) -> str:
    """An absolute URL built on PUBLIC_URL (also outside a request: CLI, jobs, emails)."""
    base = current_app.config.get("PUBLIC_URL")
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=(base or "http://127.0.0.1:5000") + "/"):
        return url_for(endpoint, _external=True, **values)


def set_sellers(user: User, sellers, *, actor: User | None = None) -> bool:
    """Give `user` exactly these sellers (the admin page's and `marketing users assign/unassign`'s one way to
    change access), audited as `user.sellers_changed`; False when nothing changed."""
    before = sorted(s.id for s in user.sellers)
    user.sellers = sorted(set(sellers), key=lambda s: s.id)
    after = sorted(s.id for s in user.sellers)
    if before == after:
        return False
    audit.record("user.sellers_changed", actor=actor, target_type="user", target_id=user.id, old=before, new=after)
    return True
