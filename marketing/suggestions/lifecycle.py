"""The one place a suggestion's status changes, so every path (page, CLI, auto-apply, jobs) obeys the same rules.

    pending ──► approved ──► applied ──► undoing ──► undone
       │           │  ▲                     │
       │           ▼  │ (approve again)     └──► applied (undo refused or stale: the change stays)
       │        failed / stale
       └──► rejected | superseded (a newer run replaced it)

Approving an approved suggestion is a no-op, so a double click or a resubmitted form does nothing twice.
An `approved` or `undoing` suggestion is a change in flight: decided but not yet sent. A new run proposes
nothing for its entity; where two still meet (a failed one approved again beside a newer one), the apply step
sends only one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select, update

from marketing import audit
from marketing.clock import now
from marketing.extensions import db
from marketing.models import Suggestion, User

PENDING, APPROVED, REJECTED, SUPERSEDED = "pending", "approved", "rejected", "superseded"
APPLIED, FAILED, STALE, UNDOING, UNDONE = "applied", "failed", "stale", "undoing", "undone"
STATUSES = (PENDING, APPROVED, REJECTED, SUPERSEDED, APPLIED, FAILED, STALE, UNDOING, UNDONE)
IN_FLIGHT = (APPROVED, UNDOING)
SYSTEM = "system"  # `decided_by` of the seller's opt-in auto-approvals

TRANSITIONS = {
    PENDING: {APPROVED, REJECTED, SUPERSEDED},
    APPROVED: {APPLIED, FAILED, STALE},
    FAILED: {APPROVED},  # Amazon refused or was unavailable: a person may try again
    APPLIED: {UNDOING},
    UNDOING: {UNDONE, APPLIED},
}


class NotAllowed(ValueError):
    """The suggestion is no longer in a state that allows this; the message is for the user."""


def move(suggestion: Suggestion, status: str) -> None:
    if status not in TRANSITIONS.get(suggestion.status, ()):
        raise NotAllowed(f"Suggestion #{suggestion.id} is {suggestion.status}; it cannot become {status}.")
    suggestion.status = status


def approve(suggestion: Suggestion, *, actor: User | None, value: Decimal | None = None) -> bool:
    """Approve at `value` (the reviewer's edit) or the proposal; False when it was already approved."""
    if suggestion.status == APPROVED:
        return False
    if suggestion.status not in (PENDING, FAILED):
        raise NotAllowed(f"Suggestion #{suggestion.id} is no longer pending (it is {suggestion.status}); "
                         "reload the page to see the current suggestions.")
    move(suggestion, APPROVED)
    suggestion.approved_value = value if value is not None else suggestion.proposed_value
    suggestion.error_code = suggestion.error_message = None
    _decided(suggestion, actor)
    audit.record("suggestion.approved", actor=actor, target_type="suggestion", target_id=suggestion.id,
                 seller_id=suggestion.seller_id, kind=suggestion.kind, entity_id=str(suggestion.entity_id),
                 current=str(suggestion.current_value), proposed=str(suggestion.proposed_value),
                 approved=str(suggestion.approved_value), by=suggestion.decided_by)
    return True


def reject(suggestion: Suggestion, *, actor: User | None) -> bool:
    """Reject a pending suggestion; False when it was already rejected."""
    if suggestion.status == REJECTED:
        return False
    if suggestion.status != PENDING:
        raise NotAllowed(f"Suggestion #{suggestion.id} is no longer pending (it is {suggestion.status}); "
                         "reload the page to see the current suggestions.")
    move(suggestion, REJECTED)
    _decided(suggestion, actor)
    audit.record("suggestion.rejected", actor=actor, target_type="suggestion", target_id=suggestion.id,
                 seller_id=suggestion.seller_id, kind=suggestion.kind, entity_id=str(suggestion.entity_id))
    return True


def request_undo(suggestion: Suggestion, *, actor: User | None) -> bool:
    """Queue putting the previous value back; False when an undo is already under way."""
    if suggestion.status == UNDOING:
        return False
    if suggestion.status != APPLIED:
        raise NotAllowed(f"Suggestion #{suggestion.id} is {suggestion.status}; only applied changes can be undone.")
    move(suggestion, UNDOING)
    suggestion.undo_requested_by = actor.email if actor else SYSTEM
    suggestion.error_code = suggestion.error_message = None
    return True


def supersede(seller_id: int, kind: str, keep_run_id: int) -> int:
    """Mark the seller's still-pending suggestions of `kind` from older runs superseded; return how many."""
    result = db.session.execute(
        update(Suggestion)
        .where(Suggestion.seller_id == seller_id, Suggestion.kind == kind, Suggestion.status == PENDING,
               Suggestion.run_id != keep_run_id)
        .values(status=SUPERSEDED)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def in_flight(seller_id: int, kind: str) -> set[tuple[int, int]]:
    """(profile_id, entity_id) of the seller's entities with a change of `kind` decided but not yet sent."""
    return {(int(p), int(e)) for p, e in db.session.execute(
        select(Suggestion.profile_id, Suggestion.entity_id)
        .where(Suggestion.seller_id == seller_id, Suggestion.kind == kind, Suggestion.status.in_(IN_FLIGHT))
    )}


def for_seller(seller_id: int, ids: Iterable[int]) -> list[Suggestion]:
    """The seller's suggestions among `ids` (ids of other sellers are ignored, never revealed)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    return list(db.session.scalars(
        select(Suggestion).where(Suggestion.seller_id == seller_id, Suggestion.id.in_(wanted))
        .order_by(Suggestion.id).with_for_update()
    ))


def _decided(suggestion: Suggestion, actor: User | None) -> None:
    suggestion.decided_at = now()
    suggestion.decided_by_id = actor.id if actor else None
    suggestion.decided_by = actor.email if actor else SYSTEM
