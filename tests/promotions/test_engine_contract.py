"""The frames the feature builds, given to the real engine (`marketing.optimize.promotions`, written in parallel
and merged before this package): its answers have the spec's shape and land in suggestions, past lift and plans.
Skipped until the engine exists in the checkout; the other tests use `fake_engine`."""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest
from sqlalchemy import select

from marketing.models import PromotionPlan, Suggestion
from tests.promotions.conftest import TODAY

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
