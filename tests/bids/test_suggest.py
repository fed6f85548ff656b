"""The suggestion run (engine wired to our tables), auto-apply, the post-sync hook and the `marketing bids` CLI."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from marketing.bids import inputs, suggest
from marketing.clock import today
from marketing.models import SpTarget, SpTargetDaily, Suggestion, SuggestionRun
from tests.bids.conftest import live_keywords, sum_weeks


@pytest.fixture
def evidence(db, seller):
    """Two live keywords of one ad group: one selling at a 2% ACoS, one with 100 clicks and no order."""
    pair = db.session.execute(
        live_keywords(seller).order_by(SpTarget.ad_group_id, SpTarget.target_id)
    ).scalars().all()
    by_group: dict[int, list[SpTarget]] = {}
    for target in pair:
        by_group.setdefault(target.ad_group_id, []).append(target)
    winner, loser = next(group for group in by_group.values() if len(group) >= 2)[:2]
    for days_ago in range(1, 29):  # the last 3 days must not count
        day = today() - dt.timedelta(days=days_ago)
        for target, clicks, orders, sales in ((winner, 10, 2, 200), (loser, 4, 0, 0)):
            db.session.add(SpTargetDaily(
                profile_id=target.profile_id, date=day, target_id=target.target_id, campaign_id=target.campaign_id,
                ad_group_id=target.ad_group_id, impressions=400, clicks=clicks, cost=Decimal("0.40") * clicks,
                orders=orders, units=orders, sales=Decimal(sales)))
    db.session.commit()
    sum_weeks(db)
    return winner, loser


@pytest.mark.sqlite
def test_inputs_sum_the_window_without_the_last_three_days(db, seller, evidence):
    winner, _ = evidence
    frame = inputs.load(seller.id, 30).set_index("target_id")
    row = frame.loc[winner.target_id]
    assert row["clicks"] == 10 * 25 and row["orders"] == 2 * 25  # days 4..28 before today
    assert row["state"] == "enabled" and row["manual"]


@pytest.mark.parametrize("day", [dt.date(2026, 4, 1) + dt.timedelta(days=k) for k in range(7)])
def test_the_history_starts_on_the_first_monday_of_the_last_90_days(day):
    first = inputs.first_history_day(day)
    assert first.weekday() == 0 and 84 <= (day - first).days <= 90


@pytest.mark.sqlite
def test_inputs_add_a_longer_history_as_conversion_evidence(db, seller, evidence):
    winner, _ = evidence
    for days_ago in (40, 80, 100):  # 100 days ago is beyond the history
        db.session.add(SpTargetDaily(
            profile_id=winner.profile_id, date=today() - dt.timedelta(days=days_ago), target_id=winner.target_id,
            campaign_id=winner.campaign_id, ad_group_id=winner.ad_group_id, impressions=400, clicks=10,
            cost=Decimal("4.00"), orders=3, units=3, sales=Decimal("300")))
    db.session.commit()
    sum_weeks(db)
    row = inputs.load(seller.id, 30).set_index("target_id").loc[winner.target_id]
    assert (row["clicks"], row["orders"], row["sales"]) == (250, 50, 5000.0)  # the look-back window only
    assert (row["history_clicks"], row["history_orders"], row["history_sales"]) == (270, 56, 5600.0)


@pytest.mark.sqlite
def test_inputs_equal_the_day_by_day_sums_on_every_weekday(db, seller, evidence):
    """Each day's clicks are its own number, so a week read whole where it should not be, or a day negated twice,
    changes a sum: whatever the weekday, the window and the history equal the sums of their days."""
    winner, _ = evidence
    db.session.execute(delete(SpTargetDaily).where(SpTargetDaily.target_id == winner.target_id))
    clicks = {today() - dt.timedelta(days=k): 1 + k * (k + 3) % 97 for k in range(1, 101)}
    for day, n in clicks.items():
        db.session.add(SpTargetDaily(
            profile_id=winner.profile_id, date=day, target_id=winner.target_id, campaign_id=winner.campaign_id,
            ad_group_id=winner.ad_group_id, impressions=10 * n, clicks=n, cost=Decimal("0.37") * n, orders=n % 3,
            units=n % 3, sales=Decimal("9.99") * (n % 3)))
    db.session.commit()
    sum_weeks(db)
    for shift in range(7):
        day = today() - dt.timedelta(days=shift)
        for lookback in (30, 14):
            row = inputs.load(seller.id, lookback, day).set_index("target_id").loc[winner.target_id]
            window = [n for d, n in clicks.items() if day - dt.timedelta(days=lookback) <= d <= day - dt.timedelta(4)]
            history = [n for d, n in clicks.items() if inputs.first_history_day(day) <= d <= day - dt.timedelta(4)]
            assert (row["clicks"], row["impressions"]) == (sum(window), 10 * sum(window)), (day, lookback)
            assert row["cost"] == pytest.approx(0.37 * sum(window)), (day, lookback)
            assert row["history_clicks"] == sum(history), (day, lookback)
            assert row["history_orders"] == sum(n % 3 for n in history), (day, lookback)
            assert row["history_sales"] == pytest.approx(9.99 * sum(n % 3 for n in history)), (day, lookback)
            db.session.rollback()


@pytest.mark.sqlite
def test_a_run_saves_up_and_down_suggestions_with_explanations(db, seller, evidence):
    winner, loser = evidence
    run = suggest.run_suggestions(seller.id)
    assert run.status == "succeeded" and run.suggestions == run.up + run.down >= 2
    saved = {s.entity_id: s for s in db.session.scalars(select(Suggestion).where(Suggestion.run_id == run.id))}
    up, down = saved[winner.target_id], saved[loser.target_id]
    assert (up.direction, down.direction) == ("up", "down")
    # 100 clicks and no order: lowered toward what its (ad-group-shrunk) CVR is worth at the clicks' low CPC
    assert down.reason in ("LOWER_NO_ORDERS", "LOWER_UNPROFITABLE") and up.reason == "RAISE_PROFITABLE"
    assert up.proposed_value <= (up.current_value * Decimal("1.25")).quantize(Decimal("0.01"))  # step cap
    assert up.explanation and up.inputs["clicks"] == 250 and up.expected_spend_delta > 0
    assert up.label == winner.text


@pytest.mark.sqlite
def test_a_suggestion_is_its_runs_sellers_and_goes_with_the_seller(db, seller, evidence, make_seller):
    from marketing.sellers import delete_seller

    run = suggest.run_suggestions(seller.id)
    other = make_seller("Someone Else", seller.region)
    db.session.commit()
    wrong = db.session.scalar(select(Suggestion).where(Suggestion.run_id == run.id).limit(1))
    wrong.seller_id = other.id  # the one foreign key is (run, seller): a row can't name another seller than its run's
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    delete_seller(db.session.get(type(seller), seller.id))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Suggestion)) == 0
    assert db.session.scalar(select(func.count()).select_from(SuggestionRun)) == 0


@pytest.mark.sqlite
def test_inputs_keep_six_significant_digits_and_leave_out_what_is_not_known(db, seller, evidence):
    winner, _ = evidence
    run = suggest.run_suggestions(seller.id)
    row = db.session.scalar(select(Suggestion).where(Suggestion.run_id == run.id,
                                                     Suggestion.entity_id == winner.target_id))
    floats = {k: v for k, v in row.inputs.items() if isinstance(v, float)}
    assert floats and all(len(f"{abs(v):.15g}".replace(".", "").strip("0")) <= 6 for v in floats.values())
    assert row.inputs["clicks"] == 250 and isinstance(row.inputs["clicks"], int)
    assert "break_even_acos" not in row.inputs  # no unit cost: NaN in the engine, left out here
    assert "last_change_date" not in row.inputs and None not in row.inputs.values()
    assert row.inputs["window_end"] == (today() - dt.timedelta(days=4)).isoformat() + "T00:00:00"


@pytest.mark.sqlite
def test_a_new_run_replaces_what_is_still_pending(db, seller, evidence):
    first = suggest.run_suggestions(seller.id)
    second = suggest.run_suggestions(seller.id)
    assert first.suggestions and second.superseded == first.suggestions
    runs = dict(db.session.execute(select(Suggestion.run_id, func.count()).group_by(Suggestion.run_id)).all())
    assert runs == {second.id: second.suggestions}  # the first run's pending rows are gone


@pytest.mark.sqlite
@pytest.mark.parametrize("status", ["approved", "undoing"])
def test_a_new_run_skips_a_target_whose_change_is_not_sent_yet(db, seller, evidence, status):
    winner, loser = evidence
    first = suggest.run_suggestions(seller.id)
    waiting = db.session.scalar(select(Suggestion).where(Suggestion.run_id == first.id,
                                                         Suggestion.entity_id == winner.target_id))
    waiting.status = status  # approved, or applied long ago (no cooldown) and now being undone
    db.session.commit()
    second = suggest.run_suggestions(seller.id)
    proposed = set(db.session.scalars(select(Suggestion.entity_id).where(Suggestion.run_id == second.id)))
    assert loser.target_id in proposed and winner.target_id not in proposed
    assert db.session.get(Suggestion, waiting.id).status == status


@pytest.mark.sqlite
def test_opt_in_auto_apply_approves_small_changes_as_the_system_and_sends_them(db, queue, seller, evidence):
    from marketing import settings_registry

    settings_registry.set_value("bid_auto_apply_below", "30", actor=None, seller_id=seller.id)
    db.session.commit()
    seller_id = seller.id
    assert suggest.suggest_job(seller_id).endswith("down")
    queue.work("default")
    rows = db.session.scalars(select(Suggestion)).all()
    assert rows and all(s.decided_by == "system" and s.status == "applied" for s in rows)


def test_auto_apply_waits_while_writes_are_paused(db, seller, evidence):
    from marketing import settings_registry

    settings_registry.set_value("bid_auto_apply_below", "30", actor=None, seller_id=seller.id)
    settings_registry.set_value("writes_paused", "yes", actor=None)
    db.session.commit()
    run = suggest.run_suggestions(seller.id)
    assert run.auto_approved == 0
    assert {s.status for s in db.session.scalars(select(Suggestion))} == {"pending"}


def test_a_failed_run_is_recorded_and_raised(db, seller, evidence, monkeypatch):
    monkeypatch.setattr(inputs, "load", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk on fire")))
    with pytest.raises(RuntimeError):
        suggest.run_suggestions(seller.id)
    run = db.session.scalar(select(SuggestionRun))
    assert run.status == "failed" and "disk on fire" in run.error


def test_runs_follow_every_successful_sync():
    from marketing.sync import outcome

    assert outcome.AFTER_SYNC["bid-suggestions"] == "marketing.bids.suggest.after_sync"


def test_cli_suggest_prints_the_counts(runner, db, seller, evidence):
    result = runner.invoke(["bids", "suggest", seller.name])
    assert result.exit_code == 0, result.output
    match = re.fullmatch(r"(\d+) suggestions: (\d+) up, (\d+) down\n", result.output)
    assert match
    run = db.session.scalar(select(SuggestionRun))
    assert tuple(map(int, match.groups())) == (run.suggestions, run.up, run.down)


def test_cli_approve_and_apply(runner, db, seller, evidence, make_user):
    user = make_user("marketer@example.com", "marketer", sellers=[seller])
    total = suggest.run_suggestions(seller.id).suggestions
    first = db.session.scalar(select(Suggestion.id).order_by(Suggestion.id))
    result = runner.invoke(["bids", "approve", str(seller.id), "--id", str(first), "--as", user.email])
    assert (result.exit_code, result.output) == (0, "1 approved\n")
    result = runner.invoke(["bids", "approve", seller.name, "--all", "--as", user.email])
    assert (result.exit_code, result.output) == (0, f"{total - 1} approved\n")
    result = runner.invoke(["bids", "apply", seller.name, "--wait"])
    assert (result.exit_code, result.output) == (0, f"{total} applied, 0 failed, 0 stale\n")
    db.session.expire_all()
    approvals = {s.decided_by for s in db.session.scalars(select(Suggestion))}
    assert approvals == {"marketer@example.com"}


def test_cli_suggest_sends_what_it_auto_approves(runner, db, queue, seller, evidence):
    from marketing import settings_registry

    settings_registry.set_value("bid_auto_apply_below", "30", actor=None, seller_id=seller.id)
    db.session.commit()
    assert runner.invoke(["bids", "suggest", seller.name]).exit_code == 0
    queue.work("default")
    db.session.expire_all()
    rows = db.session.scalars(select(Suggestion)).all()
    assert rows and all(s.decided_by == "system" and s.status == "applied" for s in rows)


@pytest.mark.parametrize("args, message", [
    (["bids", "suggest", "Nobody"], "no seller with id or name 'Nobody'"),
    (["bids", "approve", "{seller}", "--as", "marketer@example.com"], "give either --all or one or more --id"),
    (["bids", "approve", "{seller}", "--all", "--as", "nobody@example.com"], "no user 'nobody@example.com'"),
    (["bids", "approve", "{seller}", "--all", "--as", "viewer@example.com"],
     "viewer@example.com (viewer) may not act on"),
    (["bids", "approve", "{seller}", "--id", "999", "--as", "marketer@example.com"], "has no bid suggestion 999"),
])
def test_cli_bad_input_exits_2_with_one_line(runner, seller, make_user, args, message):
    make_user("marketer@example.com", "marketer", sellers=[seller])
    make_user("viewer@example.com", "viewer", sellers=[seller])
    result = runner.invoke([a.replace("{seller}", seller.name) for a in args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_cli_apply_while_paused_exits_1(runner, db, seller):
    from marketing import settings_registry

    settings_registry.set_value("writes_paused", "yes", actor=None, seller_id=seller.id)
    db.session.commit()
    result = runner.invoke(["bids", "apply", seller.name, "--wait"])
    assert result.exit_code == 1
    assert "Writes to Amazon are paused for this seller" in result.output


@pytest.mark.sqlite
def test_text_with_copy_s_separators_and_escapes_is_stored_as_it_came(db, seller, evidence):
    """PostgreSQL's rows go out in COPY's text format, built by hand (`suggest._copy_text`): a keyword holding a
    tab, a newline, a carriage return, a backslash or `\\N` must come back exactly, and the row stay whole."""
    winner, loser = evidence
    odd = {winner.target_id: "tab\there\\N line\nbreak\r\\back\\slash", loser.target_id: "\\N"}
    for target in (winner, loser):
        target.text = odd[target.target_id]
    db.session.commit()
    run = suggest.run_suggestions(seller.id)
    rows = db.session.scalars(select(Suggestion).where(Suggestion.run_id == run.id,
                                                       Suggestion.entity_id.in_(odd))).all()
    assert winner.target_id in {row.entity_id for row in rows}  # a 2 % ACoS always earns a raise
    assert all(row.label == odd[row.entity_id] and row.inputs["clicks"] >= 0 for row in rows)


def test_a_column_holding_nul_goes_value_by_value():
    """NUL joins a text column for escaping at once; a value that holds one can't be split back, so the column is
    escaped value by value (the server then refuses it, as it refuses NUL in any text)."""
    assert suggest._copy_column(["a\tb", "c\0d", None]) == ["a\\tb", "c\0d", "\\N"]
    assert suggest._copy_column(["a\\b", "c\nd"]) == ["a\\\\b", "c\\nd"]
    assert suggest._copy_column([7, 7]) == ["7", "7"] and suggest._copy_column([1, 2]) == ["1", "2"]
