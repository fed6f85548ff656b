"""Two people deciding one suggestion at the same moment, each with their own database session (as two
requests or two workers would): one change, one audit event, and the other is told who decided."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketing.models import AuditEvent, Suggestion, SuggestionRun, User
from marketing.models.suggestions import Kind
from marketing.suggestions import lifecycle

pytestmark = pytest.mark.sqlite


@pytest.fixture
def pending(db, make_seller):
    """One pending bid suggestion (no Amazon needed: nothing is sent)."""
    seller = make_seller()
    run = SuggestionRun(seller_id=seller.id, kind=Kind.BID, status="succeeded")
    db.session.add(run)
    db.session.flush()
    suggestion = Suggestion(
        seller_id=seller.id, run_id=run.id, kind=Kind.BID, profile_id=1, entity_kind="keyword", entity_id=7,
        entity_ref="7", marketplace="ATVPDKIKX0DER", current_value=Decimal("1.00"), proposed_value=Decimal("1.10"),
        direction="up", status=lifecycle.PENDING, reason="below_target_acos", explanation="", inputs={})
    db.session.add(suggestion)
    db.session.commit()
    return suggestion


def _race(app, db, suggestion_id: int, seller_id: int, emails: list[str], decide) -> list:
    """Each email's user loads the suggestion in its own thread and session, then all decide at once."""
    ready = threading.Barrier(len(emails))
    outcomes: list = [None] * len(emails)

    def person(index: int, email: str) -> None:
        with app.app_context():
            try:
                user = db.session.scalar(select(User).where(User.email == email))
                [suggestion] = lifecycle.for_seller(seller_id, [suggestion_id])
                assert suggestion.status == lifecycle.PENDING  # both saw it pending
                ready.wait(timeout=10)
                outcomes[index] = decide(suggestion, user)
                db.session.commit()
            except lifecycle.NotAllowed as exc:
                db.session.rollback()
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=person, args=(i, e)) for i, e in enumerate(emails)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _events(db, action: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_two_concurrent_approvals_make_one_change_and_one_audit_event(app, db, make_user, pending):
    emails = ["ann@example.com", "bob@example.com"]
    for email in emails:
        make_user(email, "marketer")
    outcomes = _race(app, db, pending.id, pending.seller_id, emails,
                     lambda s, user: (lifecycle.approve(s, actor=user, value=None), s.decided_by))
    assert sorted(changed for changed, _ in outcomes) == [False, True]
    winner = next(by for changed, by in outcomes if changed)
    assert all(by == winner for _, by in outcomes)  # the loser learns who approved it
    assert _events(db, "suggestion.approved") == 1
    db.session.expire_all()
    row = db.session.get(Suggestion, pending.id)
    assert (row.status, row.decided_by) == (lifecycle.APPROVED, winner)


def test_an_approval_racing_a_rejection_leaves_one_decision(app, db, make_user, pending):
    emails = ["ann@example.com", "bob@example.com"]
    for email in emails:
        make_user(email, "marketer")

    def decide(suggestion, user):
        if user.email == "ann@example.com":
            return lifecycle.approve(suggestion, actor=user)
        return lifecycle.reject(suggestion, actor=user)

    outcomes = _race(app, db, pending.id, pending.seller_id, emails, decide)
    refused = [o for o in outcomes if isinstance(o, lifecycle.NotAllowed)]
    assert len(refused) == 1 and outcomes.count(True) == 1
    db.session.expire_all()
    row = db.session.get(Suggestion, pending.id)
    assert f"no longer pending (it is {row.status} by {row.decided_by})" in str(refused[0])
    assert _events(db, "suggestion.approved") + _events(db, "suggestion.rejected") == 1
