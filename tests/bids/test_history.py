"""The bid history (issue 12): filled by structure syncs (first bids, console changes) and our applies, read by the
engine as the bid in force each day; budget-capped campaigns; the objective stated on each suggestion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import select

from marketing.bids import history, inputs, suggest
from marketing.clock import today
from marketing.models import BidHistory, SpCampaign, SpCampaignDaily, SpTarget, SpTargetDaily, Suggestion
from marketing.suggestions import lifecycle
from tests.bids.conftest import live_keywords, sum_weeks


def _rows(db, target):
    return db.session.execute(select(BidHistory.valid_from, BidHistory.bid, BidHistory.source).where(
        BidHistory.profile_id == target.profile_id, BidHistory.target_id == target.target_id)
        .order_by(BidHistory.valid_from)).all()


@pytest.mark.sqlite
def test_the_first_structure_sync_records_every_bid_and_a_later_one_only_the_changes(db, seller):
    keyword = db.session.scalars(live_keywords(seller).order_by(SpTarget.target_id)).first()
    [(day, bid, source)] = _rows(db, keyword)
    assert day == today() and source in ("console", "inherited") and bid > 0
    assert history.record_structure(db.session, seller_id=seller.id, profile_id=seller.profile_id) == 0
    keyword.bid = bid + Decimal("0.10")  # changed in the console, seen by the next sync
    later = today() + dt.timedelta(days=2)
    assert history.record_structure(db.session, seller_id=seller.id, profile_id=seller.profile_id, day=later) == 1
    assert _rows(db, keyword)[-1] == (later, bid + Decimal("0.10"), "console")


@pytest.mark.sqlite
def test_inputs_price_each_click_at_the_bid_in_force_that_day(db, seller):
    keyword = db.session.scalars(live_keywords(seller).order_by(SpTarget.target_id)).first()
    raised = today() - dt.timedelta(days=10)
    db.session.execute(BidHistory.__table__.delete())
    history.record(db.session, [
        {"profile_id": keyword.profile_id, "target_id": keyword.target_id, "valid_from": today() - dt.timedelta(days=5),
         "seller_id": seller.id, "bid": Decimal("1.00"), "source": "console", "recorded_at": dt.datetime.now(dt.UTC)},
        {"profile_id": keyword.profile_id, "target_id": keyword.target_id, "valid_from": raised,
         "seller_id": seller.id, "bid": Decimal("2.00"), "source": "ours", "recorded_at": dt.datetime.now(dt.UTC)},
    ])
    history.record(db.session, [{"profile_id": keyword.profile_id, "target_id": keyword.target_id,
                                 "valid_from": today() - dt.timedelta(days=40), "seller_id": seller.id,
                                 "bid": Decimal("1.00"), "source": "console", "recorded_at": dt.datetime.now(dt.UTC)}])
    for days_ago in range(4, 21):  # the window's last 17 days: 10 clicks a day
        db.session.add(SpTargetDaily(
            profile_id=keyword.profile_id, date=today() - dt.timedelta(days=days_ago), target_id=keyword.target_id,
            campaign_id=keyword.campaign_id, ad_group_id=keyword.ad_group_id, impressions=100, clicks=10,
            cost=Decimal("5"), orders=1, units=1, sales=Decimal("20")))
    db.session.commit()
    sum_weeks(db)
    row = inputs.load(seller.id, 30).set_index("target_id").loc[keyword.target_id]
    # 40 → 10 days ago at $1.00 (days 20..11: 100 clicks), from 10 days ago $2.00 (days 10..6: 50 clicks),
    # from 5 days ago $1.00 again (days 5..4: 20 clicks)
    assert row["bid_clicks"] == pytest.approx(100 * 1.0 + 50 * 2.0 + 20 * 1.0)
    assert row["last_change_date"] == pd.Timestamp(today() - dt.timedelta(days=5))
    assert (row["bid_before"], row["bid_after"]) == (2.0, 1.0)


@pytest.mark.sqlite
def test_a_campaign_out_of_budget_on_most_days_is_budget_bound(db, seller):
    campaign = db.session.scalars(select(SpCampaign).where(SpCampaign.seller_id == seller.id,
                                                           SpCampaign.budget > 0)).first()
    # the last 7 days to yesterday (spend is not attributed later, so no days are left out); 8 days ago is older
    for days_ago in range(1, 9):
        db.session.add(SpCampaignDaily(profile_id=campaign.profile_id, date=today() - dt.timedelta(days=days_ago),
                                       campaign_id=campaign.campaign_id,
                                       cost=campaign.budget if days_ago % 3 else campaign.budget / 2))
    db.session.commit()
    frame = inputs.load(seller.id, 30)
    mine = frame[frame["campaign_id"] == campaign.campaign_id].iloc[0]
    assert (mine["budget_days"], mine["budget_capped_days"]) == (7, 5)
    assert mine["campaign_budget"] == float(campaign.budget)
    assert mine["campaign_spend"] == pytest.approx(float(campaign.budget) * 6 / 7)


@pytest.mark.sqlite
def test_applying_a_bid_records_it_and_each_suggestion_states_its_objective(db, seller, ads):
    from marketing.bids import apply

    keyword = db.session.scalars(live_keywords(seller).order_by(SpTarget.target_id)).first()
    for days_ago in range(4, 29):
        db.session.add(SpTargetDaily(
            profile_id=keyword.profile_id, date=today() - dt.timedelta(days=days_ago), target_id=keyword.target_id,
            campaign_id=keyword.campaign_id, ad_group_id=keyword.ad_group_id, impressions=400, clicks=10,
            cost=Decimal("1"), orders=3, units=3, sales=Decimal("300")))
    db.session.commit()
    sum_weeks(db)
    run = suggest.run_suggestions(seller.id)
    mine = db.session.scalar(select(Suggestion).where(Suggestion.run_id == run.id,
                                                      Suggestion.entity_id == keyword.target_id))
    assert mine.payload["objective"] == "growth" and "no unit cost known" in mine.explanation
    lifecycle.approve(mine, actor=None)
    db.session.commit()
    apply.apply_approved(seller.id)
    assert _rows(db, keyword)[-1] == (today(), mine.proposed_value, "ours")


def test_cli_sellers_set_and_products_import(runner, db, seller, tmp_path):
    from marketing import settings_registry
    from marketing.models import Product, SpProductAd

    result = runner.invoke(args=["sellers", "set", str(seller.id), "--objective", "growth", "--target-acos", "25"])
    assert result.exit_code == 0, result.output
    assert settings_registry.get("bid_objective", seller.id) == "growth"
    assert settings_registry.get("target_acos", seller.id) == Decimal("25")
    bad = runner.invoke(args=["sellers", "set", str(seller.id), "--target-acos", "0"])
    assert bad.exit_code == 2
    asin = db.session.scalar(select(SpProductAd.asin).where(SpProductAd.seller_id == seller.id))
    (tmp_path / "costs.csv").write_text(f"asin,unit_cost,price,referral_fee_pct,fba_fee\n{asin},5.00,20,8,3.25\n")
    ok = runner.invoke(args=["products", "import", str(seller.id), str(tmp_path / "costs.csv")])
    assert ok.exit_code == 0, ok.output
    product = db.session.get(Product, (seller.id, asin))
    assert (product.unit_cost, product.referral_fee_pct, product.fba_fee) == (5, 8, Decimal("3.25"))
    (tmp_path / "old.csv").write_text(f"{asin},6.00\n")  # no header: today's column order
    assert runner.invoke(args=["products", "import", str(seller.id), str(tmp_path / "old.csv")]).exit_code == 0
    assert db.session.get(Product, (seller.id, asin)).unit_cost == 6
    (tmp_path / "bad.csv").write_text("asin,unit_cost,referral_fee_pct\nB000000000,5,200\n")
    refused = runner.invoke(args=["products", "import", str(seller.id), str(tmp_path / "bad.csv")])
    assert refused.exit_code == 2


def test_a_measured_change_is_stored_on_its_suggestion_and_shown_on_the_keyword_page(
        db, client, seller, make_user, login, make_suggestions):
    [applied] = make_suggestions(1, status="applied")
    applied.changed_on, applied.previous_value = today() - dt.timedelta(days=20), applied.current_value
    db.session.commit()
    measured = pd.DataFrame([{
        "target_id": applied.entity_id, "last_change_date": pd.Timestamp(applied.changed_on), "change_pct_last": 0.2,
        "measured_clicks_pct": 0.35, "measured_cpc_pct": 0.05, "measured_spend_delta": 4.2,
        "measured_sales_delta": 10.0, "measured_marginal_acos": 0.42, "measured_profit_delta": -0.2,
        "change_paid": False}])
    assert history.store_measurements(seller.id, seller.profile_id, measured) == 1
    db.session.commit()
    assert db.session.get(Suggestion, applied.id).payload["measured"]["measured_marginal_acos"] == 0.42
    make_user("admin@example.com", role="admin")
    login("admin@example.com")
    html = client.get(f"/sellers/{seller.id}/targets/{applied.entity_id}?profile={seller.profile_id}").get_data(
        as_text=True)
    line = " ".join(html.split('id="last-change">')[1].split("</p>")[0].split())
    assert "(+20.0%): +35.0% clicks, CPC +5.0%, 42.0% marginal ACoS" in line and "it did not pay" in line
    # the review page's row of a new suggestion for the same target carries the same measurement
    [pending] = make_suggestions(1)
    pending.profile_id, pending.entity_id = applied.profile_id, applied.entity_id
    db.session.commit()
    review = client.get(f"/sellers/{seller.id}/suggestions").get_data(as_text=True)
    row = " ".join(review.split(f'data-id="{pending.id}"')[1].split("</tr>")[0].split())
    assert "last change +20.0%: +35.0% clicks, CPC +5.0%, 42.0% marginal ACoS" in row
    assert 'title="measured against untouched targets of the profile: it did not pay"' in row
