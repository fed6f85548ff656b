"""Read queries behind the dashboard pages, each returning summed rows ready to format.

Money is only ever summed within one currency: seller-wide results are keyed by (seller id, currency).
Ratios are derived after summing (see `metrics.Metrics`). Lists that pair structure with facts include
entities known from either side, because a report may mention an entity before the structure sync has.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from math import ceil

from sqlalchemy import and_, case, func, literal, null, select, union
from sqlalchemy.orm import aliased

from marketing.dashboard import cache
from marketing.dashboard.metrics import Metrics
from marketing.dashboard.periods import Period
from marketing.extensions import db
from marketing.models import (
    AdsProfile,
    AuditEvent,
    Connection,
    ProfileDaily,
    SalesTrafficDaily,
    SpAdGroup,
    SpCampaign,
    SpCampaignDaily,
    SpSearchTermDaily,
    SpTarget,
    SpTargetDaily,
    Suggestion,
    SyncRun,
)
from marketing.suggestions.lifecycle import PENDING

METRIC_COLUMNS = ("impressions", "clicks", "cost", "orders", "units", "sales")
Key = tuple[int, str]  # (seller id, currency code)


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


@dataclass(frozen=True)
class Listing:
    """How a table is asked for: sort key and direction, filters and page (already validated)."""

    sort: str = "cost"
    descending: bool = True
    page: int = 1
    per_page: int = 50
    state: str | None = None
    search: str | None = None


NO_SALES_ACOS = 10**6  # the ACoS sort key of spend without sales: above any real ratio


def _sums(table) -> list:
    return [func.sum(getattr(table, m)).label(m) for m in METRIC_COLUMNS]


def _sort_columns(sub) -> dict:
    """Sortable metric expressions over an aggregated subquery (ratios with empty denominators sort last, except
    that spend without any sales is the worst ACoS there is: it sorts above every finite one)."""
    return {
        "cost": sub.c.cost, "sales": sub.c.sales, "orders": sub.c.orders, "clicks": sub.c.clicks,
        "impressions": sub.c.impressions,
        "acos": case((sub.c.sales > 0, sub.c.cost / sub.c.sales), (sub.c.cost > 0, literal(NO_SALES_ACOS)),
                     else_=null()),
        "roas": sub.c.sales / func.nullif(sub.c.cost, 0),
        "cpc": sub.c.cost / func.nullif(sub.c.clicks, 0),
    }


def _order(expression, descending: bool):
    return (expression.desc() if descending else expression.asc()).nulls_last()


def _paged(query, listing: Listing, order_by: list) -> Page:
    """One page of `query`; the total comes from a window count in the same query (one pass, not two)."""
    def fetch(page: int) -> list:
        return db.session.execute(
            query.add_columns(func.count().over().label("_total")).order_by(*order_by)
            .limit(listing.per_page).offset((page - 1) * listing.per_page)).all()

    rows = fetch(max(listing.page, 1))
    if rows:
        return Page(rows, rows[0]._total, max(listing.page, 1), listing.per_page)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    last = max(1, ceil(total / listing.per_page))
    return Page(fetch(last) if total else [], total, last, listing.per_page)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- profiles and sync state -------------------------------------------------------------------------------

def managed_profiles(seller_ids) -> dict[int, list[AdsProfile]]:
    """Each seller's managed advertising profiles (the only ones the dashboard shows)."""
    rows = db.session.execute(
        select(Connection.seller_id, AdsProfile)
        .join(Connection, Connection.id == AdsProfile.connection_id)
        .where(Connection.seller_id.in_(list(seller_ids)), Connection.api == "ads", AdsProfile.managed)
        .order_by(AdsProfile.country_code, AdsProfile.profile_id)
    ).all()
    result: dict[int, list[AdsProfile]] = defaultdict(list)
    for seller_id, profile in rows:
        result[seller_id].append(profile)
    return result


def latest_sync_runs(seller_ids) -> dict[int, SyncRun]:
    latest = select(func.max(SyncRun.id)).where(SyncRun.seller_id.in_(list(seller_ids))).group_by(SyncRun.seller_id)
    return {run.seller_id: run for run in db.session.scalars(select(SyncRun).where(SyncRun.id.in_(latest)))}


def pending_suggestion_counts(seller_ids) -> dict[int, int]:
    """How many bid suggestions wait for a decision, per seller."""
    return dict(db.session.execute(
        select(Suggestion.seller_id, func.count()).where(Suggestion.seller_id.in_(list(seller_ids)),
                                                         Suggestion.status == PENDING)
        .group_by(Suggestion.seller_id)).all())


def _managed_scope(profile_id: int | None = None):
    query = (
        select(Connection.seller_id, AdsProfile.profile_id, AdsProfile.marketplace_id)
        .join(Connection, Connection.id == AdsProfile.connection_id)
        .where(Connection.api == "ads", AdsProfile.managed)
    )
    if profile_id is not None:
        query = query.where(AdsProfile.profile_id == profile_id)
    return query.subquery()


# --- seller-wide totals and trends (from the rollup) ------------------------------------------------------

def _rollup(seller_ids, period: Period, profile_id: int | None, by_seller: bool, by_date: bool) -> dict:
    """Ad metrics, and Seller Central sales with the ad cost of the days they cover, keyed by
    ([seller id,] currency[, date])."""
    r, st, scope = ProfileDaily, SalesTrafficDaily, _managed_scope(profile_id)
    ids = list(seller_ids)
    in_scope = and_(scope.c.seller_id == r.seller_id, scope.c.profile_id == r.profile_id)
    ad_keys = ([r.seller_id] if by_seller else []) + [r.currency_code] + ([r.date] if by_date else [])
    # Sales & Traffic has at most one row per seller, marketplace and day, so the outer join adds no rows.
    covered = and_(st.seller_id == r.seller_id, st.marketplace_id == scope.c.marketplace_id, st.date == r.date)
    ads = db.session.execute(
        select(*ad_keys, *_sums(r), func.sum(case((st.date.is_not(None), r.cost))).label("covered_cost"))
        .join(scope, in_scope).outerjoin(st, covered)
        .where(r.seller_id.in_(ids), r.date.between(period.start, period.end)).group_by(*ad_keys)).all()
    st_keys = ([st.seller_id] if by_seller else []) + [st.currency_code] + ([st.date] if by_date else [])
    markets = select(scope.c.seller_id, scope.c.marketplace_id).distinct().subquery()
    sales = {tuple(row[:-1]): row[-1] for row in db.session.execute(
        select(*st_keys, func.sum(st.ordered_sales))
        .join(markets, and_(markets.c.seller_id == st.seller_id, markets.c.marketplace_id == st.marketplace_id))
        .where(st.seller_id.in_(ids), st.date.between(period.start, period.end)).group_by(*st_keys))}
    result = {}
    for row in ads:
        key = tuple(row[:len(ad_keys)])
        total = sales.get(key)
        result[key] = Metrics.from_row(row, total_sales=total,
                                       tacos_cost=(row.covered_cost or Decimal(0)) if total is not None else None)
    for key, total in sales.items():
        result.setdefault(key, Metrics(total_sales=total, tacos_cost=Decimal(0)))
    return result


def totals(seller_ids, period: Period, profile_id: int | None = None) -> dict[Key, Metrics]:
    """Period totals per (seller, currency) over managed profiles (or just `profile_id`); each seller's are
    remembered at its data version."""
    def read(ids: list[int]) -> dict[int, dict[Key, Metrics]]:
        by_seller: dict[int, dict[Key, Metrics]] = defaultdict(dict)
        for key, metrics in _rollup(ids, period, profile_id, by_seller=True, by_date=False).items():
            by_seller[key[0]][key] = metrics
        return by_seller

    remembered = cache.per_seller(("totals", period, profile_id), seller_ids, read, {})
    return {key: metrics for found in remembered.values() for key, metrics in found.items()}


def daily(seller_ids, period: Period, profile_id: int | None = None) -> dict[str, list[tuple[dt.date, Metrics]]]:
    """Every day of the period per currency, summed over the sellers (days without rows as zeros), for trends;
    remembered at the sellers' data versions."""
    ids = list(seller_ids)
    key = ("daily", period, profile_id, tuple(sorted(cache.versions(ids).items())))
    by_day = cache.remember(key, lambda: _rollup(ids, period, profile_id, by_seller=False, by_date=True))
    currencies = sorted({currency for currency, _ in by_day})
    return {c: [(d, by_day.get((c, d), Metrics())) for d in period.dates()] for c in currencies}


# --- campaigns ----------------------------------------------------------------------------------------------

def _campaign_facts(profile_id: int, period: Period, campaign_id: int | None = None):
    f = SpCampaignDaily
    query = (select(f.campaign_id, *_sums(f), func.max(f.campaign_name).label("fact_name"),
                    func.max(f.campaign_status).label("fact_state"))
             .where(f.profile_id == profile_id, f.date.between(period.start, period.end)).group_by(f.campaign_id))
    if campaign_id is not None:
        query = query.where(f.campaign_id == campaign_id)
    return query.subquery()


CAMPAIGN_SORTS = ("name", "state", "cost", "sales", "acos", "roas", "orders", "clicks", "cpc", "impressions")


def campaigns(profile_id: int, period: Period, listing: Listing) -> Page:
    """One profile's campaigns with their period metrics: filtered by state and name, sorted, one page."""
    agg = _campaign_facts(profile_id, period)
    ids = union(select(SpCampaign.campaign_id).where(SpCampaign.profile_id == profile_id),
                select(agg.c.campaign_id)).subquery()
    c = aliased(SpCampaign)
    name = func.coalesce(c.name, agg.c.fact_name, "")
    state = func.lower(func.coalesce(c.state, agg.c.fact_state, "unknown"))
    query = (
        select(ids.c.campaign_id, name.label("name"), state.label("state"), c.targeting_type, c.budget,
               *(func.coalesce(getattr(agg.c, m), 0).label(m) for m in METRIC_COLUMNS))
        .select_from(ids)
        .outerjoin(c, and_(c.profile_id == profile_id, c.campaign_id == ids.c.campaign_id))
        .outerjoin(agg, agg.c.campaign_id == ids.c.campaign_id)
    )
    if listing.state:
        query = query.where(state == listing.state)
    if listing.search:
        query = query.where(name.ilike(_like(listing.search), escape="\\"))
    sorts = {**_sort_columns(agg), "name": func.lower(name), "state": state}
    page = _paged(query, listing, [_order(sorts[listing.sort], listing.descending), ids.c.campaign_id])
    return Page([_row_with_metrics(row) for row in page.items], page.total, page.page, page.per_page)


@dataclass(frozen=True)
class Row:
    """A table row: its identity and attributes (`info`) and its period metrics."""

    id: int
    info: dict
    metrics: Metrics


def _row_with_metrics(row, id_field: str = "campaign_id") -> Row:
    data = row._asdict()
    return Row(data.pop(id_field), {k: v for k, v in data.items() if k not in METRIC_COLUMNS and k != "_total"},
               Metrics.from_row(row))


def campaign_states(profile_id: int) -> list[str]:
    return list(db.session.scalars(select(func.lower(SpCampaign.state)).where(
        SpCampaign.profile_id == profile_id).distinct().order_by(func.lower(SpCampaign.state))))


@dataclass(frozen=True)
class CampaignInfo:
    campaign_id: int
    name: str
    state: str
    targeting_type: str | None = None
    budget: Decimal | None = None


def campaign(seller_id: int, profile_id: int, campaign_id: int) -> CampaignInfo | None:
    """The campaign from the structure sync, else from its latest report row; None if unknown to this profile."""
    c = db.session.get(SpCampaign, {"profile_id": profile_id, "campaign_id": campaign_id})
    if c is not None and c.seller_id == seller_id:
        return CampaignInfo(c.campaign_id, c.name, c.state.lower(), c.targeting_type, c.budget)
    f = db.session.execute(
        select(SpCampaignDaily.campaign_name, SpCampaignDaily.campaign_status)
        .where(SpCampaignDaily.profile_id == profile_id, SpCampaignDaily.campaign_id == campaign_id)
        .order_by(SpCampaignDaily.date.desc()).limit(1)).first()
    if f is None:
        return None
    return CampaignInfo(campaign_id, f.campaign_name or str(campaign_id), (f.campaign_status or "unknown").lower())


def campaign_daily(profile_id: int, campaign_id: int, period: Period) -> list[tuple[dt.date, Metrics]]:
    f = SpCampaignDaily
    rows = {row.date: Metrics.from_row(row) for row in db.session.execute(
        select(f.date, *_sums(f)).where(f.profile_id == profile_id, f.campaign_id == campaign_id,
                                        f.date.between(period.start, period.end)).group_by(f.date))}
    return [(d, rows.get(d, Metrics())) for d in period.dates()]


def campaign_names(profile_id: int, campaign_ids) -> dict[int, str]:
    ids = list(campaign_ids)
    names = dict(db.session.execute(select(SpCampaign.campaign_id, SpCampaign.name).where(
        SpCampaign.profile_id == profile_id, SpCampaign.campaign_id.in_(ids))).all())
    missing = [i for i in ids if i not in names]
    if missing:
        names.update(db.session.execute(
            select(SpCampaignDaily.campaign_id, func.max(SpCampaignDaily.campaign_name))
            .where(SpCampaignDaily.profile_id == profile_id, SpCampaignDaily.campaign_id.in_(missing))
            .group_by(SpCampaignDaily.campaign_id)).all())
    return names


# --- ad groups and targets ----------------------------------------------------------------------------------

def _target_facts(profile_id: int, campaign_id: int, period: Period, group_by):
    f = SpTargetDaily
    return (select(group_by(f), *_sums(f))
            .where(f.profile_id == profile_id, f.campaign_id == campaign_id,
                   f.date.between(period.start, period.end))
            .group_by(group_by(f)).subquery())


def ad_groups(profile_id: int, campaign_id: int, period: Period) -> list[Row]:
    """The campaign's ad groups with default bids and the period metrics of their targets."""
    agg = _target_facts(profile_id, campaign_id, period, lambda f: f.ad_group_id)
    ids = union(select(SpAdGroup.ad_group_id).where(SpAdGroup.profile_id == profile_id,
                                                    SpAdGroup.campaign_id == campaign_id),
                select(agg.c.ad_group_id)).subquery()
    g = aliased(SpAdGroup)
    rows = db.session.execute(
        select(ids.c.ad_group_id, func.coalesce(g.name, "").label("name"),
               func.lower(func.coalesce(g.state, "unknown")).label("state"), g.default_bid,
               *(func.coalesce(getattr(agg.c, m), 0).label(m) for m in METRIC_COLUMNS))
        .select_from(ids)
        .outerjoin(g, and_(g.profile_id == profile_id, g.ad_group_id == ids.c.ad_group_id))
        .outerjoin(agg, agg.c.ad_group_id == ids.c.ad_group_id)
        .order_by(agg.c.cost.desc().nulls_last(), ids.c.ad_group_id)).all()
    return [_row_with_metrics(row, "ad_group_id") for row in rows]


TARGET_SORTS = ("text", "cost", "sales", "acos", "roas", "orders", "clicks", "cpc", "impressions", "bid")


def targets(profile_id: int, campaign_id: int, period: Period, listing: Listing) -> Page:
    """The campaign's keywords and targets with their current bid (the ad group's default when inherited)."""
    agg = _target_facts(profile_id, campaign_id, period, lambda f: f.target_id)
    ids = union(select(SpTarget.target_id).where(SpTarget.profile_id == profile_id,
                                                  SpTarget.campaign_id == campaign_id),
                select(agg.c.target_id)).subquery()
    t, g = aliased(SpTarget), aliased(SpAdGroup)
    text = func.coalesce(t.text, "")
    bid = func.coalesce(t.bid, g.default_bid)
    query = (
        select(ids.c.target_id, text.label("text"), t.kind, t.match_type, t.ad_group_id,
               g.name.label("ad_group"), func.lower(func.coalesce(t.state, "unknown")).label("state"),
               bid.label("bid"), and_(t.bid.is_(None), g.default_bid.is_not(None)).label("inherited"),
               *(func.coalesce(getattr(agg.c, m), 0).label(m) for m in METRIC_COLUMNS))
        .select_from(ids)
        .outerjoin(t, and_(t.profile_id == profile_id, t.target_id == ids.c.target_id))
        .outerjoin(g, and_(g.profile_id == profile_id, g.ad_group_id == t.ad_group_id))
        .outerjoin(agg, agg.c.target_id == ids.c.target_id)
    )
    if listing.search:
        query = query.where(text.ilike(_like(listing.search), escape="\\"))
    sorts = {**_sort_columns(agg), "text": func.lower(text), "bid": bid}
    page = _paged(query, listing, [_order(sorts[listing.sort], listing.descending), ids.c.target_id])
    return Page([_row_with_metrics(row, "target_id") for row in page.items], page.total, page.page, page.per_page)


@dataclass(frozen=True)
class TargetInfo:
    target_id: int
    campaign_id: int
    ad_group_id: int
    text: str
    kind: str | None
    match_type: str | None
    state: str
    bid: Decimal | None
    inherited: bool


def target(seller_id: int, profile_id: int, target_id: int) -> TargetInfo | None:
    """The keyword/target from the structure sync, else from its latest report row; None if unknown."""
    t = db.session.get(SpTarget, {"profile_id": profile_id, "target_id": target_id})
    if t is not None and t.seller_id == seller_id:
        group = db.session.get(SpAdGroup, {"profile_id": profile_id, "ad_group_id": t.ad_group_id})
        bid = t.bid if t.bid is not None else (group.default_bid if group else None)
        return TargetInfo(t.target_id, t.campaign_id, t.ad_group_id, t.text, t.kind, t.match_type, t.state.lower(),
                          bid, t.bid is None and bid is not None)
    f = db.session.execute(
        select(SpTargetDaily).where(SpTargetDaily.profile_id == profile_id, SpTargetDaily.target_id == target_id)
        .order_by(SpTargetDaily.date.desc()).limit(1)).scalar()
    if f is None:
        return None
    return TargetInfo(target_id, f.campaign_id, f.ad_group_id, str(target_id), None, f.match_type, "unknown",
                      f.keyword_bid, False)


@dataclass(frozen=True)
class TargetDay:
    date: dt.date
    bid: Decimal | None
    metrics: Metrics


def target_daily(profile_id: int, target_id: int, period: Period) -> list[TargetDay]:
    """Each day's bid (as reported) and metrics; days without a report row have no bid."""
    f = SpTargetDaily
    rows = {row.date: row for row in db.session.execute(
        select(f.date, func.max(f.keyword_bid).label("bid"), *_sums(f))
        .where(f.profile_id == profile_id, f.target_id == target_id, f.date.between(period.start, period.end))
        .group_by(f.date))}
    return [TargetDay(d, rows[d].bid, Metrics.from_row(rows[d])) if d in rows else TargetDay(d, None, Metrics())
            for d in period.dates()]


@dataclass(frozen=True)
class BidChange:
    at: dt.datetime
    action: str
    actor: str | None
    old_bid: Decimal | None
    new_bid: Decimal | None


def bid_changes(seller_id: int, target_id: int, since: dt.datetime,
                before: dt.datetime | None = None) -> list[BidChange]:
    """Applied changes to this target from the audit log (any action starting with "bid."), in [since, before)."""
    query = select(AuditEvent).where(AuditEvent.seller_id == seller_id, AuditEvent.action.like("bid.%"),
                                     AuditEvent.target_id == str(target_id), AuditEvent.at >= since)
    if before is not None:
        query = query.where(AuditEvent.at < before)
    events = db.session.scalars(query.order_by(AuditEvent.at))
    return [BidChange(e.at, e.action, e.actor_email, _decimal(e.details, "old_bid", "old"),
                      _decimal(e.details, "new_bid", "bid", "new")) for e in events]


def _decimal(details: dict, *keys) -> Decimal | None:
    for key in keys:
        try:
            return Decimal(str(details[key]))
        except (KeyError, ArithmeticError, ValueError, TypeError):
            continue
    return None


# --- search terms -------------------------------------------------------------------------------------------

SEARCH_TERM_SORTS = ("search_term", "cost", "sales", "acos", "orders", "clicks", "cpc", "impressions")


def search_terms(profile_id: int, period: Period, listing: Listing, campaign_id: int | None = None) -> Page:
    """Customer search terms per campaign over the period, summed over the targets that matched them; a page is
    remembered at the seller's data version."""
    key = ("search_terms", profile_id, cache.profile_version(profile_id), period, listing, campaign_id)
    return cache.remember(key, lambda: _search_terms(profile_id, period, listing, campaign_id))


def _search_terms(profile_id: int, period: Period, listing: Listing, campaign_id: int | None) -> Page:
    f = SpSearchTermDaily
    query = (select(f.campaign_id, f.search_term, *_sums(f))
             .where(f.profile_id == profile_id, f.date.between(period.start, period.end))
             .group_by(f.campaign_id, f.search_term))
    if campaign_id is not None:
        query = query.where(f.campaign_id == campaign_id)
    if listing.search:
        query = query.where(f.search_term.ilike(_like(listing.search), escape="\\"))
    sub = query.subquery()
    sorts = {**_sort_columns(sub), "search_term": sub.c.search_term}
    page = _paged(select(sub), listing, [_order(sorts[listing.sort], listing.descending), sub.c.search_term])
    names = campaign_names(profile_id, {row.campaign_id for row in page.items})
    items = [Row(row.campaign_id, {"search_term": row.search_term, "campaign": names.get(row.campaign_id)},
                 Metrics.from_row(row)) for row in page.items]
    return Page(items, page.total, page.page, page.per_page)
