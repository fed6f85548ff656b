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
