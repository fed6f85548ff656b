"""Foundation-only fixtures on top of tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def audit_events(db):
    """The audit events with `action` (oldest first)."""
    from sqlalchemy import select

    from marketing.models import AuditEvent

    def get(action):
        db.session.expire_all()
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()

    return get
