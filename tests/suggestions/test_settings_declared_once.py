"""Each bid setting is declared once in the settings registry; the seller's form and the engine's settings
follow from that declaration."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import pytest

from marketing import settings_registry
from marketing.bids import suggest
from marketing.optimize.settings import BidSettings
from marketing.settings_registry import Group

pytestmark = pytest.mark.sqlite

BIDS = settings_registry.group(Group.BIDS)


def test_every_engine_field_names_a_field_of_the_engine_settings():
    engine = {f.name for f in fields(BidSettings)}
    declared = [d.engine_field for d in BIDS.values() if d.engine_field]
    assert set(declared) <= engine and len(declared) == len(set(declared))


def test_bid_settings_are_seller_scoped_and_shown_in_declaration_order():
    assert all(d.seller_scoped for d in BIDS.values())
    assert list(BIDS)[0] == "target_acos" and list(BIDS)[-1] == "writes_paused"


def test_the_engine_gets_each_declared_value_in_its_own_terms():
    guard = {key: d.default for key, d in BIDS.items()} | {"bid_min": Decimal("0.30"), "bid_dead_band": Decimal(7)}
    settings = suggest.engine_settings(guard, None)
    assert (settings.target_acos, settings.dead_band, settings.min_bid) == (0.30, 0.07, 0.30)
    assert settings.min_clicks_for_no_order_cut == BIDS["bid_no_order_clicks"].default
    assert settings.confidence == pytest.approx(0.95)


def test_get_many_resolves_each_key_as_get_does(db, make_seller):
    """One query for a group: the seller's override, else the app-wide value, else the default; an empty stored
    value is "none"; a key that is not seller-scoped ignores a seller row."""
    from marketing.models import SettingValue

    seller, other = make_seller("Resolving"), make_seller("Other")
    db.session.add_all([
        SettingValue(key="bid_dead_band", seller_id=None, value="8"),
        SettingValue(key="bid_dead_band", seller_id=seller.id, value="6"),
        SettingValue(key="bid_step_cap", seller_id=None, value="20"),
        SettingValue(key="bid_auto_apply_below", seller_id=seller.id, value="2"),
        SettingValue(key="bid_min", seller_id=None, value="0.20"),
        SettingValue(key="bid_min", seller_id=seller.id, value=""),
        SettingValue(key="token_expiry_warning_days", seller_id=seller.id, value="5"),
    ])
    db.session.commit()
    keys = ["bid_dead_band", "bid_step_cap", "bid_cooldown_days", "bid_auto_apply_below", "bid_min",
            "token_expiry_warning_days"]
    mine = settings_registry.get_many(keys, seller.id)
    assert mine == {"bid_dead_band": Decimal(6), "bid_step_cap": Decimal(20), "bid_cooldown_days": 3,
                    "bid_auto_apply_below": Decimal(2), "bid_min": None, "token_expiry_warning_days": 30}
    assert mine == {key: settings_registry.get(key, seller.id) for key in keys}
    theirs = settings_registry.get_many(keys, other.id)
    assert (theirs["bid_dead_band"], theirs["bid_auto_apply_below"], theirs["bid_min"]) == (8, None, Decimal("0.20"))
    assert settings_registry.get_many(keys) == {**theirs}
