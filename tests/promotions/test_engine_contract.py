"""The frames the feature builds, given to the real engine (`marketing.optimize.promotions`, written in parallel
and merged before this package): its answers have the spec's shape and land in suggestions, past lift and plans.
Skipped until the engine exists in the checkout; the other tests use `fake_engine`."""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest
from sqlalchemy import select

from marketing.models import PromotionPlan, Suggestion
from tests.promotions.conftest import TODAY, US

pytestmark = pytest.mark.skipif(importlib.util.find_spec("marketing.optimize.promotions") is None,
                                reason="the promotion engine (p-opt) is not merged yet")


@pytest.fixture
def engine():
    """The real engine (overrides the stand-in)."""
    import marketing.optimize.promotions as promotions

    return promotions


def test_the_real_engine_runs_on_the_feature_frames(db, seller, rows, make_user):
    from marketing.promotions import measuring, plans, service

    start = TODAY - dt.timedelta(days=40)
    for asin in ("B0COST", "B0OTHER"):
        rows.history(asin, days=365, during={start + dt.timedelta(days=n): (25, "16.00") for n in range(7)})
        rows.product(asin, unit_cost="5.00", price="20.00")
        rows.stock(asin, 5000, day=TODAY - dt.timedelta(days=1))
    rows.product("B0NOCOST", unit_cost=None)
    rows.history("B0NOCOST", days=365)
    rows.promotion("C-PAST", ["B0COST"], start, start + dt.timedelta(days=6))
    rows.fee()
    [past] = measuring.past(seller.id)
    assert past.outcome["measurable"] and past.outcome["incremental_units"] > 0
    run = service.run_suggestions(seller.id)
    assert run.status == "succeeded"
    assert "B0NOCOST" in service.skipped_asins(run.notice, service.ENTER_UNIT_COST)
    user = make_user("marketer@example.com", "marketer", sellers=[seller])
    for suggestion in db.session.scalars(select(Suggestion).where(Suggestion.kind == "promotion")):
        plan = plans.approve(suggestion, actor=user)
        assert plan.state == "planned" and plan.asins == [suggestion.entity_ref]
    db.session.commit()
    assert db.session.scalar(select(PromotionPlan.id).limit(1)) is not None or run.suggestions == 0


def test_the_real_engine_tells_a_seller_whose_restocks_run_dry_what_to_reorder_at(db, seller, rows):
    """200 days of FBA inventory stored as nightly syncs store it: 10 sold a day, 450 ordered below 200 units, landing
    25 days later, so every cycle runs out. No promotion is suggested; the run keeps the level to reorder at,
    (25-day lead + 3 days of safety) × 10 a day."""
    from marketing.models import InventoryDaily
    from marketing.promotions import service
    from tests.optimize.promo_data import fba_inventory

    frame = fba_inventory(10.0, days=200, lead=25, reorder=200.0, order=450.0, stock=400.0, asin="B0DRY")
    fits = frame["fulfillable"] >= 440
    frame = frame.iloc[: fits[fits].index[-1] + 1]
    days = len(frame)
    db.session.add_all(InventoryDaily(seller_id=seller.id, marketplace_id=US, asin="B0DRY",
                                      date=TODAY - dt.timedelta(days=days - 1 - k), fulfillable=int(f), inbound=int(i))
                       for k, (f, i) in enumerate(zip(frame["fulfillable"], frame["inbound"], strict=True)))
    db.session.commit()
    rows.history("B0DRY", days=120)
    rows.product("B0DRY", unit_cost="5.00", price="20.00")
    rows.fee()
    run = service.run_suggestions(seller.id)
    assert run.suggestions == 0 and run.status == "succeeded"
    [hint] = run.restock_hints
    assert (hint["asin"], hint["marketplace_id"], hint["lead_days"], hint["reorder_at"]) == ("B0DRY", US, 25.0, 280.0)
    assert 190 <= hint["reorder_units"] <= 200  # the level lies between the day before the order and its day
