"""The lifecycle and the review page: approve, reject, edit, stale pages, viewers, bad settings."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import delete, select

from marketing.models import AuditEvent, SpCampaign, Suggestion, SuggestionRun
from marketing.suggestions import lifecycle


def _status(db, suggestion_id: int) -> str | None:
    """The stored status; None once a newer run deleted the row."""
    db.session.expire_all()
    return db.session.scalar(select(Suggestion.status).where(Suggestion.id == suggestion_id))


@pytest.mark.sqlite
def test_lifecycle_allows_only_its_transitions(db, make_suggestions, make_user):
    user = make_user("m@example.com", "marketer")
    one, two, three = make_suggestions(3)
    assert lifecycle.approve(one, actor=user) is True
    assert lifecycle.approve(one, actor=user) is False  # twice: no-op
    assert one.decided_by == user.email and one.approved_value == one.proposed_value
    assert lifecycle.reject(two, actor=user) is True
    with pytest.raises(lifecycle.NotAllowed, match="no longer pending"):
        lifecycle.approve(two, actor=user)
    with pytest.raises(lifecycle.NotAllowed):
        lifecycle.request_undo(three, actor=user)  # only applied changes can be undone
    for status in ("applied", "stale", "failed"):
        lifecycle.move(one, status) if status == "applied" else None
    assert one.status == "applied"
    assert lifecycle.request_undo(one, actor=user) and one.status == "undoing"
    with pytest.raises(lifecycle.NotAllowed):
        lifecycle.move(one, "pending")
    db.session.commit()


@pytest.mark.sqlite
def test_a_new_run_replaces_older_pending_ones(db, make_suggestions, make_user):
    old = make_suggestions(2)
    lifecycle.approve(old[1], actor=make_user("m@example.com", "marketer"))
    new_run = SuggestionRun(seller_id=old[0].seller_id, kind="bid", status="succeeded")
    db.session.add(new_run)
    db.session.flush()
    fresh = make_suggestions(1, run=new_run)
    ids = [s.id for s in (*old, *fresh)]
    assert lifecycle.supersede(old[0].seller_id, "bid", new_run.id) == 1
    db.session.commit()
    assert [_status(db, i) for i in ids] == [None, "approved", "pending"]


@pytest.mark.sqlite
def test_page_lists_pending_suggestions_with_explanation_and_token_strip(client, db, marketer, seller,
                                                                          make_suggestions):
    rows = make_suggestions(2)
    page = client.get(f"/sellers/{seller.id}/suggestions")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="token-strip"' in html
    assert "ACoS 12% is below the 30% target." in html
    assert all(f'name="bid-{s.id}"' in html for s in rows)
    assert "Approve selected" in html
    name = db.session.scalar(select(SpCampaign.name).where(SpCampaign.campaign_id == rows[0].campaign_id))
    assert f">{name}</a></td>" in html  # the campaign's name (a link filtering by it), not its id


def test_filters_by_direction_and_change(client, marketer, seller, make_suggestions):
    up = make_suggestions(1, factor=Decimal("1.1"))[0]
    down = make_suggestions(1, factor=Decimal("0.5"))[0]
    html = client.get(f"/sellers/{seller.id}/suggestions?direction=down").get_data(as_text=True)
    assert f'data-id="{down.id}"' in html and f'data-id="{up.id}"' not in html
    html = client.get(f"/sellers/{seller.id}/suggestions?min_change=30").get_data(as_text=True)
    assert f'data-id="{down.id}"' in html and f'data-id="{up.id}"' not in html


def test_approve_with_edit_and_reject(client, db, marketer, seller, make_suggestions):
    one, two, three = make_suggestions(3)
    edited = (one.current_value + Decimal("0.07")).quantize(Decimal("0.01"))
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide",
                         data={"action": "approve", "ids": [one.id, two.id], f"bid-{one.id}": str(edited)},
                         follow_redirects=True)
    assert "2 suggestions approved." in answer.get_data(as_text=True)
    client.post(f"/sellers/{seller.id}/suggestions/decide", data={"action": "reject", "ids": [three.id]})
    db.session.expire_all()
    assert db.session.get(Suggestion, one.id).approved_value == edited
    assert db.session.get(Suggestion, two.id).approved_value == two.proposed_value
    assert _status(db, three.id) == "rejected"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("suggestion."))).all()
    assert sorted(actions) == ["suggestion.approved", "suggestion.approved", "suggestion.rejected"]


@pytest.mark.sqlite
def test_approving_twice_is_a_no_op(client, db, marketer, seller, make_suggestions):
    one = make_suggestions(1)[0]
    client.post(f"/sellers/{seller.id}/suggestions/decide", data={"action": "approve", "ids": [one.id]})
    again = client.post(f"/sellers/{seller.id}/suggestions/decide", data={"action": "approve", "ids": [one.id]},
                        follow_redirects=True)
    assert "0 suggestions approved. 1 already were (by marketer@example.com)." in again.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suggestion.approved")
                             .order_by(AuditEvent.id.desc())).id  # exactly one row:
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "suggestion.approved")).all()) == 1


@pytest.mark.sqlite
def test_approving_from_a_stale_page_is_refused_clearly(client, db, marketer, seller, make_suggestions):
    one, two = make_suggestions(2)
    one.status = "rejected"  # someone else decided it while the page was open
    db.session.commit()
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide",
                         data={"action": "approve", "ids": [one.id, two.id]})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "no longer pending (it is rejected); reload the page" in html
    assert "Nothing was saved" in html
    assert _status(db, two.id) == "pending"  # nothing half-done


@pytest.mark.sqlite
def test_approving_what_a_newer_run_replaced_says_so(client, db, marketer, seller, make_suggestions):
    one, two = make_suggestions(2)
    replaced = SuggestionRun(seller_id=seller.id, kind="bid", status="succeeded")
    db.session.add(replaced)
    db.session.flush()
    two.run_id = replaced.id  # `one` is of an older run: the newer one replaces it while the page is open
    ids = [one.id, two.id]
    assert lifecycle.supersede(seller.id, "bid", replaced.id) == 1
    db.session.commit()
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide", data={"action": "approve", "ids": ids},
                         follow_redirects=True)
    assert "1 suggestion approved. 1 was replaced by a newer run meanwhile; reload the page." in \
        answer.get_data(as_text=True)
    assert [_status(db, i) for i in ids] == [None, "approved"]


@pytest.mark.sqlite
def test_a_row_replaced_between_reading_and_deciding_is_not_allowed(db, make_suggestions, make_user):
    (one,) = make_suggestions(1)
    db.session.execute(delete(Suggestion).where(Suggestion.id == one.id))  # the run's DELETE, after the page read it
    with pytest.raises(lifecycle.NotAllowed, match=r"was replaced by a newer run; reload the page"):
        lifecycle.approve(one, actor=make_user("m@example.com", "marketer"))


@pytest.mark.parametrize("typed, message", [
    ("abc", "“abc” is not a number; write it like 0.75."),
    ("0.01", "below Amazon's minimum bid in US (0.02)"),
    ("5000", "above Amazon's maximum bid in US (1000)"),
    ("NaN", "“NaN” is not a number"),
    ("1,5", "use a dot for decimals"),
    ("0.555", "more than 2 decimals"),
])
def test_bad_edited_bids_are_refused_and_nothing_is_lost(client, db, marketer, seller, make_suggestions, typed,
                                                         message):
    one, two = make_suggestions(2)
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide",
                         data={"action": "approve", "ids": [one.id, two.id], f"bid-{one.id}": typed})
    html = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert message in html
    assert f'name="bid-{one.id}" size="7" inputmode="decimal" value="{typed}"' in html  # the typed value stays
    assert re.search(rf'name="ids" value="{two.id}" checked', html)
    assert _status(db, one.id) == _status(db, two.id) == "pending"


def test_viewers_see_but_cannot_act(client, db, make_user, login, seller, make_suggestions):
    one = make_suggestions(1)[0]
    viewer = make_user("viewer@example.com", "viewer", sellers=[seller])
    login(viewer.email)
    html = client.get(f"/sellers/{seller.id}/suggestions").get_data(as_text=True)
    assert "ACoS 12% is below the 30% target." in html
    assert "Approve selected" not in html and 'name="ids"' not in html and "Send approved" not in html
    for path, data in (("decide", {"action": "approve", "ids": [one.id]}), ("apply", {}), ("run", {}),
                       (f"{one.id}/undo", {}), ("settings", {"target_acos": "20"})):
        assert client.post(f"/sellers/{seller.id}/suggestions/{path}", data=data).status_code == 403
    assert _status(db, one.id) == "pending"


def test_other_sellers_suggestions_are_not_found(client, make_user, login, make_seller, seller, make_suggestions):
    other = make_seller("Someone Else")
    user = make_user("m2@example.com", "marketer", sellers=[other])
    login(user.email)
    assert client.get(f"/sellers/{seller.id}/suggestions").status_code == 404


@pytest.mark.parametrize("form, message", [
    ({"target_acos": "0"}, "Target ACoS (%): must be at least 0.1."),
    ({"target_acos": "-5"}, "Target ACoS (%): must be at least 0.1."),
    ({"target_acos": "120"}, "Target ACoS (%): must be at most 100."),
    ({"target_acos": "thirty"}, "Target ACoS (%): enter a number."),
    ({"bid_min": "3", "bid_max": "2"}, "Maximum bid: 2 is below the minimum bid (3)"),
    ({"bid_dead_band": "30", "bid_step_cap": "25"}, "Smallest bid change: 30% must be below the largest change"),
    ({"writes_paused": "maybe"}, "Pause all writes to Amazon: enter yes or no."),
])
def test_bad_settings_are_refused_with_clear_messages(client, db, marketer, seller, form, message):
    from marketing import settings_registry

    answer = client.post(f"/sellers/{seller.id}/suggestions/settings", data=form)
    html = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert message in html
    assert settings_registry.get("target_acos", seller.id) == Decimal("30")
    assert settings_registry.get("bid_min", seller.id) is None


def test_min_bid_above_an_existing_max_is_refused(db, seller):
    from marketing import settings_registry

    settings_registry.set_value("bid_max", "2", actor=None, seller_id=seller.id)
    with pytest.raises(settings_registry.SettingError, match="Minimum bid: 3 is above the maximum bid"):
        settings_registry.set_value("bid_min", "3", actor=None, seller_id=seller.id)


@pytest.mark.sqlite
def test_good_settings_are_saved_and_audited(client, db, marketer, seller):
    from marketing import settings_registry

    answer = client.post(f"/sellers/{seller.id}/suggestions/settings",
                         data={"target_acos": "25", "bid_auto_apply_below": "10", "writes_paused": "no"},
                         follow_redirects=True)
    assert "Bid settings saved." in answer.get_data(as_text=True)
    assert settings_registry.get("target_acos", seller.id) == Decimal("25")
    assert settings_registry.get("bid_auto_apply_below", seller.id) == Decimal("10")
    changed = db.session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "setting.changed")).all()
    assert sorted(changed) == ["bid_auto_apply_below", "target_acos"]  # "no" was the value already


def test_the_last_runs_notice_says_what_it_left_out(client, db, marketer, seller):
    run = SuggestionRun(seller_id=seller.id, kind="bid", status="succeeded",
                        notice="Profile 42 skipped: its targeting data from 2025-05-20 is incomplete.")
    db.session.add(run)
    db.session.commit()
    page = client.get(f"/sellers/{seller.id}/suggestions").get_data(as_text=True)
    assert re.search(r'id="run-notice">Profile 42 skipped: its targeting data from 2025-05-20 is incomplete\.<', page)
