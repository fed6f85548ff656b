"""What pages ask about suggestions, already filtered and sorted (templates do no arithmetic)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rq.job import JobStatus
from sqlalchemy import func, select

from marketing import jobs
from marketing.bids import apply
from marketing.extensions import db
from marketing.models import SpCampaign, Suggestion, SuggestionRun
from marketing.models.suggestions import Kind
from marketing.suggestions.lifecycle import PENDING, REJECTED, SUPERSEDED, Status

SORTS = {
    "change": lambda s: -abs(s.change_pct or 0),
    "spend": lambda s: -abs(s.expected_spend_delta or 0),
    "sales": lambda s: -abs(s.expected_sales_delta or 0),
    "campaign": lambda s: (s.campaign_id or 0, s.label or ""),
    "bid": lambda s: -s.current_value,
}


@dataclass(frozen=True)
class Filters:
    status: str = PENDING
    campaign_id: int | None = None
    reason: str | None = None
    direction: str | None = None  # up | down
    min_change_pct: Decimal | None = None  # |change| at least this many percent
    sort: str = "change"


def review_rows(seller_id: int, kind: str, filters: Filters) -> list[Suggestion]:
    """The seller's suggestions of `kind` matching `filters`, in the chosen order."""
    query = select(Suggestion).where(Suggestion.seller_id == seller_id, Suggestion.kind == kind)
    if filters.status:
        query = query.where(Suggestion.status == filters.status)
    if filters.campaign_id is not None:
        query = query.where(Suggestion.campaign_id == filters.campaign_id)
    if filters.reason:
        query = query.where(Suggestion.reason == filters.reason)
    if filters.direction:
        query = query.where(Suggestion.direction == filters.direction)
    if filters.min_change_pct is not None:
        value = func.coalesce(Suggestion.approved_value, Suggestion.proposed_value)
        change = func.abs(value - Suggestion.current_value)
        query = query.where(change * 100 >= Suggestion.current_value * filters.min_change_pct)
    rows = list(db.session.scalars(query.order_by(Suggestion.id).limit(5000)))
    return sorted(rows, key=SORTS.get(filters.sort, SORTS["change"]))


def facets(seller_id: int, kind: str) -> dict:
    """Choices for the filter controls: statuses with counts, reasons and campaigns present."""
    counts = dict(db.session.execute(
        select(Suggestion.status, func.count()).where(Suggestion.seller_id == seller_id, Suggestion.kind == kind)
        .group_by(Suggestion.status)
    ).all())
    reasons = db.session.scalars(
        select(Suggestion.reason).distinct().where(Suggestion.seller_id == seller_id, Suggestion.kind == kind)
        .order_by(Suggestion.reason)
    ).all()
    campaigns = db.session.execute(
        select(Suggestion.campaign_id, func.max(SpCampaign.name))
        .outerjoin(SpCampaign, (SpCampaign.campaign_id == Suggestion.campaign_id)
                   & (SpCampaign.profile_id == Suggestion.profile_id))
        .where(Suggestion.seller_id == seller_id, Suggestion.kind == kind)
        .group_by(Suggestion.campaign_id).order_by(func.max(SpCampaign.name))
    ).all()
    return {"counts": counts, "reasons": reasons,
            "campaigns": [(cid, name or str(cid)) for cid, name in campaigns if cid is not None]}


def is_sellers_campaign(seller_id: int, campaign_id: int) -> bool:
    """Whether the campaign filter names one of the seller's campaigns (synced, or with suggestions)."""
    synced = select(SpCampaign.campaign_id).where(SpCampaign.seller_id == seller_id,
                                                  SpCampaign.campaign_id == campaign_id)
    suggested = select(Suggestion.campaign_id).where(Suggestion.seller_id == seller_id,
                                                     Suggestion.campaign_id == campaign_id)
    return db.session.scalar(select(synced.exists() | suggested.exists()))


def latest_run(seller_id: int, kind: str) -> SuggestionRun | None:
    return db.session.scalar(select(SuggestionRun).where(SuggestionRun.seller_id == seller_id,
                                                         SuggestionRun.kind == kind)
                             .order_by(SuggestionRun.id.desc()).limit(1))


# What the campaign page shows per target: rejected and superseded suggestions are decisions already made or
# replaced, so a target's row falls back to the newest one that still says something about its bid.
SHOWN_INLINE = tuple(s for s in Status if s not in (REJECTED, SUPERSEDED))


def latest_suggestions_by_target(seller_id: int, profile_id: int, campaign_id: int) -> dict[int, Suggestion]:
    """Each target's (keyword's) newest bid suggestion of one campaign in a state worth showing, by target id:
    the campaign page shows it inline, from "pending" to "applied" or why it was not."""
    scope = (Suggestion.seller_id == seller_id, Suggestion.kind == Kind.BID, Suggestion.profile_id == profile_id,
             Suggestion.campaign_id == campaign_id, Suggestion.status.in_(SHOWN_INLINE))
    newest = select(func.max(Suggestion.id)).where(*scope).group_by(Suggestion.entity_id)
    return {s.entity_id: s for s in db.session.scalars(select(Suggestion).where(Suggestion.id.in_(newest)))}


_UNDER_WAY = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def apply_queued(seller_id: int) -> bool:
    """Whether the seller's "send approved bids" job is waiting, running or due to retry: its approved rows are
    on their way to Amazon rather than waiting for someone to send them."""
    job = jobs.queue("default").fetch_job(apply.job_id(seller_id))
    return job is not None and job.get_status(refresh=False) in _UNDER_WAY

