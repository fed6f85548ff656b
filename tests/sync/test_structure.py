"""Structure rows from Amazon's v3 entities: ids become integers once, inherited bids stay NULL, archived
entities are kept, and upserting the same listing twice changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from marketing.amazon.errors import MalformedResponse
from marketing.models import SpTarget
from marketing.sync import structure

pytestmark = pytest.mark.sqlite

CAMPAIGN = {"campaignId": "123456789012", "name": "Tents", "state": "ENABLED", "targetingType": "MANUAL",
            "startDate": "2026-01-02", "budget": {"budget": 25.5, "budgetType": "DAILY"},
            "dynamicBidding": {"strategy": "LEGACY_FOR_SALES",
                               "placementBidding": [{"placement": "PLACEMENT_TOP", "percentage": 50}]}}
KEYWORD = {"keywordId": "9000000000001", "adGroupId": "77", "campaignId": "123456789012", "keywordText": "tent",
           "matchType": "EXACT", "state": "ARCHIVED"}
TARGET = {"targetId": "9000000000002", "adGroupId": "77", "campaignId": "123456789012", "state": "ENABLED",
          "bid": 0.45, "expressionType": "MANUAL", "expression": [{"type": "ASIN_SAME_AS", "value": "B0TENT0001"}]}


def test_campaigns_keep_budget_strategy_and_placements():
    row = structure.campaign_row(CAMPAIGN)
    assert row["campaign_id"] == 123456789012
    assert row["budget"] == Decimal("25.5") and row["bidding_strategy"] == "LEGACY_FOR_SALES"
    assert row["placement_adjustments"] == {"PLACEMENT_TOP": 50}
    assert row["end_date"] is None


def test_a_keyword_without_a_bid_inherits_and_targets_render_their_expression():
    keyword = structure.keyword_row(KEYWORD)
    assert (keyword["kind"], keyword["bid"], keyword["state"]) == ("keyword", None, "ARCHIVED")
    target = structure.target_row(TARGET)
    assert target["kind"] == "target" and target["bid"] == Decimal("0.45")
    assert target["text"] == 'asinSameAs="B0TENT0001"'
    assert structure.expression_text([{"type": "QUERY_HIGH_REL_MATCHES"}]) == "queryHighRelMatches"


def test_an_unreadable_entity_is_a_malformed_response():
    with pytest.raises(MalformedResponse, match="keywords"):
        list(structure._rows([{"keywordId": "x"}], structure.keyword_row, "keywords"))


def test_upserting_twice_updates_in_place(app, db, make_seller):
    seller = make_seller()

    class Client:
        bid = 0.45

        def iter_entities(self, profile_id, kind, state_filter=None):
            assert set(state_filter) == {"ENABLED", "PAUSED", "ARCHIVED"}
            return {"keywords": [KEYWORD], "targets": [{**TARGET, "bid": self.bid}]}.get(kind, [])

    client = Client()
    assert structure.sync_profile(db.session, client, profile_id=1, seller_id=seller.id) == 2
    client.bid = 0.6
    assert structure.sync_profile(db.session, client, profile_id=1, seller_id=seller.id) == 2
    db.session.commit()
    rows = {t.target_id: t.bid for t in db.session.scalars(select(SpTarget))}
    assert rows == {9000000000001: None, 9000000000002: Decimal("0.6")}
