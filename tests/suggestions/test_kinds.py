"""A suggestion of another kind (a promotion: an ASIN in a marketplace, no Ads id) lives beside bid suggestions,
and the bid commands leave it alone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from marketing.models import AuditEvent, Suggestion, SuggestionRun
from marketing.models.suggestions import Kind
from marketing.suggestions import lifecycle

pytestmark = pytest.mark.sqlite


@pytest.fixture
def rows(db, make_seller, make_user):
    seller = make_seller()
    make_user("marketer@example.com", "marketer", sellers=[seller])
    run = SuggestionRun(seller_id=seller.id, kind=Kind.BID, status="succeeded")
    db.session.add(run)
    db.session.flush()
    common = dict(seller_id=seller.id, run_id=run.id, status=lifecycle.PENDING, reason="r", explanation="",
                  inputs={}, direction="up")
    bid = Suggestion(kind=Kind.BID, profile_id=1, entity_kind="keyword", entity_id=7, entity_ref="7",
                     marketplace="ATVPDKIKX0DER", current_value=Decimal("1.00"), proposed_value=Decimal("1.10"),
                     **common)
    promotion = Suggestion(kind="promotion", entity_kind="asin", entity_ref="B000TEST01", marketplace="A1PA6795UKMFR9",
                           current_value=Decimal("0"), proposed_value=Decimal("15"),
                           payload={"discount_type": "percent", "starts": "2026-12-10"}, **common)
    db.session.add_all([bid, promotion])
    db.session.commit()
    return seller, bid, promotion


def test_a_promotion_needs_no_ads_ids_and_keeps_its_payload(db, rows):
    _, _, promotion = rows
    db.session.expire_all()
    stored = db.session.get(Suggestion, promotion.id)
    assert (stored.profile_id, stored.entity_id, stored.entity_ref) == (None, None, "B000TEST01")
    assert stored.payload == {"discount_type": "percent", "starts": "2026-12-10"}


def test_bids_approve_all_approves_bid_suggestions_only(runner, db, rows):
    seller, bid, promotion = rows
    result = runner.invoke(["bids", "approve", seller.name, "--all", "--as", "marketer@example.com"])
    assert (result.exit_code, result.output) == (0, "1 approved\n")
    db.session.expire_all()
    assert db.session.get(Suggestion, bid.id).status == lifecycle.APPROVED
    assert db.session.get(Suggestion, promotion.id).status == lifecycle.PENDING
    targets = db.session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "suggestion.approved")).all()
    assert targets == [str(bid.id)]


def test_bids_approve_refuses_another_kinds_id(runner, db, rows):
    seller, _, promotion = rows
    result = runner.invoke(["bids", "approve", seller.name, "--id", str(promotion.id), "--as", "marketer@example.com"])
    assert result.exit_code == 2
    assert f"has no bid suggestion {promotion.id}" in result.output
