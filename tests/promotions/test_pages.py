"""The Promotions pages: what they show, approving (as proposed, edited, refused), the plan page and its CSV,
viewers read-only, other tenants 404, the missing SP-API connection, the admin fee table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from marketing.models import AuditEvent, PromotionFee, PromotionPlan, Suggestion
from tests.promotions.conftest import TODAY


def _pending(db, seller):
    return db.session.scalar(select(Suggestion).where(Suggestion.seller_id == seller.id,
                                                      Suggestion.status == "pending"))


@pytest.fixture
def history_with_past(rows, seller):
    start = TODAY - dt.timedelta(days=20)
    rows.history("B0COST", during={start + dt.timedelta(days=n): (20, "16.00") for n in range(7)})
    rows.product("B0COST")
    rows.history("B0NOCOST")
    rows.product("B0NOCOST", unit_cost=None)
    rows.promotion("C-PAST", ["B0COST"], start, start + dt.timedelta(days=6))
    rows.stock("B0COST", 300, day=TODAY - dt.timedelta(days=1))


@pytest.mark.sqlite
def test_the_page_shows_past_lift_timeline_suggestions_and_the_missing_connection(
        client, db, seller, marketer, history_with_past):
    from marketing.promotions import service

    service.run_suggestions(seller.id)
    html = client.get(f"/sellers/{seller.id}/promotions").get_data(as_text=True)
    assert 'data-promotion="C-PAST"' in html and "70 <small" in html  # measured incremental units
    assert 'class="token-strip"' in html
    assert "data-needs-sp" in html and "Connect Seller Central (SP-API)" in html
    assert 'id="promotion-timeline"' in html and "plotly-figure" in html
    assert "Stock cover: <strong data-cover>" in html and "days</strong>" in html
    assert 'data-asin="B0COST"' in html and "20% coupon on B0COST" in html
    assert 'name="discount" size="6" value="20"' in html and 'name="budget" size="8" value="500"' in html
    assert "data-enter-unit-cost" in html and "No suggestion for B0NOCOST" in html


def test_past_promotions_download_as_csv_and_sort(client, seller, marketer, history_with_past, rows):
    rows.promotion("C-OLDER", ["B0COST"], TODAY - dt.timedelta(days=60), TODAY - dt.timedelta(days=55),
                   discount="10")
    response = client.get(f"/sellers/{seller.id}/promotions?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0][:8] == ["id", "type", "start", "end", "asins", "incremental_units", "incremental_profit",
                            "currency"]
    assert [r[0] for r in table[1:]] == ["C-PAST", "C-OLDER"]
    ascending = client.get(f"/sellers/{seller.id}/promotions?sort=start&dir=asc").get_data(as_text=True)
    assert ascending.index('data-promotion="C-OLDER"') < ascending.index('data-promotion="C-PAST"')


def test_an_unknown_asin_on_the_timeline_is_a_clear_404(client, seller, marketer, history_with_past):
    response = client.get(f"/sellers/{seller.id}/promotions?asin=B0UNKNOWN")
    assert response.status_code == 404
    assert "No sales history for ASIN B0UNKNOWN" in response.get_data(as_text=True)


def test_approve_edited_then_plan_page_link_csv_and_mark_entered(client, db, seller, marketer, suggested):
    suggestion = _pending(db, seller)
    start, end = TODAY + dt.timedelta(days=2), TODAY + dt.timedelta(days=6)
    response = client.post(f"/sellers/{seller.id}/promotions/suggestions/{suggestion.id}/approve",
                           data={"discount": "15", "start": start.isoformat(), "end": end.isoformat(),
                                 "budget": "300"})
    assert response.status_code == 303
    plan = db.session.scalar(select(PromotionPlan))
    assert response.location.endswith(f"/promotions/plans/{plan.id}")
    assert (str(plan.discount_amount), plan.start_date, plan.end_date) == ("15.0000", start, end)
    page = client.get(response.location).get_data(as_text=True)
    assert "https://sellercentral.amazon.com/coupons/create?asin=B0COST&amp;discount_type=PERCENT_OFF_LIST_PRICE" \
           "&amp;discount=15&amp;start=2026-03-17&amp;end=2026-03-21&amp;budget=300" in page
    assert "Percentage off: 15%" in page and "Mark entered" in page
    steps = client.get(f"{response.location}?format=csv")
    assert steps.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(steps.get_data(as_text=True))))
    assert rows[0] == ["step", "value"] and ["3. Discount", "Percentage off: 15%"] in rows
    entered = client.post(f"{response.location}/entered", data={"amazon_id": "C-NEW"})
    assert entered.status_code == 303
    db.session.refresh(plan)
    assert plan.state == "entered" and db.session.get(Suggestion, suggestion.id).status == "applied"
    twice = client.post(f"{response.location}/entered", data={"amazon_id": "C-NEW"})
    assert twice.status_code == 400 and "already marked entered" in twice.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "promotion_plan.entered"))


@pytest.mark.parametrize(("form", "message"), [
    ({"discount": "55"}, "A coupon&#39;s discount must be from 5% to 50% of the price; 55% is not."),
    ({"discount": "abc"}, "is not a number"),
    ({"start": "2026-13-01"}, "B0COST: Enter a start date (YYYY-MM-DD)."),
])
def test_bad_edits_come_back_with_the_typed_values_and_save_nothing(client, db, seller, marketer, suggested, form,
                                                                    message):
    suggestion = _pending(db, seller)
    data = {"discount": "20", "start": "2026-03-16", "end": "2026-03-22", "budget": "500", **form}
    response = client.post(f"/sellers/{seller.id}/promotions/suggestions/{suggestion.id}/approve", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html, re.findall(r"flash-error[^>]*>([^<]*)", html)
    assert f'value="{form.get("discount", "20")}"' in html
    assert db.session.scalar(select(PromotionPlan.id)) is None
    assert db.session.get(Suggestion, suggestion.id).status == "pending"


def test_reject(client, db, seller, marketer, suggested):
    suggestion = _pending(db, seller)
    response = client.post(f"/sellers/{seller.id}/promotions/suggestions/{suggestion.id}/reject")
    assert response.status_code == 303
    assert db.session.get(Suggestion, suggestion.id).status == "rejected"


def test_viewers_read_only(client, db, seller, suggested, make_user, login):
    viewer = make_user("viewer@example.com", "viewer", sellers=[seller])
    login(viewer.email)
    suggestion = _pending(db, seller)
    html = client.get(f"/sellers/{seller.id}/promotions").get_data(as_text=True)
    assert "20% coupon on B0COST" in html and "Approve</button>" not in html and "Compute suggestions" not in html
    refused = client.post(f"/sellers/{seller.id}/promotions/suggestions/{suggestion.id}/approve",
                          data={"discount": "20", "start": "2026-03-16", "end": "2026-03-22", "budget": "500"})
    assert refused.status_code == 403
    assert client.get(f"/sellers/{seller.id}/promotions?format=csv").status_code == 200


def test_other_tenants_get_404(client, db, seller, suggested, make_user, make_seller, login):
    from marketing.promotions import plans

    plan = plans.approve(_pending(db, seller), actor=None)
    db.session.commit()
    other = make_seller("Other Co")
    outsider = make_user("outsider@example.com", "marketer", sellers=[other])
    login(outsider.email)
    assert client.get(f"/sellers/{seller.id}/promotions").status_code == 404
    assert client.get(f"/sellers/{seller.id}/promotions/plans/{plan.id}").status_code == 404
    assert client.get(f"/sellers/{other.id}/promotions/plans/{plan.id}").status_code == 404  # not its plan
    assert client.post(f"/sellers/{other.id}/promotions/plans/{plan.id}/entered").status_code == 404


def test_admins_edit_fees_with_dates(client, db, admin):
    data = {"marketplace_id": "ATVPDKIKX0DER", "type": "COUPON", "effective_from": "2026-04-01", "fixed": "5",
            "per_day": "0", "per_redemption": "0", "variable_pct": "2.5", "variable_cap": "2000", "note": "guide"}
    assert client.post("/admin/promotion-fees", data=data).status_code == 303
    # by its key: a fresh database still holds the US fees the migration seeds (other tests' cleanup empties them)
    fee = db.session.scalar(select(PromotionFee).where(PromotionFee.marketplace_id == "ATVPDKIKX0DER",
                                                       PromotionFee.type == "COUPON",
                                                       PromotionFee.effective_from == dt.date(2026, 4, 1)))
    assert (str(fee.variable_pct), str(fee.variable_cap), fee.currency_code) == ("2.5000", "2000.0000", "USD")
    bad = client.post("/admin/promotion-fees", data={**data, "variable_pct": "120"})
    assert bad.status_code == 400 and "must be at most 100" in bad.get_data(as_text=True)
    assert "2026-04-01" in client.get("/admin/promotion-fees").get_data(as_text=True)


def test_the_page_says_what_to_reorder_at_where_restocks_leave_no_room_for_a_promotion(client, seller, marketer, rows):
    from marketing.promotions import service

    rows.history("B0DRY")
    rows.product("B0DRY")
    rows.stock("B0DRY", 30)
    service.run_suggestions(seller.id)
    html = client.get(f"/sellers/{seller.id}/promotions").get_data(as_text=True)
    row = re.search(r'<tr data-hint="B0DRY">(.*?)</tr>', html, re.S).group(1)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] == \
        ["B0DRY", "US", "10.0 units", "20 days", "30 units", "230 units"]
    assert "Reorder earlier" in html and "No pending promotion suggestions." in html
