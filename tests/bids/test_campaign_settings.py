"""A campaign's own target ACoS and objective (set on the campaign page, audited, used by the suggestion run)
and the engine thresholds that are seller settings."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from marketing import settings_registry
from marketing.bids import rules, suggest
from marketing.clock import today
from marketing.models import AuditEvent, CampaignSettings, SpTarget, SpTargetDaily, Suggestion
from marketing.optimize.settings import BidSettings
from tests.bids.conftest import live_keywords, sum_weeks


@pytest.fixture
def keyword(db, seller) -> SpTarget:
    """A live keyword selling at a 2% ACoS for four weeks: raised under the seller's 30% target."""
    target = db.session.execute(
        live_keywords(seller).order_by(SpTarget.target_id).limit(1)
    ).scalar_one()
    for days_ago in range(1, 29):
        db.session.add(SpTargetDaily(
            profile_id=target.profile_id, date=today() - dt.timedelta(days=days_ago), target_id=target.target_id,
            campaign_id=target.campaign_id, ad_group_id=target.ad_group_id, impressions=400, clicks=10,
            cost=Decimal("4.00"), orders=2, units=2, sales=Decimal(200)))
    db.session.commit()
    sum_weeks(db)
    return target


def _url(seller, campaign_id) -> str:
    return f"/sellers/{seller.id}/campaigns/{campaign_id}?profile={seller.profile_id}"


def _text(response) -> str:
    """The page as a reader sees it: no tags, single spaces."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _suggestion(db, seller, target: SpTarget) -> Suggestion:
    run = suggest.run_suggestions(seller.id)
    return db.session.scalars(select(Suggestion).where(Suggestion.run_id == run.id,
                                                       Suggestion.entity_id == target.target_id)).one()


@pytest.mark.sqlite
def test_a_campaign_override_is_stored_audited_and_used_by_the_run(client, db, marketer, seller, keyword):
    default = _suggestion(db, seller, keyword)
    assert default.direction == "up" and default.inputs["target_acos"] == pytest.approx(0.30)
    default_bid, default_acos = default.proposed_value, default.inputs["target_acos"]  # the next run deletes it
    assert "Target ACoS: 30 % (seller default)" in _text(client.get(_url(seller, keyword.campaign_id)))

    answer = client.post(_url(seller, keyword.campaign_id), data={"target_acos": "1.5%", "action": "save"},
                         follow_redirects=True)
    assert answer.status_code == 200
    assert "Target ACoS: 1.5 % (this campaign; the seller's is 30 %)" in _text(answer)
    row = db.session.get(CampaignSettings, {"seller_id": seller.id, "profile_id": seller.profile_id,
                                              "campaign_id": keyword.campaign_id})
    assert row.target_acos == Decimal("1.5") and row.updated_by_id == marketer.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.target_acos_changed")).one()
    assert (event.target_id, event.details["old"], event.details["new"]) == (str(keyword.campaign_id), "", "1.5")

    lowered = _suggestion(db, seller, keyword)
    assert lowered.proposed_value < default_bid
    assert lowered.inputs["target_acos"] == pytest.approx(0.015) and "1.5%" in lowered.explanation
    assert settings_registry.get("target_acos", seller.id) == Decimal("30")  # the seller's is untouched

    answer = client.post(_url(seller, keyword.campaign_id), data={"target_acos": "1.5", "action": "clear"},
                         follow_redirects=True)
    assert "Target ACoS: 30 % (seller default)" in _text(answer)
    assert db.session.scalar(select(CampaignSettings)) is None
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.target_acos_changed")
                                .order_by(AuditEvent.id)).all()
    assert [(e.details["old"], e.details["new"]) for e in events] == [("", "1.5"), ("1.5", "")]
    restored = _suggestion(db, seller, keyword)
    assert (restored.proposed_value, restored.inputs["target_acos"]) == (default_bid, default_acos)


def test_the_same_value_again_is_not_a_change(client, db, marketer, seller, keyword):
    for _ in range(2):
        client.post(_url(seller, keyword.campaign_id), data={"target_acos": "20", "action": "save"})
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.target_acos_changed"))
    assert len(events.all()) == 1


@pytest.mark.parametrize("typed, message", [
    ("0", "Target ACoS (%): must be at least 0.1."),
    ("-5", "Target ACoS (%): must be at least 0.1."),
    ("120", "Target ACoS (%): must be at most 100."),
    ("thirty", "Target ACoS (%): enter a number."),
    ("1e999999999", "Target ACoS (%): enter a number."),
    ("12,5", "Target ACoS (%): “12,5”: use a dot for decimals"),
    ("12.123456", "Target ACoS (%): “12.123456” has more than 4 decimals."),
])
def test_bad_values_are_refused_with_the_typed_value_kept(client, db, marketer, seller, keyword, typed, message):
    answer = client.post(_url(seller, keyword.campaign_id), data={"target_acos": typed, "action": "save"})
    page = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert message in page and f'value="{typed}"' in page
    assert db.session.scalar(select(CampaignSettings)) is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.target_acos_changed")) is None


def test_viewers_see_the_target_but_cannot_change_it(client, db, make_user, login, seller, keyword):
    viewer = make_user("viewer@example.com", "viewer", sellers=[seller])
    login(viewer.email)
    page = client.get(_url(seller, keyword.campaign_id))
    assert "Target ACoS: 30 % (seller default)" in _text(page)
    assert 'name="target_acos"' not in page.get_data(as_text=True)
    answer = client.post(_url(seller, keyword.campaign_id), data={"target_acos": "10", "action": "save"})
    assert answer.status_code == 403
    assert db.session.scalar(select(CampaignSettings)) is None


def test_another_sellers_campaign_is_not_found(client, db, make_user, login, make_seller, seller, keyword):
    other = make_seller("Someone Else")
    login(make_user("m2@example.com", "marketer", sellers=[other]).email)
    answer = client.post(_url(seller, keyword.campaign_id), data={"target_acos": "10", "action": "save"})
    assert answer.status_code == 404
    assert client.post(f"/sellers/{other.id}/campaigns/{keyword.campaign_id}",
                       data={"target_acos": "10", "action": "save"}).status_code == 404
    assert db.session.scalar(select(CampaignSettings)) is None


def test_engine_thresholds_are_seller_settings(client, db, marketer, seller):
    def engine():
        return suggest.engine_settings(rules.guardrails(seller.id), None)

    defaults = engine()
    assert (defaults.min_clicks_for_no_order_cut, defaults.confidence, defaults.visibility_impressions) == (
        BidSettings.min_clicks_for_no_order_cut, BidSettings.confidence, BidSettings.visibility_impressions)
    page = client.get(f"/sellers/{seller.id}/suggestions").get_data(as_text=True)
    assert all(f'name="{key}"' in page for key in ("bid_no_order_clicks", "bid_confidence",
                                                   "bid_visibility_impressions"))

    answer = client.post(f"/sellers/{seller.id}/suggestions/settings",
                         data={"bid_no_order_clicks": "25", "bid_confidence": "90", "bid_visibility_impressions": "0"})
    assert answer.status_code == 303
    changed = engine()
    assert (changed.min_clicks_for_no_order_cut, changed.confidence, changed.visibility_impressions) == (25, 0.9, 0)
    audited = db.session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "setting.changed")).all()
    assert sorted(audited) == ["bid_confidence", "bid_no_order_clicks", "bid_visibility_impressions"]


@pytest.mark.parametrize("form, message", [
    ({"bid_confidence": "50"}, "Confidence to lower without orders (%): must be at least 60."),
    ({"bid_confidence": "100"}, "Confidence to lower without orders (%): must be at most 99.9."),
    ({"bid_no_order_clicks": "2.5"}, "Clicks before lowering a bid without orders: enter a whole number."),
    ({"bid_visibility_impressions": "-1"}, "Too few impressions to learn from: must be at least 0."),
])
def test_bad_thresholds_are_refused(client, db, marketer, seller, form, message):
    answer = client.post(f"/sellers/{seller.id}/suggestions/settings", data=form)
    assert answer.status_code == 400 and message in unescape(answer.get_data(as_text=True))
    assert settings_registry.get("bid_confidence", seller.id) == Decimal("95")


def test_a_seller_bid_limit_outside_a_marketplaces_range_falls_back_to_its_own(app, db):
    """0.10 is a fine floor in dollars but below Japan's legal minimum of ¥2: the JP profile uses ¥2 rather than
    failing the seller's whole run; the US profile keeps 0.10."""
    from marketing.amazon.hosts import marketplace

    guard = {"target_acos": Decimal(30), "bid_min": Decimal("0.10"), "bid_max": Decimal("500"),
             "bid_dead_band": Decimal(5), "bid_step_cap": Decimal(25), "bid_cooldown_days": 3,
             "bid_lookback_days": 30, "bid_auto_apply_below": None, "bid_no_order_clicks": 10,
             "bid_confidence": Decimal(95), "bid_visibility_impressions": 100, "writes_paused": False,
             "bid_objective": "profit"}
    us = suggest.engine_settings(guard, marketplace("ATVPDKIKX0DER"))
    jp = suggest.engine_settings(guard, marketplace("A1VC38T7YXB528"))
    assert (us.min_bid, us.max_bid) == (0.10, 500.0)
    assert jp.min_bid is None and jp.max_bid == 500.0 and jp.floor == 2.0


def test_a_campaign_objective_is_stored_audited_and_used_by_the_run(client, db, marketer, seller, keyword):
    assert _suggestion(db, seller, keyword).explanation.endswith("Objective: growth (no unit cost known).")
    url = _url(seller, keyword.campaign_id)
    answer = client.post(url, data={"target_acos": "", "objective": "growth", "action": "save"},
                         follow_redirects=True)
    assert "Objective of this campaign: growth." in _text(answer)
    assert "Objective: growth (this campaign; the seller's is profit)" in _text(answer)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.objective_changed")).one()
    assert (event.details["old"], event.details["new"]) == ("", "growth")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.target_acos_changed")) is None
    chosen = _suggestion(db, seller, keyword)
    assert chosen.payload["objective"] == "growth" and chosen.explanation.endswith(" Objective: growth.")

    bad = client.post(url, data={"target_acos": "", "objective": "fame", "action": "save"})
    assert bad.status_code == 400 and "Objective: enter profit or growth." in unescape(bad.get_data(as_text=True))
    assert db.session.scalar(select(CampaignSettings)).objective == "growth"  # nothing lost

    back = client.post(url, data={"target_acos": "", "objective": "", "action": "save"}, follow_redirects=True)
    assert "This campaign follows the seller's objective again." in _text(back)
    assert db.session.scalar(select(CampaignSettings)) is None
