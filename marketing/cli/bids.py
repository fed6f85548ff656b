"""`marketing bids suggest|list|approve|apply SELLER`: the review loop from a terminal or a script.

Approvals are recorded as the named user's, and only if that user may act on the seller's suggestions.
"""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from rq.job import JobStatus
from sqlalchemy import select

from marketing.bids import apply, rules
from marketing.cli.common import BadInput, Failed, acting_user, approve_options, chosen_suggestions
from marketing.cli.common import seller_argument as _seller
from marketing.extensions import db
from marketing.jobs.worker import work_until
from marketing.models import Suggestion
from marketing.models.suggestions import Kind, Trigger
from marketing.suggestions import lifecycle, queries


@click.group()
def bids() -> None:
    """Bid suggestions: compute, approve, send to Amazon."""


@bids.command("suggest")
@click.argument("seller_ref", metavar="SELLER")
@with_appcontext
def suggest(seller_ref: str) -> None:
    """Compute bid suggestions now; prints `N suggestions: U up, D down`.

    The run goes through the seller's one queued-run id, the lock the post-sync and page runs take: while one is
    waiting or running this waits for it instead of starting a second (worked here when no worker runs)."""
    from marketing.bids import suggest as suggestions  # why: the job's module loads pandas (~1 s); others skip it

    seller = _seller(seller_ref)
    job = suggestions.enqueue(seller.id, trigger=Trigger.CLI)

    def ended() -> bool:
        return job.get_status(refresh=True) in _RUN_ENDED

    work_until("default", ended, with_scheduler=False)
    if job.get_status(refresh=False) != JobStatus.FINISHED:
        job.cancel()  # a retry would only repeat the same refusal; the run row says why
        run = queries.latest_run(seller.id, Kind.BID)
        raise Failed(f"suggestions for {seller.name} failed: {run.error if run else 'see the worker log'}")
    click.echo(job.return_value())


_RUN_ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.SCHEDULED}


@bids.command("list")
@click.argument("seller_ref", metavar="SELLER")
@click.option("--status", type=click.Choice([str(s) for s in lifecycle.Status]), help="Only this status.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_(seller_ref: str, status: str | None, as_json: bool) -> None:
    """List the seller's bid suggestions (id, target, campaign, current, suggested, reason, status), oldest first."""
    seller = _seller(seller_ref)
    query = select(Suggestion).where(Suggestion.seller_id == seller.id, Suggestion.kind == Kind.BID)
    if status:
        query = query.where(Suggestion.status == status)
    rows = db.session.scalars(query.order_by(Suggestion.id).execution_options(yield_per=2000)).all()
    names = queries.campaign_names(seller.id, {s.campaign_id for s in rows})
    data = [{"id": s.id, "target": s.label or s.entity_ref, "target_id": s.entity_ref,
             "campaign": names.get(s.campaign_id) or (str(s.campaign_id) if s.campaign_id else None),
             "campaign_id": str(s.campaign_id) if s.campaign_id else None, "current": str(s.current_value),
             "suggested": str(s.value_to_apply), "reason": s.reason, "status": s.status} for s in rows]
    if as_json:
        click.echo(json.dumps(data))
        return
    for row in data:
        click.echo("\t".join(str(row[k]) for k in ("id", "target", "campaign", "current", "suggested", "reason",
                                                   "status")))


@bids.command("approve")
@click.argument("seller_ref", metavar="SELLER")
@approve_options("bid")
@with_appcontext
def approve(seller_ref: str, approve_all: bool, ids: tuple[int, ...], email: str) -> None:
    """Approve pending bid suggestions as a user allowed to act on this seller."""
    seller = _seller(seller_ref)
    user = acting_user(seller, email)
    chosen = chosen_suggestions(seller, Kind.BID, approve_all, ids)
    approved = 0
    try:
        for suggestion in chosen:
            approved += lifecycle.approve(suggestion, actor=user)
    except lifecycle.NotAllowed as exc:
        db.session.rollback()
        raise BadInput(f"{exc} Nothing was approved.") from None
    db.session.commit()
    click.echo(f"{approved} approved" + (f", {len(chosen) - approved} already were" if len(chosen) > approved else ""))


@bids.command("apply")
@click.argument("seller_ref", metavar="SELLER")
@click.option("--wait", is_flag=True, help="Wait for the outcome (works the queue here if no worker runs).")
@with_appcontext
def apply_(seller_ref: str, wait: bool) -> None:
    """Send approved bids (and requested undos) to Amazon."""
    seller = _seller(seller_ref)
    paused = rules.writes_paused(seller.id)
    if paused:
        raise Failed(f"{paused} Nothing was sent.")
    job = apply.enqueue(seller.id)
    if not wait:
        click.echo(f"queued: {job.id}")
        return

    def ended() -> bool:
        job.refresh()
        return job.is_finished or job.is_failed

    work_until("default", ended, with_scheduler=False)
    if job.is_failed:
        raise Failed(f"applying bids for {seller.name} failed; see the worker log (job {job.id})")
    outcome = job.return_value()
    if outcome["failed"]:
        raise Failed(f"{seller.name}: {outcome['summary']}; first error: {outcome['errors'][0]}")
    click.echo(outcome["summary"])
