"""A campaign's own target ACoS and objective (what the bid engine aims for there instead of the seller's
settings): read, and changed with an audit event per value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marketing import audit, settings_registry
from marketing.extensions import db
from marketing.models import CampaignSettings, Seller, User


@dataclass(frozen=True)
class Own:
    """The campaign's own values; None where it follows the seller's setting."""

    target_acos: Decimal | None = None
    objective: str | None = None


def percent_text(value: Decimal | None) -> str:
    """A stored percent as typed ("12.5", not "12.5000"); empty for none (the audit log's convention)."""
    return "" if value is None else format(value.normalize(), "f")


def parse_target_acos(raw: str) -> Decimal | None:
    """A typed target ACoS, by the seller setting's own rules (bounds, decimals); None for a blank.
    Raises settings_registry.SettingError with a message for the user."""
    return settings_registry.DEFINITIONS["target_acos"].parse(raw) if (raw or "").strip() else None


def parse_objective(raw: str) -> str | None:
    """One of the `bid_objective` setting's choices, or None (blank: the seller's)."""
    return settings_registry.DEFINITIONS["bid_objective"].parse(raw) if (raw or "").strip() else None


def _key(seller: Seller, profile_id: int, campaign_id: int) -> dict:
    return {"seller_id": seller.id, "profile_id": profile_id, "campaign_id": campaign_id}


def own(seller: Seller, profile_id: int, campaign_id: int) -> Own:
    row = db.session.get(CampaignSettings, _key(seller, profile_id, campaign_id))
    return Own() if row is None else Own(row.target_acos, row.objective)


def set_own(seller: Seller, profile_id: int, campaign_id: int, new: Own, actor: User) -> bool:
    """Set the campaign's own values (None: back to the seller's); audits each real change and returns whether
    there was one. A campaign left with nothing of its own has no row. The caller commits."""
    key = _key(seller, profile_id, campaign_id)
    row = db.session.get(CampaignSettings, key)
    old = own(seller, profile_id, campaign_id)
    if new == old:
        return False
    if row is None:
        row = CampaignSettings(**key)
        db.session.add(row)
    row.target_acos, row.objective, row.updated_by_id = new.target_acos, new.objective, actor.id
    if new == Own():
        db.session.delete(row)
    for name, action, text in (("target_acos", "campaign.target_acos_changed", percent_text),
                               ("objective", "campaign.objective_changed", lambda v: v or "")):
        if getattr(new, name) != getattr(old, name):
            audit.record(action, actor=actor, target_type="campaign", target_id=str(campaign_id),
                         seller_id=seller.id, profile_id=profile_id, old=text(getattr(old, name)),
                         new=text(getattr(new, name)))
    return True
