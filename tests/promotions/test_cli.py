"""`marketing promotions …`: the contract's names, lines and exit codes (0 ok, 1 failure, 2 bad input)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from marketing.models import PromotionPlan, Suggestion
from tests.promotions.conftest import TODAY


@pytest.fixture
def user(make_user, seller):
    return make_user("marketer@example.com", "marketer", sellers=[seller])


def _pending(db, seller):
    return list(db.session.scalars(select(Suggestion.id).where(Suggestion.seller_id == seller.id,
                                                               Suggestion.status == "pending")))


def test_suggest_prints_exactly_the_count(runner, rows, seller):
    rows.history("B0COST")
    rows.product("B0COST")
    result = runner.invoke(["promotions", "suggest", "Promo Co"])
    assert result.exit_code == 0, result.output
    assert result.output == "1 promotion suggestions\n"


def test_suggest_on_an_unknown_seller_is_bad_input(runner):
    result = runner.invoke(["promotions", "suggest", "Nobody"])
    assert result.exit_code == 2 and "no seller with id or name 'Nobody'" in result.output


def test_suggest_failing_is_exit_1_with_the_runs_error(runner, rows, seller, engine, monkeypatch):
    rows.history("B0COST")

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(engine, "suggest", broken)
    result = runner.invoke(["promotions", "suggest", str(seller.id)])
    assert result.exit_code == 1 and "engine exploded" in result.output


def test_list_prints_past_promotions_with_their_lift(runner, rows, seller):
    start = TODAY - dt.timedelta(days=20)
    rows.history("B0COST", during={start + dt.timedelta(days=n): (20, "16.00") for n in range(7)})
    rows.product("B0COST")
    rows.promotion("C-PAST", ["B0COST"], start, start + dt.timedelta(days=6))
    result = runner.invoke(["promotions", "list", "Promo Co", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert set(row) == {"id", "type", "start", "end", "asins", "incremental_units", "incremental_profit", "currency"}
    assert (row["id"], row["asins"], row["incremental_units"], row["incremental_profit"]) == (
        "C-PAST", ["B0COST"], 70.0, 280.0)
    text = runner.invoke(["promotions", "list", "Promo Co"])
    assert text.output == "C-PAST\tCOUPON\t2026-02-23\t2026-03-01\tB0COST\t70.0\t280.0\tUSD\n"


def test_approve_plans_and_mark_entered(runner, db, seller, suggested, user):
    [sid] = _pending(db, seller)
    result = runner.invoke(["promotions", "approve", "Promo Co", "--id", str(sid), "--as", user.email])
    assert result.exit_code == 0, result.output
    plan = db.session.scalar(select(PromotionPlan))
    assert result.output == f"1 approved: plan #{plan.id}\n"
    listed = runner.invoke(["promotions", "plans", "Promo Co", "--json"])
    [row] = json.loads(listed.output)
    assert (row["id"], row["state"], row["predicted_profit"], row["actual_profit"]) == (plan.id, "planned", 12.5,
                                                                                      None)
    entered = runner.invoke(["promotions", "mark-entered", "Promo Co", str(plan.id), "--amazon-id", "C-9",
                             "--as", user.email])
    assert entered.exit_code == 0 and entered.output == f"plan #{plan.id} entered (Amazon id C-9)\n"
    again = runner.invoke(["promotions", "mark-entered", "Promo Co", str(plan.id), "--as", user.email])
    assert again.exit_code == 2 and "already marked entered" in again.output
    assert "Traceback" not in again.output


def test_approve_all_and_bad_input(runner, db, seller, suggested, user, make_user):
    assert runner.invoke(["promotions", "approve", "Promo Co", "--as", user.email]).exit_code == 2
    assert runner.invoke(["promotions", "approve", "Promo Co", "--all", "--id", "1", "--as", user.email]
                         ).exit_code == 2
    missing = runner.invoke(["promotions", "approve", "Promo Co", "--id", "999999", "--as", user.email])
    assert missing.exit_code == 2 and "has no promotion suggestion 999999" in missing.output
    viewer = make_user("viewer@example.com", "viewer", sellers=[seller])
    refused = runner.invoke(["promotions", "approve", "Promo Co", "--all", "--as", viewer.email])
    assert refused.exit_code == 2 and "may not act on" in refused.output
    unknown_plan = runner.invoke(["promotions", "mark-entered", "Promo Co", "424242", "--as", user.email])
    assert unknown_plan.exit_code == 2 and "has no promotion plan 424242" in unknown_plan.output
    result = runner.invoke(["promotions", "approve", "Promo Co", "--all", "--as", user.email])
    assert result.exit_code == 0 and result.output.startswith("1 approved: plan #")
    assert _pending(db, seller) == []
