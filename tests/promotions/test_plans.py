"""A plan's life on real rows: approve (as proposed or edited, within Amazon's rules), mark entered (once), cancel,
advance by date, match to the reports, measure (matched or from Sales & Traffic), audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketing.models import AuditEvent, PromotionPlan, Suggestion
from tests.promotions.conftest import TODAY


@pytest.fixture
def suggestion(db, seller, suggested):
    return db.session.scalar(select(Suggestion).where(Suggestion.seller_id == seller.id,
                                                      Suggestion.status == "pending"))


@pytest.fixture
def user(make_user, seller):
    return make_user("marketer@example.com", "marketer", sellers=[seller])


def _terms(discount="20", start=1, days=7, budget="500"):
    from marketing.promotions.plans import Terms

    first = TODAY + dt.timedelta(days=start)
    return Terms(Decimal(discount), first, first + dt.timedelta(days=days - 1),
                 None if budget is None else Decimal(budget))


def test_approving_makes_a_planned_plan_with_the_exact_values_and_steps(app, db, suggestion, user):
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    db.session.commit()
    assert (plan.state, plan.type, plan.asins, plan.discount_type) == (
        "planned", "COUPON", ["B0COST"], "PERCENT_OFF_LIST_PRICE")
    assert (plan.discount_amount, plan.budget, plan.currency_code) == (Decimal("20.00"), Decimal("500.0000"), "USD")
    assert (plan.start_date, plan.end_date) == (TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=7))
    assert plan.predicted["expected_profit"] == 12.5 and "note" not in plan.predicted
    assert suggestion.status == "approved" and suggestion.approved_value == Decimal("16.0000")
    steps = dict(plans.steps(plan))
    assert steps["3. Discount"] == "Percentage off: 20%" and steps["4. Budget"] == "500 USD"
    assert steps["5. Start date"] == "2026-03-16" and steps["6. End date"] == "2026-03-22"
    url = plans.seller_central_url(plan)
    assert url == ("https://sellercentral.amazon.com/coupons/create?asin=B0COST&discount_type=PERCENT_OFF_LIST_PRICE"
                   "&discount=20&start=2026-03-16&end=2026-03-22&budget=500")
    assert plans.approve(suggestion, actor=user).id == plan.id  # a second approval is the same plan
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_type.in_(
        ("suggestion", "promotion_plan"))).order_by(AuditEvent.id)))
    assert actions == ["suggestion.approved", "promotion_plan.created"]


def test_the_link_goes_to_the_configured_amazon_origin(make_app, db, suggestion, user):
    """As the consent URL: with AMAZON_BASE_URL (the sandbox) the create page is the sandbox's."""
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    with make_app(AMAZON_BASE_URL="http://127.0.0.1:9999").app_context():
        assert plans.seller_central_url(plan).startswith("http://127.0.0.1:9999/coupons/create?asin=B0COST&")


def test_an_edited_approval_keeps_the_edit_and_says_the_prediction_was_for_the_proposal(db, suggestion, user):
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user, terms=_terms("15", start=3, days=5, budget="250"))
    assert (plan.discount_amount, plan.budget) == (Decimal("15"), Decimal("250"))
    assert (plan.start_date, plan.end_date) == (TODAY + dt.timedelta(days=3), TODAY + dt.timedelta(days=7))
    assert "edited" in plan.predicted["note"] and suggestion.approved_value == Decimal("17.0000")


@pytest.mark.parametrize(("terms", "message"), [
    (dict(discount="4"), "A coupon's discount must be from 5% to 50% of the price; 4% is not."),
    (dict(discount="50.5"), "A coupon's discount must be from 5% to 50% of the price; 50.5% is not."),
    (dict(start=0), "A coupon can start on 2026-03-16 at the earliest; 2026-03-15 is too early."),
    (dict(days=91), "A coupon runs at most 90 days; shorten the dates."),
    (dict(budget=None), "A coupon needs a budget above 0."),
])
def test_edits_outside_amazons_rules_are_refused_with_a_clear_message(db, suggestion, user, terms, message):
    from marketing.promotions import plans

    with pytest.raises(plans.PlanError) as caught:
        plans.approve(suggestion, actor=user, terms=_terms(**terms))
    assert str(caught.value) == message
    db.session.rollback()
    assert db.session.get(Suggestion, suggestion.id).status == "pending"
    assert db.session.scalar(select(PromotionPlan.id)) is None


def test_a_plan_overlapping_another_of_the_asin_is_refused(db, seller, rows, suggestion, user):
    from marketing.promotions import plans

    rows.promotion("C-LATER", ["B0COST"], TODAY + dt.timedelta(days=5), TODAY + dt.timedelta(days=9))
    with pytest.raises(plans.PlanError, match="B0COST already has a promotion or plan from 2026-03-20 to "
                                               "2026-03-24; choose dates that do not overlap it."):
        plans.approve(suggestion, actor=user)


def test_rejecting_and_a_non_promotion_suggestion(db, seller, suggestion, user):
    from marketing.promotions import plans

    assert plans.reject(suggestion, actor=user) is True
    assert suggestion.status == "rejected"
    from marketing.suggestions import lifecycle

    with pytest.raises(lifecycle.NotAllowed):
        plans.approve(suggestion, actor=user)


def test_marking_entered_applies_the_suggestion_and_twice_is_a_clear_error(db, suggestion, user):
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    plans.mark_entered(plan, actor=user, amazon_id="COUPON-1")
    db.session.commit()
    assert (plan.state, plan.amazon_id, plan.entered_by) == ("entered", "COUPON-1", user.email)
    assert suggestion.status == "applied" and suggestion.applied_at is not None
    with pytest.raises(plans.PlanError, match=rf"Plan #{plan.id} was already marked entered by marketer@example.com"):
        plans.mark_entered(plan, actor=user)


def test_plans_advance_by_date_expire_and_cancel(db, suggestion, user):
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    plans.follow(plan.seller_id, TODAY + dt.timedelta(days=1))
    assert plan.state == "planned"  # still enterable on its start day
    plans.follow(plan.seller_id, TODAY + dt.timedelta(days=2))
    assert plan.state == "expired" and "Not marked entered" in plan.notice
    with pytest.raises(plans.PlanError, match="only a planned promotion can be marked entered"):
        plans.mark_entered(plan, actor=user)
    with pytest.raises(plans.PlanError, match="can no longer be cancelled"):
        plans.cancel(plan, actor=user)


def test_an_entered_plan_runs_finishes_is_matched_by_asins_and_start_and_measured(db, seller, rows, suggestion,
                                                                                    user):
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    plans.mark_entered(plan, actor=user)
    start = plan.start_date
    plans.follow(seller.id, start)
    assert plan.state == "running"
    # Amazon reports it starting a day late, with its own id: 6 days at 30 units instead of 10.
    late = start + dt.timedelta(days=1)
    rows.promotion("AMZ-77", ["B0COST"], late, plan.end_date)
    rows.history("B0COST", days=9, until=plan.end_date + dt.timedelta(days=1),
                 during={late + dt.timedelta(days=n): (30, "16.00") for n in range(6)})
    day = plan.end_date + dt.timedelta(days=2)
    counts = plans.follow(seller.id, day)
    assert counts == {"matched": 1, "measured": 1}
    assert (plan.state, plan.amazon_id, plan.measured_from, plan.notice) == ("finished", "AMZ-77", "report", None)
    assert plan.actual["incremental_units"] == 120.0
    plans.follow(seller.id, plan.end_date + dt.timedelta(days=29))
    # The history (its own job chain after the sync) stops the day after its end: not final over days not stored.
    assert plan.state == "finished"
    rows.history("B0COST", days=27, until=plan.end_date + dt.timedelta(days=28))
    plans.follow(seller.id, plan.end_date + dt.timedelta(days=29))
    assert plan.state == "measured"


def test_a_plan_whose_history_never_arrives_is_measured_on_what_there_is_and_says_so(db, seller, rows, suggestion,
                                                                                     user):
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    plans.mark_entered(plan, actor=user)
    rows.promotion("AMZ-9", ["B0COST"], plan.start_date, plan.end_date)
    rows.history("B0COST", days=9, until=plan.end_date + dt.timedelta(days=1))  # then Amazon sends no more
    last_wait = plan.end_date + dt.timedelta(days=28 + plans.HISTORY_GRACE_DAYS)
    plans.follow(seller.id, last_wait)
    assert plan.state == "finished" and plan.notice is None
    plans.follow(seller.id, last_wait + dt.timedelta(days=1))
    assert plan.state == "measured" and plan.actual is not None
    stops = (plan.end_date + dt.timedelta(days=1)).isoformat()
    assert f"Amazon's sales history stops at {stops}, not {(plan.end_date + dt.timedelta(days=28)).isoformat()}" \
        in plan.notice


def test_an_unmatched_plan_is_measured_from_sales_and_traffic_and_says_so(db, seller, rows, suggestion, user):
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    plans.mark_entered(plan, actor=user, amazon_id="NEVER-REPORTED")
    plans.follow(seller.id, plan.end_date + dt.timedelta(days=1))
    assert plan.state == "finished" and plan.measured_from == "sales_traffic" and plan.promotion_id is None
    assert "measured from Sales & Traffic over the plan's own dates" in plan.notice
    assert plan.actual is not None


def test_matching_by_amazon_id_wins_over_dates(db, seller, rows, suggestion, user):
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    plans.mark_entered(plan, actor=user, amazon_id="AMZ-1")
    rows.promotion("OTHER", ["B0COST"], plan.start_date, plan.end_date)
    by_id = rows.promotion("AMZ-1", ["B0COST"], plan.start_date + dt.timedelta(days=10),
                           plan.end_date + dt.timedelta(days=10))
    assert plans.match(plan).id == by_id.id


def test_after_sync_is_in_the_explicit_list():
    from marketing.sync import outcome

    assert outcome.AFTER_SYNC["promotion-plans"] == "marketing.promotions.plans.after_sync"
    assert outcome.AFTER_SYNC["promotion-suggestions"] == "marketing.promotions.service.after_sync"


def test_the_after_sync_job_follows_the_plans_on_the_queue(db, seller, suggestion, user, queue):
    """As a sync ends (`outcome.enqueue_after`): the job advances the plans by date and commits."""
    from marketing import jobs
    from marketing.clock import set_today
    from marketing.promotions import plans

    plan = plans.approve(suggestion, actor=user)
    db.session.commit()
    plan_id, seller_id = plan.id, seller.id
    set_today(plan.start_date + dt.timedelta(days=1))  # never marked entered by its start
    jobs.enqueue("default", "marketing.promotions.plans.after_sync", seller_id, 1, job_id="after-sync-probe")
    queue.work("default")
    assert db.session.get(PromotionPlan, plan_id).state == "expired"
