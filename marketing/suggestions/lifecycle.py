"""The one place a suggestion's status changes, so every path (page, CLI, auto-apply, jobs) obeys the same rules.

    pending  → approved | rejected (or deleted: a newer run of its kind replaced it)
    approved → applied | failed | stale (the bid changed meanwhile, or a newer change replaced it)
    failed   → approved | rejected (Amazon refused or was unavailable: a person tries again, or gives up)
    applied  → undoing
    undoing  → undone | applied (undo refused or stale: the change stays)

(tests/suggestions/test_lifecycle.py checks this list against `TRANSITIONS`.)

Approving an approved suggestion is a no-op, so a double click or a resubmitted form does nothing twice.
An `approved` or `undoing` suggestion is a change in flight: decided but not yet sent. A new run proposes
nothing for its entity; where two still meet (a failed one approved again beside a newer one), the apply step
sends only one of them.

A person's decision is one conditional UPDATE (`… WHERE id = ? AND status IN (<allowed>)`): of two people
deciding at once, exactly one changes the row and writes the audit event; the other is told what happened.
A row lock alone would not do: SQLite ignores `SELECT … FOR UPDATE`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import delete, func, select, update

from marketing import audit
from marketing.clock import now
from marketing.extensions import db
from marketing.models import Suggestion, User


class Status(StrEnum):
    """A suggestion's status; the strings are what the database stores, the order is the pages' order."""

    PENDING = "pending"
    APPROVED = "approved"
    APPLIED = "applied"
    FAILED = "failed"
    STALE = "stale"
    UNDOING = "undoing"
    UNDONE = "undone"
    REJECTED = "rejected"


PENDING, APPROVED, REJECTED = Status.PENDING, Status.APPROVED, Status.REJECTED
APPLIED, FAILED, STALE, UNDOING, UNDONE = Status.APPLIED, Status.FAILED, Status.STALE, Status.UNDOING, Status.UNDONE
SYSTEM = "system"  # `decided_by` of the seller's opt-in auto-approvals

TRANSITIONS: dict[Status, set[Status]] = {
    PENDING: {APPROVED, REJECTED},
    APPROVED: {APPLIED, FAILED, STALE},
    FAILED: {APPROVED, REJECTED},  # Amazon refused or was unavailable: a person tries again or gives up
    APPLIED: {UNDOING},
    UNDOING: {UNDONE, APPLIED},
}
APPROVABLE = tuple(s for s in Status if APPROVED in TRANSITIONS.get(s, ()))  # pending, failed
REJECTABLE = tuple(s for s in Status if REJECTED in TRANSITIONS.get(s, ()))  # pending, failed
UNDOABLE = tuple(s for s in Status if UNDOING in TRANSITIONS.get(s, ()))  # applied
IN_FLIGHT = (APPROVED, UNDOING)


def can_approve(status: str) -> bool:
    """Whether a person may approve (or re-approve) a suggestion in `status`."""
    return status in APPROVABLE


def can_reject(status: str) -> bool:
    return status in REJECTABLE


def can_undo(status: str) -> bool:
    return status in UNDOABLE


def in_flight(status: str) -> bool:
    """Decided but not yet sent to Amazon: an approval or an undo waiting for the apply step."""
    return status in IN_FLIGHT


class NotAllowed(ValueError):
    """The suggestion is no longer in a state that allows this; the message is for the user."""


def move(suggestion: Suggestion, status: Status) -> None:
    """Change the status of a suggestion the apply job owns (approved or undoing: no person decides those)."""
    if status not in TRANSITIONS.get(suggestion.status, ()):
        raise NotAllowed(f"Suggestion #{suggestion.id} is {suggestion.status}; it cannot become {status}.")
    suggestion.status = status


def approve(suggestion: Suggestion, *, actor: User | None, value: Decimal | None = None) -> bool:
    """Approve at `value` (the reviewer's edit) or the proposal; False when it was already approved (by this
    request's earlier click or by someone else at the same moment: `decided_by` says who)."""
    if suggestion.status == APPROVED:
        return False
    if not can_approve(suggestion.status):
        raise NotAllowed(_no_longer_pending(suggestion))
    changed = _decide(suggestion, APPROVABLE, APPROVED, actor,
                      approved_value=value if value is not None else suggestion.proposed_value,
                      error_code=None, error_message=None)
    if not changed:
        if suggestion.status == APPROVED:
            return False
        raise NotAllowed(_no_longer_pending(suggestion))
    audit.record("suggestion.approved", actor=actor, target_type="suggestion", target_id=suggestion.id,
                 seller_id=suggestion.seller_id, kind=suggestion.kind, entity_id=suggestion.entity_ref,
                 current=str(suggestion.current_value), proposed=str(suggestion.proposed_value),
                 approved=str(suggestion.approved_value), by=suggestion.decided_by)
    return True


def reject(suggestion: Suggestion, *, actor: User | None) -> bool:
    """Reject a pending (or failed) suggestion; False when it was already rejected."""
    if suggestion.status == REJECTED:
        return False
    if not can_reject(suggestion.status):
        raise NotAllowed(_no_longer_pending(suggestion))
    if not _decide(suggestion, REJECTABLE, REJECTED, actor):
        if suggestion.status == REJECTED:
            return False
        raise NotAllowed(_no_longer_pending(suggestion))
    audit.record("suggestion.rejected", actor=actor, target_type="suggestion", target_id=suggestion.id,
                 seller_id=suggestion.seller_id, kind=suggestion.kind, entity_id=suggestion.entity_ref)
    return True


def request_undo(suggestion: Suggestion, *, actor: User | None) -> bool:
    """Queue putting the previous value back; False when an undo is already under way."""
    if suggestion.status == UNDOING:
        return False
    if not can_undo(suggestion.status) or not _change(
            suggestion, UNDOABLE, UNDOING, undo_requested_by=actor.email if actor else SYSTEM,
            error_code=None, error_message=None):
        if suggestion.status == UNDOING:
            return False
        raise NotAllowed(f"Suggestion #{suggestion.id} is {suggestion.status}; only applied changes can be undone.")
    return True


def approve_many(seller_id: int, ids: Iterable[int], *, actor: User | None) -> list[int]:
    """Approve the seller's suggestions among `ids` at their proposals (an earlier edit of a failed one stays)
    in one conditional UPDATE; the ids this call changed (the others were no longer approvable)."""
    return _decide_many(seller_id, ids, APPROVABLE, APPROVED, actor, "suggestion.approved",
                        approved_value=func.coalesce(Suggestion.approved_value, Suggestion.proposed_value),
                        error_code=None, error_message=None)


def reject_many(seller_id: int, ids: Iterable[int], *, actor: User | None) -> list[int]:
    """Reject the seller's suggestions among `ids` that are still rejectable; the ids this call changed."""
    return _decide_many(seller_id, ids, REJECTABLE, REJECTED, actor, "suggestion.rejected")


def _decide_many(seller_id: int, ids: Iterable[int], allowed: Iterable[Status], status: Status,
                 actor: User | None, action: str, **values) -> list[int]:
    """One statement for many rows, with the same condition and the same audit event per row as `_decide`
    (RETURNING: PostgreSQL, and SQLite since 3.35)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    changed = db.session.execute(
        update(Suggestion)
        .where(Suggestion.seller_id == seller_id, Suggestion.id.in_(wanted), Suggestion.status.in_(tuple(allowed)))
        .values(status=status, decided_at=now(), decided_by_id=actor.id if actor else None,
                decided_by=actor.email if actor else SYSTEM, **values)
        .returning(Suggestion.id, Suggestion.kind, Suggestion.entity_ref, Suggestion.current_value,
                   Suggestion.proposed_value, Suggestion.approved_value)
        .execution_options(synchronize_session=False)
    ).all()
    by = actor.email if actor else SYSTEM
    audit.record_many(action, [
        (row.id, {"kind": row.kind, "entity_id": row.entity_ref, **(
            {"current": str(row.current_value), "proposed": str(row.proposed_value),
             "approved": str(row.approved_value), "by": by} if status == APPROVED else {})})
        for row in changed], actor=actor, target_type="suggestion", seller_id=seller_id)
    return [row.id for row in changed]


def supersede(seller_id: int, kind: str, keep_run_id: int) -> int:
    """Delete the seller's still-pending suggestions of `kind` from older runs (the newer run replaces them: nobody
    decided them, and the run keeps how many it replaced); return how many. Deleted rather than marked: marking
    100,000 rows rewrote every index of the table (seconds for a large seller each night), and the marked rows
    piled up for nothing."""
    result = db.session.execute(_replaced(seller_id, kind, keep_run_id).execution_options(synchronize_session=False))
    return result.rowcount or 0


@contextmanager
def superseding(seller_id: int, kind: str, keep_run_id: int) -> Iterator[list[int]]:
    """`supersede`, begun before a block that computes without the database and counted after it: on PostgreSQL
    the DELETE goes out in psycopg's pipeline mode, so the server deletes (~0.3 s for a large seller's 100,000
    rows) while the caller's engine runs. The list yielded holds the count once the block has ended."""
    count: list[int] = []
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        count.append(supersede(seller_id, kind, keep_run_id))
        yield count
        return
    statement = _replaced(seller_id, kind, keep_run_id).compile(dialect=connection.dialect)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        with raw.pipeline():
            cursor.execute(str(statement), statement.params)
            yield count
        count.append(max(cursor.rowcount, 0))


def _replaced(seller_id: int, kind: str, keep_run_id: int):
    return delete(Suggestion).where(Suggestion.seller_id == seller_id, Suggestion.kind == kind,
                                    Suggestion.status == PENDING, Suggestion.run_id != keep_run_id)


def busy_entities(seller_id: int, kind: str) -> set[tuple[int, int]]:
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
        .order_by(Suggestion.id)
    ))


def _decide(suggestion: Suggestion, allowed: Iterable[Status], status: Status, actor: User | None,
            **values) -> bool:
    return _change(suggestion, allowed, status, decided_at=now(), decided_by_id=actor.id if actor else None,
                   decided_by=actor.email if actor else SYSTEM, **values)


def _change(suggestion: Suggestion, allowed: Iterable[Status], status: Status, **values) -> bool:
    """Move `suggestion` to `status` if the database still has it in one of `allowed`; True when this call
    changed it. Either way the object then holds the row as stored (the winner's decision if another won); a
    pending row a newer run deleted meanwhile is NotAllowed."""
    result = db.session.execute(
        update(Suggestion).where(Suggestion.id == suggestion.id, Suggestion.status.in_(tuple(allowed)))
        .values(status=status, **values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1 and db.session.scalar(select(Suggestion.id).where(Suggestion.id == suggestion.id)) is None:
        raise NotAllowed(REPLACED.format(id=suggestion.id))
    db.session.refresh(suggestion)
    return result.rowcount == 1


REPLACED = "Suggestion #{id} was replaced by a newer run; reload the page to see the current suggestions."


def _no_longer_pending(suggestion: Suggestion) -> str:
    by = f" by {suggestion.decided_by}" if suggestion.decided_by else ""
    return (f"Suggestion #{suggestion.id} is no longer pending (it is {suggestion.status}{by}); "
            "reload the page to see the current suggestions.")
