"""Foundation-only fixtures on top of tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def admin(make_user, login):
    """An admin, logged in on `client`."""
    user = make_user("admin@example.com", "admin")
    assert login("admin@example.com").status_code == 302
    return user


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


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """argon2id with minimal cost: the real parameters take ~0.15 s a hash, which would dominate the suite.

    The production hasher is checked on its own in test_auth.py (`PRODUCTION_HASHER`).
    """
    from argon2 import PasswordHasher

    from marketing.security import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
