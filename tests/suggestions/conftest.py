"""Fixtures for the review page's tests: a seller and its suggestions made in bulk, without the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import insert

from marketing.models import SpCampaign, Suggestion, SuggestionRun
from marketing.suggestions import lifecycle

US, DE = "ATVPDKIKX0DER", "A1PA6795UKMFR9"


@pytest.fixture
def seller(make_seller):
    return make_seller("Big Agency Client")


@pytest.fixture
def marketer(make_user, login, seller):
    user = make_user("marketer@example.com", "marketer", sellers=[seller])
    login(user.email)
    return user


@pytest.fixture
def fill(db, seller):
    """`fill(n, **overrides)`: n pending bid suggestions inserted in one statement; the i-th has a change of
    (i % 50 + 1) percent, reason "r<i % 3>", campaign 100 + i % 4, and spend/sales deltas of 0.10 and 0.30."""
    run = SuggestionRun(seller_id=seller.id, kind="bid", status="succeeded")
    db.session.add(run)
    db.session.flush()
    for campaign in range(100, 104):
        db.session.add(SpCampaign(seller_id=seller.id, profile_id=1, campaign_id=campaign,
                                  name=f"Campaign {campaign}", state="ENABLED", targeting_type="MANUAL"))
    db.session.commit()
    made = {"n": 0}

    def fill(n, **overrides):
        start = made["n"]
        rows = []
        for i in range(start, start + n):
            current = Decimal("1.00")
            proposed = current * (1 + Decimal(i % 50 + 1) / 100)
            rows.append({
                "seller_id": seller.id, "run_id": run.id, "kind": "bid", "entity_kind": "keyword",
                "entity_ref": str(10_000 + i), "entity_id": 10_000 + i, "profile_id": 1, "marketplace": US,
                "campaign_id": 100 + i % 4, "ad_group_id": 1, "label": f"keyword {i}", "payload": {},
                "current_value": current, "proposed_value": proposed, "direction": "up",
                "status": lifecycle.PENDING, "reason": f"r{i % 3}", "explanation": f"Because {i}.",
                "inputs": {"clicks": i}, "expected_spend_delta": Decimal("0.10"),
                "expected_sales_delta": Decimal("0.30"), **overrides,
            })
        db.session.execute(insert(Suggestion), rows)
        db.session.commit()
        made["n"] += n
        return [r["entity_id"] for r in rows]

    return fill
