"""Recording audit events from any request, job or command."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert

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


def record_many(action: str, events: list[tuple[object, dict]], *, actor: User | None = None,
                target_type: str | None = None, seller_id: int | None = None) -> None:
    """One audit row per (target id, details), as `record` would write each, in one INSERT (bulk decisions:
    thousands of rows at a time)."""
    if not events:
        return
    if actor is None and has_request_context() and getattr(current_user, "is_authenticated", False):
        actor = current_user._get_current_object()
    common = {"actor_id": actor.id if actor else None, "actor_email": actor.email if actor else None,
              "action": action, "target_type": target_type, "seller_id": seller_id,
              "ip": request.remote_addr if has_request_context() else None}
    db.session.execute(insert(AuditEvent), [
        {**common, "target_id": None if target_id is None else str(target_id), "details": details}
        for target_id, details in events])
