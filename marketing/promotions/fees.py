"""Promotion fees per marketplace and type with the date each applies from (admins edit them; the migration
seeded the US fees from the guide). A new row for a later date is how a fee change is recorded: older
promotions keep the fee that was in force on their start."""

from __future__ import annotations

from sqlalchemy import select

from marketing import audit
from marketing.amazon.hosts import marketplace
from marketing.extensions import db
from marketing.models import PromotionFee, User


def all_rows() -> list[PromotionFee]:
    return list(db.session.scalars(select(PromotionFee).order_by(
        PromotionFee.marketplace_id, PromotionFee.type, PromotionFee.effective_from.desc())))


def save(values: dict, *, actor: User | None) -> tuple[PromotionFee, bool]:
    """Add the row, or change the one with the same marketplace, type and date; (row, created)."""
    row = db.session.scalar(select(PromotionFee).where(
        PromotionFee.marketplace_id == values["marketplace_id"], PromotionFee.type == values["type"],
        PromotionFee.effective_from == values["effective_from"]))
    created = row is None
    if created:
        row = PromotionFee(currency_code=marketplace(values["marketplace_id"]).currency)
        db.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    audit.record("promotion_fee.saved", actor=actor, target_type="promotion_fee", target_id=row.id,
                 created=created, **{k: str(v) if v is not None else None for k, v in values.items()})
    return row, created


def delete(fee_id: int, *, actor: User | None) -> bool:
    row = db.session.get(PromotionFee, fee_id)
    if row is None:
        return False
    audit.record("promotion_fee.deleted", actor=actor, target_type="promotion_fee", target_id=row.id,
                 marketplace=row.marketplace_id, type=row.type, effective_from=row.effective_from.isoformat())
    db.session.delete(row)
    return True
