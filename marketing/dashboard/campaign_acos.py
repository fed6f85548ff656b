"""A campaign's own target ACoS (what the bid engine aims for there instead of the seller's setting): read,
and changed with an audit event."""

from __future__ import annotations

from decimal import Decimal

from marketing import audit, settings_registry
from marketing.extensions import db
from marketing.models import CampaignTargetAcos, Seller, User


def percent_text(value: Decimal | None) -> str:
    """A stored percent as typed ("12.5", not "12.5000"); empty for none (the audit log's convention)."""
    return "" if value is None else format(value.normalize(), "f")


def parse(raw: str) -> Decimal | None:
    """A typed target ACoS, by the seller setting's own rules (bounds, decimals); None for a blank.
    Raises settings_registry.SettingError with a message for the user."""
    return settings_registry.DEFINITIONS["target_acos"].parse(raw) if (raw or "").strip() else None


def _key(seller: Seller, profile_id: int, campaign_id: int) -> dict:
    return {"seller_id": seller.id, "profile_id": profile_id, "campaign_id": campaign_id}


def own_target(seller: Seller, profile_id: int, campaign_id: int) -> Decimal | None:
    row = db.session.get(CampaignTargetAcos, _key(seller, profile_id, campaign_id))
    return None if row is None else row.target_acos


def set_target(seller: Seller, profile_id: int, campaign_id: int, new: Decimal | None, actor: User) -> bool:
    """Set (None: clear, back to the seller's setting) the campaign's target ACoS; audits a real change and
    returns whether there was one. The caller commits."""
    key = _key(seller, profile_id, campaign_id)
    row = db.session.get(CampaignTargetAcos, key)
    old = row.target_acos if row is not None else None
    if new == old:
        return False
    if new is None:
        db.session.delete(row)
    elif row is None:
        db.session.add(CampaignTargetAcos(**key, target_acos=new, updated_by_id=actor.id))
    else:
        row.target_acos, row.updated_by_id = new, actor.id
    audit.record("campaign.target_acos_changed", actor=actor, target_type="campaign", target_id=str(campaign_id),
                 seller_id=seller.id, profile_id=profile_id, old=percent_text(old), new=percent_text(new))
    return True
