"""Recording audit events from any request, job or command."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from marketing.extensions import db
from marketing.models import AuditEvent, User


def record(
    action: str,
    *,
    actor: User | None = None,
    target_type: str | None = None,
    target_id: object = None,
    seller_id: int | None = None,
    **details,
) -> AuditEvent:
    """Add an audit row to the current session (committed with the change it describes)."""
    if actor is None and has_request_context() and getattr(current_user, "is_authenticated", False):
        actor = current_user._get_current_object()
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else None,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        seller_id=seller_id,
        ip=request.remote_addr if has_request_context() else None,
        details=details,
    )
    db.session.add(event)
    return event
