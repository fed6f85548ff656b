"""Sending approved bids to the sandbox: 207 results, refused batches, revoked tokens, paused writes, stale
bids, undo, the audit trail and idempotence."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select

from marketing.bids import apply
from marketing.bids.apply import live_bids
from marketing.models import AuditEvent, Connection, SpTarget, Suggestion, SuggestionRun
from marketing.suggestions import lifecycle


def _approve(db, rows, user, values=None):
    for row, value in zip(rows, values or [None] * len(rows), strict=True):
        lifecycle.approve(row, actor=user, value=value)
    db.session.commit()


def _fresh(db, rows):
    """Reloaded rows (a worker's job ends its session, detaching what the test held)."""
    ids = [inspect(r).identity[0] for r in rows]
    db.session.expire_all()
    return [db.session.get(Suggestion, i) for i in ids]


def _live(ads, seller, rows, kind="keyword"):
    bids = live_bids(ads, seller.profile_id, kind, [r.entity_id for r in rows])
    return [bids[r.entity_id][1] for r in rows]


@pytest.mark.sqlite
def test_approved_bids_are_applied_audited_and_stored(db, queue, seller, ads, marketer, make_suggestions):
    rows = make_suggestions(3)
    _approve(db, rows, marketer)
    email, seller_id = marketer.email, seller.id
    apply.enqueue(seller.id)
    queue.work("default")
    rows = _fresh(db, rows)
    assert [r.status for r in rows] == ["applied"] * 3
    assert _live(ads, seller, rows) == [r.approved_value for r in rows]
    for row in rows:
        assert row.previous_value == row.current_value and row.applied_at is not None
        local = db.session.scalar(select(SpTarget).where(SpTarget.target_id == row.entity_id))
        assert local.bid == row.approved_value
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bid.applied")
                                .order_by(AuditEvent.id)).all()
    assert [(e.target_type, e.target_id) for e in events] == [("target", str(r.entity_id)) for r in rows]
    first = events[0]
    assert first.actor_email == email and first.seller_id == seller_id
    assert (first.details["old"], first.details["new"]) == (f"{rows[0].current_value:.2f}",
                                                            f"{rows[0].approved_value:.2f}")
    assert first.details["approved_by"] == email and first.details["amazon"]["ok"] is True


@pytest.mark.sqlite
def test_running_apply_again_sends_nothing_twice(db, seller, ads, marketer, make_suggestions):
    rows = make_suggestions(2)
    _approve(db, rows, marketer)
    assert apply.apply_approved(seller.id).applied == 2
    again = apply.apply_approved(seller.id)
    assert (again.applied, again.failed, again.stale) == (0, 0, 0)
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bid.applied")).all()) == 2


def test_mixed_207_applies_the_good_and_fails_the_bad_with_amazons_reason(db, seller, ads, marketer,
                                                                         make_suggestions):
    rows = make_suggestions(3)
    before = _live(ads, seller, rows)
    _approve(db, rows, marketer, [None, Decimal("2500"), None])  # above the US maximum (1000)
    outcome = apply.apply_approved(seller.id)
    assert (outcome.applied, outcome.failed) == (2, 1)
    good, bad, other = _fresh(db, rows)
    assert (good.status, bad.status, other.status) == ("applied", "failed", "applied")
    assert bad.error_code == "BID_OUT_OF_MARKET_PLACE_RANGE"
    assert "between 0.02 and 1000" in bad.error_message
    assert _live(ads, seller, rows)[1] == before[1]


@pytest.mark.parametrize("fault", [{"kind": "error", "status": 500}, {"kind": "throttle", "retry_after": 60}])
def test_amazon_refusing_the_whole_batch_fails_every_item(db, sbx, seller, ads, marketer, make_suggestions, fault):
    rows = make_suggestions(2)
    before = _live(ads, seller, rows)
    _approve(db, rows, marketer)
    sbx.admin.fault(path_prefix="/sp/keywords", **fault)
    outcome = apply.apply_approved(seller.id)
    sbx.admin.clear_faults()
    assert outcome.failed == 2
    for row in _fresh(db, rows):
        assert row.status == "failed"
        assert row.error_message.startswith("Amazon: ") and "Try again later." in row.error_message
    assert _live(ads, seller, rows) == before
    # A person may approve the failed ones again once Amazon is back.
    _approve(db, _fresh(db, rows), marketer)
    assert apply.apply_approved(seller.id).applied == 2


def test_a_revoked_token_fails_clearly_and_marks_the_connection(db, sbx, seller, ads, marketer, token,
                                                                make_suggestions):
    rows = make_suggestions(2)
    before = _live(ads, seller, rows)
    _approve(db, rows, marketer)
    sbx.admin.revoke(token)
    outcome = apply.apply_approved(seller.id)
    assert outcome.failed == 2
    for row in _fresh(db, rows):
        assert row.status == "failed" and "no longer accepts this seller's Ads authorization" in row.error_message
    assert db.session.scalar(select(Connection).where(Connection.seller_id == seller.id)).revoked_at is not None
    assert apply.apply_approved(seller.id).failed == 0  # nothing left to send, nothing sent twice
    seed = sbx.sellers[0].ads_refresh_token  # the shared sandbox seller still works
    assert seed != token and before


@pytest.mark.parametrize("scope", ["app", "seller"])
def test_paused_writes_send_nothing(client, db, login, seller, ads, marketer, make_suggestions, scope):
    from marketing import settings_registry

    rows = make_suggestions(2)
    before = _live(ads, seller, rows)
    _approve(db, rows, marketer)
    settings_registry.set_value("writes_paused", "yes", actor=None, seller_id=None if scope == "app" else seller.id)
    db.session.commit()
    outcome = apply.apply_approved(seller.id)
    assert outcome.paused and outcome.waiting == 2 and "paused" in outcome.summary
    assert [r.status for r in _fresh(db, rows)] == ["approved", "approved"]
    assert _live(ads, seller, rows) == before
    login(marketer.email)
    page = client.post(f"/sellers/{seller.id}/suggestions/apply", follow_redirects=True).get_data(as_text=True)
    assert "Writes to Amazon are paused" in page and "Nothing was sent." in page


def test_a_bid_changed_in_the_console_makes_the_suggestion_stale(db, seller, ads, marketer, make_suggestions):
    rows = make_suggestions(2)
    _approve(db, rows, marketer)
    console = (rows[0].current_value + Decimal("0.33")).quantize(Decimal("0.01"))
    assert ads.update_bids(seller.profile_id, "keywords", [(rows[0].entity_id, float(console))])[0].ok
    outcome = apply.apply_approved(seller.id)
    assert (outcome.applied, outcome.stale) == (1, 1)
    stale, applied = _fresh(db, rows)
    assert stale.status == "stale" and f"now {console}" in stale.error_message
    assert applied.status == "applied"
    assert _live(ads, seller, rows)[0] == console  # the console's bid stays


def test_a_keyword_inheriting_its_ad_group_bid_gets_its_own(db, seller, ads, marketer, make_suggestions):
    inherited = db.session.scalars(select(SpTarget).where(SpTarget.seller_id == seller.id,
                                                          SpTarget.kind == "keyword", SpTarget.bid.is_(None),
                                                          SpTarget.state == "ENABLED")).all()
    if not inherited:
        pytest.skip("this sandbox seed has no inheriting keyword")
    rows = make_suggestions(60)
    row = next(r for r in rows if r.entity_id in {t.target_id for t in inherited})
    _approve(db, [row], marketer)
    assert apply.apply_approved(seller.id).applied == 1
    entity = next(ads.iter_entities(seller.profile_id, "keywords", id_filter=[str(row.entity_id)]))
    assert Decimal(str(entity["bid"])) == row.approved_value


@pytest.mark.sqlite
def test_undo_puts_the_previous_bid_back(client, db, queue, login, seller, ads, marketer, make_suggestions):
    rows = make_suggestions(1)
    _approve(db, rows, marketer)
    apply.apply_approved(seller.id)
    email, profile_id = marketer.email, seller.profile_id
    login(email)
    answer = client.post(f"/sellers/{seller.id}/suggestions/{rows[0].id}/undo", follow_redirects=True)
    assert "Putting the previous bid" in answer.get_data(as_text=True)
    queue.work("default")
    row = _fresh(db, rows)[0]
    assert row.status == "undone" and row.undone_at is not None
    assert live_bids(ads, profile_id, "keyword", [row.entity_id])[row.entity_id][1] == row.previous_value
    undone = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bid.undone"))
    assert undone.target_id == str(row.entity_id) and undone.details["new"] == f"{row.previous_value:.2f}"
    assert undone.details["old"] == f"{row.approved_value:.2f}" and undone.details["undone_by"] == email


def test_undo_is_refused_when_the_bid_changed_since(db, seller, ads, marketer, make_suggestions):
    rows = make_suggestions(1)
    _approve(db, rows, marketer)
    apply.apply_approved(seller.id)
    assert ads.update_bids(seller.profile_id, "keywords", [(rows[0].entity_id, 1.23)])[0].ok
    lifecycle.request_undo(_fresh(db, rows)[0], actor=marketer)
    db.session.commit()
    assert apply.apply_approved(seller.id).stale == 1
    row = _fresh(db, rows)[0]
    assert row.status == "applied" and row.error_message.startswith("Not undone:")
    assert _live(ads, seller, rows) == [Decimal("1.23")]


def _newer(db, row, current=None):
    """A later run's suggestion for the same target as `row` (from its bid then, by default the same one)."""
    run = SuggestionRun(seller_id=row.seller_id, kind="bid", status="succeeded", trigger="manual")
    db.session.add(run)
    db.session.flush()
    current = row.current_value if current is None else current
    newer = Suggestion(
        seller_id=row.seller_id, run_id=run.id, kind="bid", profile_id=row.profile_id, entity_kind=row.entity_kind,
        entity_id=row.entity_id, entity_ref=row.entity_ref, marketplace=row.marketplace,
        campaign_id=row.campaign_id, ad_group_id=row.ad_group_id, label=row.label,
        current_value=current, proposed_value=(current * Decimal("1.2")).quantize(Decimal("0.01")),
        direction="up", status="pending", reason="below_target_acos", explanation="Still selling well.", inputs={},
    )
    db.session.add(newer)
    db.session.commit()
    return newer


@pytest.mark.sqlite
def test_two_approved_changes_to_one_target_send_only_the_newer(db, seller, ads, marketer, make_suggestions):
    older = make_suggestions(1)[0]
    newer = _newer(db, older)
    _approve(db, [older, newer], marketer)
    outcome = apply.apply_approved(seller.id)
    assert (outcome.applied, outcome.stale) == (1, 1)
    older, newer = _fresh(db, [older, newer])
    assert newer.status == "applied" and older.status == "stale"
    assert older.error_message == f"Replaced by the newer #{newer.id} for this keyword; nothing was sent for this one."
    assert _live(ads, seller, [newer]) == [newer.approved_value]
    written = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bid.applied")).all()
    assert [e.details["suggestion_id"] for e in written] == [newer.id]


@pytest.mark.sqlite
def test_an_undo_beside_a_newer_approved_change_sends_only_the_undo(db, seller, ads, marketer, make_suggestions):
    applied = make_suggestions(1)[0]
    _approve(db, [applied], marketer)
    apply.apply_approved(seller.id)
    applied = _fresh(db, [applied])[0]
    newer = _newer(db, applied, current=applied.approved_value)
    _approve(db, [newer], marketer)
    lifecycle.request_undo(applied, actor=marketer)
    db.session.commit()
    outcome = apply.apply_approved(seller.id)
    assert (outcome.undone, outcome.applied, outcome.stale) == (1, 0, 1)
    applied, newer = _fresh(db, [applied, newer])
    assert applied.status == "undone" and newer.status == "stale"
    assert newer.error_message.startswith(f"Replaced by the undo of #{applied.id}")
    assert _live(ads, seller, [applied]) == [applied.previous_value]


def test_a_token_revoked_between_batches_keeps_what_amazon_accepted(db, sbx, seller, ads, marketer, token,
                                                                    make_suggestions, monkeypatch):
    """The first PUT is accepted, then the seller revokes the authorization: that batch is `applied` with its
    audit rows, only the unsent ones fail, with the reason."""
    from marketing.amazon.ads import AdsClient

    rows = make_suggestions(3)
    _approve(db, rows, marketer)
    monkeypatch.setattr(apply, "MAX_UPDATE_BATCH", 1)
    real = AdsClient.update_bids

    def then_revoke(self, *args, **kwargs):
        results = real(self, *args, **kwargs)
        sbx.admin.revoke(token)
        self._token.invalidate()  # the cached access token goes too: the next call refreshes and is refused
        return results

    monkeypatch.setattr(AdsClient, "update_bids", then_revoke)
    outcome = apply.apply_approved(seller.id)
    assert (outcome.applied, outcome.failed) == (1, 2)
    first, *rest = sorted(_fresh(db, rows), key=lambda r: r.id)
    assert first.status == "applied"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "bid.applied")) == 1
    for row in rest:
        assert row.status == "failed" and "nothing more was sent" in row.error_message
    assert apply.apply_approved(seller.id).applied == 0  # nothing sent twice


def test_bids_for_a_profile_no_longer_accessible_are_not_sent(db, sbx, seller, ads, marketer, make_suggestions):
    rows = make_suggestions(2)
    before = _live(ads, seller, rows)
    _approve(db, rows, marketer)
    for profile in seller.connection("ads").profiles:
        profile.accessible = False  # Amazon stopped listing it (another advertiser's authorization)
    db.session.commit()
    outcome = apply.apply_approved(seller.id)
    assert (outcome.applied, outcome.failed) == (0, 2)
    for row in _fresh(db, rows):
        assert row.status == "failed" and "no longer accessible" in row.error_message
    assert _live(ads, seller, rows) == before
