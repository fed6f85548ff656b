"""What pages ask about suggestions, filtered, sorted and paged in SQL (templates do no arithmetic).

The review page's URL is a contract (the weekly email links to it): `/sellers/<id>/suggestions` with the query
parameters `kind`, `status`, `campaign`, `reason`, `direction`, `min_change` (percent), `sort`, `page` and
`per_page` (25, 50, 100 or 200); the page reads them into `Filters` and `Filters.args` writes them back. Two more
belong to the page only: `view=campaigns` (the group view) and `bulk=<job id>` (a bulk decision's progress).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields, replace
from decimal import Decimal

from rq.job import JobStatus
from sqlalchemy import Select, func, literal_column, select, text

from marketing import jobs
from marketing.amazon.hosts import marketplace
from marketing.bids import apply
from marketing.extensions import db
from marketing.models import SpCampaign, Suggestion, SuggestionRun
from marketing.models.suggestions import CHANGE_RANK, SALES_RANK, SPEND_RANK, Kind
from marketing.suggestions.bulk import JobView, job_state
from marketing.suggestions.lifecycle import PENDING, REJECTED, Status

PER_PAGE = 50
PER_PAGE_CHOICES = (25, 50, 100, 200)

_VALUE = func.coalesce(Suggestion.approved_value, Suggestion.proposed_value)

# Each sort is an ORDER BY over columns of `ix_suggestions_review_campaign` (`review_page`); the id breaks ties so
# paging never shows a row twice or skips one.
SORTS = {
    "change": ("largest change", (literal_column(CHANGE_RANK).desc(),)),
    "spend": ("spend effect", (literal_column(SPEND_RANK).desc(),)),
    "sales": ("sales effect", (literal_column(SALES_RANK).desc(),)),
    "campaign": ("campaign", (Suggestion.campaign_id,)),
    "bid": ("current bid", (Suggestion.current_value.desc(),)),
}


_ARG_NAMES = {"campaign_id": "campaign", "min_change_pct": "min_change"}  # query parameters named otherwise


@dataclass(frozen=True)
class Filters:
    kind: str | None = None  # None: every kind
    status: str = PENDING
    campaign_id: int | None = None
    reason: str | None = None
    direction: str | None = None  # up | down
    min_change_pct: Decimal | None = None  # |change| at least this many percent
    sort: str = "change"
    page: int = 1
    per_page: int = PER_PAGE

    def args(self, **changes) -> dict[str, str]:
        """These filters (with `changes`) as query parameters, leaving out the defaults: for links and forms."""
        chosen = replace(self, **changes) if changes else self
        return {_ARG_NAMES.get(f.name, f.name): str(value) for f in fields(Filters)
                if (value := getattr(chosen, f.name)) is not None and value != f.default}


def _where(query: Select, filters: Filters, seller_id: int, *, skip: tuple[str, ...] = ()) -> Select:
    query = query.where(Suggestion.seller_id == seller_id)
    if filters.kind:
        query = query.where(Suggestion.kind == filters.kind)
    if filters.status and "status" not in skip:
        query = query.where(Suggestion.status == filters.status)
    if filters.campaign_id is not None:
        query = query.where(Suggestion.campaign_id == filters.campaign_id)
    if filters.reason and "reason" not in skip:
        query = query.where(Suggestion.reason == filters.reason)
    if filters.direction:
        query = query.where(Suggestion.direction == filters.direction)
    if filters.min_change_pct is not None:
        change = func.abs(_VALUE - Suggestion.current_value)
        query = query.where(change * 100 >= Suggestion.current_value * filters.min_change_pct)
    return query


def review_page(seller_id: int, filters: Filters, total: int):
    """One page of the seller's suggestions matching `filters`, in the chosen order (`db.paginate`: items,
    total, pages; `total` comes from `summary`, so no second count); a page past the end shows nothing.

    The page's ids are found first, from the review index alone (every filter and order reads only its columns:
    an index-only scan on PostgreSQL), then only those rows are read whole: sorting whole rows (~1 KB each, with
    their inputs and explanation) read every matching row from the table."""
    if db.session.get_bind().dialect.name == "postgresql":  # a deep page's sort of 100,000 ids stays in memory
        db.session.execute(text("SET LOCAL work_mem = '16MB'"))
    ids = _where(select(Suggestion.id), filters, seller_id).order_by(*SORTS[filters.sort][1], Suggestion.id)
    page = db.paginate(ids, page=filters.page, per_page=filters.per_page, error_out=False, count=False)
    rows = {row.id: row for row in db.session.scalars(select(Suggestion).where(Suggestion.id.in_(page.items)))}
    page.items = [rows[i] for i in page.items if i in rows]  # a run that replaced some in between: they are gone
    page.total = total
    return page


def matching_ids(seller_id: int, filters: Filters) -> list[int]:
    """Every id matching `filters` now: what "all N matching" acts on."""
    return list(db.session.scalars(_where(select(Suggestion.id), filters, seller_id).order_by(Suggestion.id)))


@dataclass(frozen=True)
class Totals:
    """Expected change per day of what is filtered, in one currency."""

    currency: str
    spend: Decimal
    sales: Decimal
    rows: int


@dataclass(frozen=True)
class Summary:
    """What the filter bar and the totals line show, from one grouped query over the seller's suggestions."""

    counts: dict[str, int]  # per status, with the filters other than status and reason
    reasons: list[tuple[str, int]]  # per reason, within the chosen status
    kinds: list[str]  # the kinds the seller has
    totals: list[Totals]  # per currency, of everything matching
    matched: int


def summary(seller_id: int, filters: Filters) -> Summary:
    """Counts per status and reason, the kinds present and the expected change per day per currency (sums across
    currencies would mean nothing) of what matches `filters`: one scan, grouped by kind, status, reason and
    marketplace, then folded here."""
    query = _where(select(Suggestion.kind, Suggestion.status, Suggestion.reason, Suggestion.marketplace,
                          func.count(), func.sum(Suggestion.expected_spend_delta),
                          func.sum(Suggestion.expected_sales_delta)),
                   replace(filters, kind=None), seller_id, skip=("status", "reason"))
    counts: dict[str, int] = defaultdict(int)
    reasons: dict[str, int] = defaultdict(int)
    money: dict[str, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    kinds = set()
    for kind, status, reason, market, n, spend, sales in db.session.execute(
            query.group_by(Suggestion.kind, Suggestion.status, Suggestion.reason, Suggestion.marketplace)):
        kinds.add(kind)
        if filters.kind and kind != filters.kind:
            continue
        counts[status] += n
        if status != filters.status:
            continue
        reasons[reason] += n
        if filters.reason and reason != filters.reason:
            continue
        entry = money[_currency(market)]
        entry[0] += Decimal(spend or 0)
        entry[1] += Decimal(sales or 0)
        entry[2] += n
    totals = [Totals(c, spend.quantize(Decimal("0.01")), sales.quantize(Decimal("0.01")), n)
              for c, (spend, sales, n) in sorted(money.items())]
    return Summary(dict(counts), sorted(reasons.items()), sorted(kinds), totals, sum(t.rows for t in totals))


def _currency(marketplace_id: str | None) -> str:
    try:
        return marketplace(marketplace_id).currency if marketplace_id else "?"
    except KeyError:
        return "?"


def campaign_names(seller_id: int, campaign_ids) -> dict[int, str]:
    """Names of the campaigns on one page (a seller may have thousands; only those shown are looked up)."""
    wanted = sorted({c for c in campaign_ids if c is not None})
    if not wanted:
        return {}
    return dict(db.session.execute(
        select(SpCampaign.campaign_id, SpCampaign.name)
        .where(SpCampaign.seller_id == seller_id, SpCampaign.campaign_id.in_(wanted))
    ).all())


@dataclass(frozen=True)
class CampaignGroup:
    campaign_id: int | None
    name: str
    count: int
    spend: Decimal
    sales: Decimal


def campaign_groups(seller_id: int, filters: Filters) -> tuple[list[CampaignGroup], int]:
    """The suggestions matching `filters` grouped by campaign, most suggestions first, one page of groups;
    and how many campaigns there are."""
    groups = func.count().over()  # how many campaigns match, on every row of the page: one scan, not two
    rows = db.session.execute(
        _where(select(Suggestion.campaign_id, func.count(), func.sum(Suggestion.expected_spend_delta),
                      func.sum(Suggestion.expected_sales_delta), groups), filters, seller_id)
        .group_by(Suggestion.campaign_id).order_by(func.count().desc(), Suggestion.campaign_id)
        .limit(filters.per_page).offset((filters.page - 1) * filters.per_page)).all()
    total = rows[0][4] if rows else _group_count(seller_id, filters) if filters.page > 1 else 0
    names = campaign_names(seller_id, [r[0] for r in rows])
    return [CampaignGroup(cid, names.get(cid) or str(cid), n, Decimal(spend or 0), Decimal(sales or 0))
            for cid, n, spend, sales, _ in rows], total


def _group_count(seller_id: int, filters: Filters) -> int:
    """How many campaigns match (for a page past the last one, which has no row to carry the count)."""
    base = _where(select(Suggestion.campaign_id), filters, seller_id).group_by(Suggestion.campaign_id)
    return db.session.scalar(select(func.count()).select_from(base.subquery())) or 0


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


def count(seller_id: int, kind: str, status: str) -> int:
    return db.session.scalar(select(func.count()).where(Suggestion.seller_id == seller_id, Suggestion.kind == kind,
                                                        Suggestion.status == status)) or 0


# What the campaign page shows per target: a rejected suggestion is a decision already made, so a target's row falls
# back to the newest one that still says something about its bid.
SHOWN_INLINE = tuple(s for s in Status if s != REJECTED)


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


def apply_progress(seller_id: int) -> JobView | None:
    """The seller's "send approved bids" job while it is under way, with how many have had Amazon's answer."""
    job = jobs.queue("default").fetch_job(apply.job_id(seller_id))
    if job is None:
        return None
    meta = job.get_meta(refresh=False)
    view = JobView(job.id, job_state(job), meta.get("done", 0), meta.get("total", 0), "")
    return view if view.running else None
