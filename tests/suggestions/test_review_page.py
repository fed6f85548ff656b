"""The review page at agency scale: paging, sorting and filtering in SQL, counts and totals per currency, rows by
kind, "all N matching" (inline and as a job with progress), the campaign group view, and the CLI around it."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketing.models import AuditEvent, Suggestion
from marketing.suggestions import bulk, lifecycle
from tests.suggestions.conftest import DE, US

pytestmark = pytest.mark.sqlite



def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-id="(\d+)"', html)]


def _ids_by_entity(db, entities) -> list[int]:
    return list(db.session.scalars(select(Suggestion.id).where(Suggestion.entity_id.in_(entities))))


def test_pages_of_50_over_more_than_the_old_5000_cap(client, db, marketer, seller, fill):
    fill(5_020)
    page = client.get(f"/sellers/{seller.id}/suggestions")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert len(_ids(html)) == 50
    assert "5,020 rows · page 1 of 101" in html
    assert "<strong>5,020</strong> pending suggestions match." in html
    last = client.get(f"/sellers/{seller.id}/suggestions?page=101&per_page=50").get_data(as_text=True)
    assert len(_ids(last)) == 20
    assert len(_ids(client.get(f"/sellers/{seller.id}/suggestions?per_page=200").get_data(as_text=True))) == 200
    beyond = client.get(f"/sellers/{seller.id}/suggestions?page=999999")
    assert beyond.status_code == 200 and "No pending suggestions match on page 999999" in beyond.get_data(as_text=True)


def test_sorting_is_done_in_sql_across_pages(client, db, marketer, seller, fill):
    fill(120)
    seen = []
    for n in (1, 2, 3):
        seen += _ids(client.get(f"/sellers/{seller.id}/suggestions?sort=change&page={n}").get_data(as_text=True))
    assert len(seen) == len(set(seen)) == 120  # no row twice, none skipped
    by_id = {s.id: s for s in db.session.scalars(select(Suggestion))}
    changes = [by_id[i].change_pct for i in seen]
    assert changes == sorted(changes, reverse=True)


def test_rows_a_run_replaces_between_the_ids_and_the_rows_are_left_out(client, db, marketer, seller, fill,
                                                                        monkeypatch):
    """The page reads its ids, then their rows: a run that deletes some in between leaves a shorter page, not an
    error."""
    from marketing.suggestions import queries

    fill(10)
    paginate = queries.db.paginate

    def then_replaced(*args, **kwargs):
        page = paginate(*args, **kwargs)
        db.session.execute(Suggestion.__table__.delete().where(Suggestion.id.in_(page.items[:3])))
        return page

    monkeypatch.setattr(queries.db, "paginate", then_replaced)
    page = client.get(f"/sellers/{seller.id}/suggestions")
    assert page.status_code == 200
    assert len(_ids(page.get_data(as_text=True))) == 7


def test_counts_per_status_and_reason_and_totals_per_currency(client, db, marketer, seller, fill):
    fill(30)
    fill(6, marketplace=DE, reason="r9")
    fill(4, status=lifecycle.REJECTED)
    html = client.get(f"/sellers/{seller.id}/suggestions").get_data(as_text=True)
    assert '<option value="pending" selected>pending (36)</option>' in html
    assert '<option value="rejected" >rejected (4)</option>' in html
    assert '<option value="r9" >r9 (6)</option>' in html and '<option value="r0" >r0 (10)</option>' in html
    assert "EUR per day: spend +0.60, sales +1.80" in html
    assert "USD per day: spend +3.00, sales +9.00" in html
    filtered = client.get(f"/sellers/{seller.id}/suggestions?reason=r9").get_data(as_text=True)
    assert len(_ids(filtered)) == 6 and "USD per day" not in filtered


def test_a_mistyped_filter_number_is_explained_and_ignored(client, marketer, seller, fill):
    fill(3)
    page = client.get(f"/sellers/{seller.id}/suggestions?min_change=1,5&per_page=7")  # a bad campaign id: 404
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "use a dot for decimals" in html
    assert len(_ids(html)) == 3


def test_rows_are_compact_with_details_that_open_in_place(client, marketer, seller, fill):
    fill(50)
    html = client.get(f"/sellers/{seller.id}/suggestions").get_data(as_text=True)
    assert html.count("<details><summary>Because") == 50
    assert "<dt>clicks</dt>" in html
    assert len(html.encode()) < 150_000


def test_other_kinds_render_through_the_general_model_and_filter_by_kind(client, db, marketer, seller, fill):
    fill(2)
    fill(1, kind="promotion", entity_kind="asin", entity_ref="B000TEST01", entity_id=None, profile_id=None,
         campaign_id=None, label=None, payload={"discount": "15%"})
    html = client.get(f"/sellers/{seller.id}/suggestions").get_data(as_text=True)
    assert html.count('data-kind="bid"') == 2 and 'data-kind="promotion"' in html
    assert "B000TEST01" in html and "<dt>discount</dt><dd>15%</dd>" in html
    bids_only = client.get(f"/sellers/{seller.id}/suggestions?kind=bid").get_data(as_text=True)
    assert 'data-kind="promotion"' not in bids_only and bids_only.count('data-kind="bid"') == 2


def test_all_matching_up_to_1000_is_decided_at_once(client, db, marketer, seller, fill):
    fill(30)
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide",
                         data={"action": "approve", "scope": "matching", "reason": "r1"}, follow_redirects=True)
    assert "10 suggestions approved." in answer.get_data(as_text=True)
    statuses = dict(db.session.execute(select(Suggestion.reason, func.count()).where(
        Suggestion.status == lifecycle.APPROVED).group_by(Suggestion.reason)).all())
    assert statuses == {"r1": 10}
    audited = db.session.scalar(select(func.count()).where(AuditEvent.action == "suggestion.approved"))
    assert audited == 10


def test_more_than_1000_run_as_a_job_with_progress_and_skip_what_changed(client, db, queue, marketer, seller,
                                                                        fill):
    fill(1_203)
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide",
                         data={"action": "reject", "scope": "matching", "sort": "bid"})
    assert answer.status_code == 303 and "bulk=suggestions-bulk-" in answer.location
    first = db.session.scalar(select(Suggestion).order_by(Suggestion.id).limit(1))
    lifecycle.approve(first, actor=marketer)  # someone approves one before the job gets to it
    db.session.commit()
    waiting = client.get(answer.location)
    assert waiting.headers.get("Refresh") == "2" and "Working: 0 of 1,203 done." in waiting.get_data(as_text=True)
    queue.work("default")
    done = client.get(answer.location)
    html = done.get_data(as_text=True)
    assert "Refresh" not in done.headers
    assert "Done:</strong> 1,202 suggestions rejected; 1 skipped (no longer pending)." in html
    assert db.session.scalar(select(func.count()).where(Suggestion.status == lifecycle.REJECTED)) == 1_202


def test_a_bulk_job_of_another_seller_is_not_shown(client, db, marketer, seller, fill, make_seller, make_user):
    other = make_seller("Other")
    job = bulk.enqueue(other.id, [1], "approve", make_user("x@example.com", "admin"))
    html = client.get(f"/sellers/{seller.id}/suggestions?bulk={job.id}").get_data(as_text=True)
    assert 'id="bulk-progress"' not in html


def test_group_view_approves_all_in_one_campaign(client, db, marketer, seller, fill):
    fill(40)
    html = client.get(f"/sellers/{seller.id}/suggestions?view=campaigns").get_data(as_text=True)
    assert html.count('<tr data-campaign="') == 4 and "Approve all 10 in this campaign" in html
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide",
                         data={"action": "approve", "scope": "matching", "campaign": "101"}, follow_redirects=True)
    assert "10 suggestions approved." in answer.get_data(as_text=True)
    approved = set(db.session.scalars(select(Suggestion.campaign_id).where(Suggestion.status == lifecycle.APPROVED)))
    assert approved == {101}


def test_viewers_cannot_decide_in_bulk(client, db, make_user, login, seller, fill):
    fill(3)
    login(make_user("viewer@example.com", "viewer", sellers=[seller]).email)
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide", data={"action": "approve", "scope": "matching"})
    assert answer.status_code == 403
    assert db.session.scalar(select(func.count()).where(Suggestion.status == lifecycle.PENDING)) == 3


def test_failed_suggestions_can_be_rejected(db, seller, fill, make_user):
    user = make_user("m@example.com", "marketer", sellers=[seller])
    fill(2, status=lifecycle.FAILED)
    one, two = db.session.scalars(select(Suggestion).order_by(Suggestion.id)).all()
    assert lifecycle.reject(one, actor=user) is True
    assert lifecycle.reject_many(seller.id, [two.id], actor=user) == [two.id]
    db.session.expire_all()
    assert {s.status for s in db.session.scalars(select(Suggestion))} == {lifecycle.REJECTED}


def test_an_edited_bid_respects_the_sellers_min_and_max(db, seller):
    from marketing import settings_registry
    from marketing.amazon.hosts import marketplace
    from marketing.bids import rules

    settings_registry.set_value("bid_min", "0.30", actor=None, seller_id=seller.id)
    settings_registry.set_value("bid_max", "2", actor=None, seller_id=seller.id)
    db.session.commit()
    us = marketplace(US)
    assert rules.parse_bid("1.25", us, seller.id) == Decimal("1.25")
    with pytest.raises(rules.BadBid, match=r"below this seller's minimum bid \(0.30\)"):
        rules.parse_bid("0.25", us, seller.id)
    with pytest.raises(rules.BadBid, match=r"above this seller's maximum bid \(2"):
        rules.parse_bid("2.50", us, seller.id)
    jp = marketplace("A1VC38T7YXB528")  # 0.30 yen is below Amazon's own minimum: its limit applies there
    assert rules.seller_range(seller.id, jp) == (None, Decimal(2))


def test_cli_bids_list(runner, db, seller, fill):
    fill(3)
    fill(1, status=lifecycle.APPROVED)
    result = runner.invoke(["bids", "list", seller.name, "--status", "approved", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["target"], r["campaign"], r["current"], r["reason"], r["status"]) for r in rows] == [
        ("keyword 3", "Campaign 103", "1.0000", "r0", "approved")]
    assert set(rows[0]) >= {"id", "target", "campaign", "current", "suggested", "reason", "status"}
    plain = runner.invoke(["bids", "list", str(seller.id)])
    assert plain.exit_code == 0 and len(plain.output.splitlines()) == 4
    assert runner.invoke(["bids", "list", seller.name, "--status", "nope"]).exit_code == 2


def test_cli_users_assign_unassign_and_list(runner, db, seller, make_seller, make_user):
    other = make_seller("Second Seller")
    user = make_user("m@example.com", "marketer")
    result = runner.invoke(["users", "assign", "m@example.com", seller.name, str(other.id)])
    assert (result.exit_code, result.output) == (0, "m@example.com: Big Agency Client, Second Seller\n")
    listed = json.loads(runner.invoke(["users", "list", "--json"]).output)
    assert next(u for u in listed if u["email"] == "m@example.com")["sellers"] == ["Big Agency Client",
                                                                                   "Second Seller"]
    result = runner.invoke(["users", "unassign", "m@example.com", "Second Seller"])
    assert (result.exit_code, result.output) == (0, "m@example.com: Big Agency Client\n")
    again = runner.invoke(["users", "unassign", "m@example.com", "Second Seller"])
    assert again.output == "m@example.com: Big Agency Client (unchanged)\n"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.sellers_changed")
                                .order_by(AuditEvent.id)).all()
    assert [(e.details["old"], e.details["new"]) for e in events] == [
        ([], sorted([seller.id, other.id])), (sorted([seller.id, other.id]), [seller.id])]
    assert all(e.target_id == str(user.id) for e in events)
    for args, message in ((["users", "assign", "nobody@example.com", seller.name], "no user with email"),
                          (["users", "assign", "m@example.com", "Nobody"], "no seller with id or name 'Nobody'"),
                          (["users", "assign", "m@example.com"], "Missing argument")):
        bad = runner.invoke(args)
        assert bad.exit_code == 2 and message in bad.output and "Traceback" not in bad.output
