"""The lifecycle fixes of the agency-scale review: the undo is the undoer's, `bids suggest` shares the queued run's
one-per-seller lock, and sending goes in batches of 1,000 targets (Amazon's most per PUT)."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select

from marketing.bids import apply, suggest
from marketing.models import AuditEvent, Suggestion, SuggestionRun
from marketing.models.suggestions import Trigger
from marketing.suggestions import lifecycle


def test_an_undo_is_recorded_as_the_person_who_undid_it(db, queue, seller, make_user, marketer, make_suggestions):
    row = make_suggestions(1)[0]
    lifecycle.approve(row, actor=marketer)
    db.session.commit()
    apply.apply_approved(seller.id)
    other = make_user("second@example.com", "marketer", sellers=[seller])
    lifecycle.request_undo(db.session.get(Suggestion, row.id), actor=other)
    db.session.commit()
    assert apply.apply_approved(seller.id).undone == 1
    applied, undone = (db.session.scalar(select(AuditEvent).where(AuditEvent.action == action))
                       for action in ("bid.applied", "bid.undone"))
    assert applied.actor_email == "marketer@example.com"
    assert undone.actor_email == "second@example.com" and undone.details["undone_by"] == "second@example.com"


def test_cli_suggest_takes_the_queued_runs_lock(runner, db, queue, seller):
    suggest.enqueue(seller.id, trigger=Trigger.SYNC)  # the post-sync run, waiting for a worker
    result = runner.invoke(["bids", "suggest", seller.name])
    assert result.exit_code == 0, result.output
    runs = db.session.scalars(select(SuggestionRun)).all()
    assert [r.trigger for r in runs] == [Trigger.SYNC]  # one run: the command waited for (and worked) that one
    assert result.output == f"{runs[0].suggestions} suggestions: {runs[0].up} up, {runs[0].down} down\n"


def test_sending_goes_in_batches_of_1000_targets_keeping_each_targets_changes_together():
    items = [SimpleNamespace(entity_id=i) for i in range(2_500)] + [SimpleNamespace(entity_id=999)]
    batches = apply._batches(items)
    assert [len({s.entity_id for s in b}) for b in batches] == [1000, 1000, 500]
    assert sum(s.entity_id == 999 for s in batches[0]) == 2


def test_rejecting_a_failed_suggestion_from_the_page(client, db, seller, marketer, make_suggestions):
    row = make_suggestions(1, status=lifecycle.FAILED)[0]
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide", data={"action": "reject", "ids": [row.id]})
    assert answer.status_code == 303
    assert db.session.scalar(select(func.count()).where(Suggestion.status == lifecycle.REJECTED)) == 1


def test_undoing_a_change_to_an_inherited_bid_restores_inheritance(db, seller, ads, marketer, make_suggestions):
    from marketing.models import SpTarget

    inherited = set(db.session.scalars(select(SpTarget.target_id).where(
        SpTarget.seller_id == seller.id, SpTarget.kind == "keyword", SpTarget.bid.is_(None),
        SpTarget.state == "ENABLED")))
    rows = [r for r in make_suggestions(60) if r.entity_id in inherited][:1]
    assert rows, "this sandbox seed has an inheriting keyword among the first 60"
    row_id, target_id, profile_id = rows[0].id, rows[0].entity_id, seller.profile_id
    lifecycle.approve(rows[0], actor=marketer)
    db.session.commit()
    assert apply.apply_approved(seller.id).applied == 1
    entity = next(ads.iter_entities(profile_id, "keywords", id_filter=[str(target_id)]))
    assert entity.get("bid") is not None  # its own bid now
    lifecycle.request_undo(db.session.get(Suggestion, row_id), actor=marketer)
    db.session.commit()
    assert apply.apply_approved(seller.id).undone == 1
    entity = next(ads.iter_entities(profile_id, "keywords", id_filter=[str(target_id)]))
    assert entity.get("bid") is None  # inherits the ad group's default again
    db.session.expire_all()
    assert db.session.scalar(select(SpTarget.bid).where(SpTarget.target_id == target_id)) is None
