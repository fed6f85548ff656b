"""`marketing promotions suggest|list|approve|plans|mark-entered SELLER`: the promotion loop from a terminal.

Command names and the `suggest` line are a contract (issue 13). Approvals and entries are recorded as the named
user's, and only if that user may act on the seller's suggestions.
"""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from rq.job import JobStatus
from sqlalchemy import select

from marketing.cli.common import BadInput, Failed, acting_user, approve_options, chosen_suggestions
from marketing.cli.common import seller_argument as _seller
from marketing.cli.params import DATABASE_ID
from marketing.extensions import db
from marketing.jobs.worker import work_until
from marketing.models import PromotionPlan
from marketing.models.suggestions import Kind, Trigger
from marketing.promotions import measuring, plans, service
from marketing.suggestions import lifecycle, queries


@click.group()
def promotions() -> None:
    """Promotions: measured past coupons and deals, suggestions, plans."""


@promotions.command("suggest")
@click.argument("seller_ref", metavar="SELLER")
@with_appcontext
def suggest(seller_ref: str) -> None:
    """Compute promotion suggestions now; prints `N promotion suggestions`.

    Through the seller's one queued-run id, as the page and the post-sync run: a run already waiting or running
    is waited for (worked here when no worker runs)."""
    seller = _seller(seller_ref)
    seller_id, name = seller.id, seller.name  # the job in this process ends the session the seller came from
    job = service.enqueue(seller_id, trigger=Trigger.CLI)

    def ended() -> bool:
        return job.get_status(refresh=True) in _RUN_ENDED

    work_until("default", ended, with_scheduler=False)
    if job.get_status(refresh=False) != JobStatus.FINISHED:
        job.cancel()
        run = queries.latest_run(seller_id, Kind.PROMOTION)
        raise Failed(f"promotion suggestions for {name} failed: {run.error if run else 'see the worker log'}")
    click.echo(job.return_value())


_RUN_ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.SCHEDULED}


def _emit(rows: list[dict], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo("\t".join("" if row[k] is None else ",".join(row[k]) if isinstance(row[k], list) else str(row[k])
                             for k in columns))


@promotions.command("list")
@click.argument("seller_ref", metavar="SELLER")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_(seller_ref: str, as_json: bool) -> None:
    """Past promotions with their measured lift: id, type, start, end, asins, incremental_units,
    incremental_profit, currency (newest first)."""
    seller = _seller(seller_ref)
    rows = [p.row for p in measuring.past(seller.id)]
    _emit(rows, as_json, ("id", "type", "start", "end", "asins", "incremental_units", "incremental_profit",
                          "currency"))


@promotions.command("approve")
@click.argument("seller_ref", metavar="SELLER")
@approve_options("promotion")
@with_appcontext
def approve(seller_ref: str, approve_all: bool, ids: tuple[int, ...], email: str) -> None:
    """Approve pending promotion suggestions as proposed, each into a plan; one refused approves nothing."""
    seller = _seller(seller_ref)
    user = acting_user(seller, email)
    chosen = chosen_suggestions(seller, Kind.PROMOTION, approve_all, ids)
    made = []
    for suggestion in chosen:
        try:
            made.append(plans.approve(suggestion, actor=user))
        except (lifecycle.NotAllowed, plans.PlanError) as exc:
            db.session.rollback()
            raise BadInput(f"suggestion {suggestion.id} ({suggestion.entity_ref}): {exc} Nothing was approved.") \
                from None
    db.session.commit()
    click.echo(f"{len(made)} approved" + (f": plan{'s' if len(made) != 1 else ''} "
                                          + ", ".join(f"#{p.id}" for p in made) if made else ""))


def plan_row(plan: PromotionPlan) -> dict:
    """A plan as `marketing promotions plans --json` prints it."""
    predicted, actual = plan.predicted or {}, plan.actual or {}
    return {"id": plan.id, "state": plan.state, "type": plan.type, "asins": list(plan.asins),
            "discount": plans.discount_text(plan), "start": plan.start_date.isoformat(),
            "end": plan.end_date.isoformat(), "currency": plan.currency_code, "amazon_id": plan.amazon_id,
            "predicted_units": predicted.get("expected_units"), "predicted_profit": predicted.get("expected_profit"),
            "actual_units": actual.get("incremental_units") if plan.actual else None,
            "actual_profit": actual.get("incremental_profit") if plan.actual else None,
            "measured_from": plan.measured_from}


@promotions.command("plans")
@click.argument("seller_ref", metavar="SELLER")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def plans_(seller_ref: str, as_json: bool) -> None:
    """Plans with their state, predicted and actual incremental units and profit (newest first)."""
    seller = _seller(seller_ref)
    rows = [plan_row(p) for p in db.session.scalars(
        select(PromotionPlan).where(PromotionPlan.seller_id == seller.id).order_by(PromotionPlan.id.desc()))]
    _emit(rows, as_json, ("id", "state", "type", "asins", "discount", "start", "end", "predicted_units",
                          "predicted_profit", "actual_units", "actual_profit", "currency"))


@promotions.command("mark-entered")
@click.argument("seller_ref", metavar="SELLER")
@click.argument("plan_id", metavar="PLAN", type=DATABASE_ID)
@click.option("--amazon-id", help="The coupon's or deal's id Seller Central showed.")
@click.option("--as", "email", required=True, help="Email of the user who entered it.")
@with_appcontext
def mark_entered(seller_ref: str, plan_id: int, amazon_id: str | None, email: str) -> None:
    """Record that a plan was entered in Seller Central (its suggestion becomes applied)."""
    seller = _seller(seller_ref)
    user = acting_user(seller, email)
    plan = plans.for_seller(seller.id, plan_id)
    if plan is None:
        raise BadInput(f"{seller.name} has no promotion plan {plan_id}")
    try:
        plans.mark_entered(plan, actor=user, amazon_id=amazon_id)
    except plans.PlanError as exc:
        db.session.rollback()
        raise BadInput(str(exc)) from None
    db.session.commit()
    click.echo(f"plan #{plan.id} {plan.state}" + (f" (Amazon id {plan.amazon_id})" if plan.amazon_id else ""))
