"""A seller's week, computed once per seller and ISO week and stored (`EmailSellerWeek`) for every recipient.

Per managed profile (one currency each; money is never summed across currencies): the week and the week
before (spend, ad sales, ACoS, ROAS, TACoS where Seller Central sales are synced, orders), the week by day,
the top movers and the worst campaigns by ACoS. Built on the dashboard's queries. A profile whose Sunday is
not stored yet makes the figures incomplete; they are recomputed as soon as more days are stored (and at
least every `RECOMPUTE_AFTER`) until complete.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketing.clock import now
from marketing.dashboard import queries
from marketing.dashboard.metrics import Metrics
from marketing.digest.weeks import Week
from marketing.extensions import db
from marketing.models import EmailSellerWeek, ProfileDaily, Seller

TOP = 5
MIN_CAMPAIGN_SPEND = Decimal(10)  # in the profile's currency
RECOMPUTE_AFTER = dt.timedelta(minutes=30)
_CAMPAIGNS = queries.Listing(sort="cost", descending=True, per_page=2000)
_FIELDS = ("impressions", "clicks", "cost", "orders", "units", "sales", "total_sales", "tacos_cost")


def dump_metrics(m: Metrics) -> dict:
    return {f: None if (v := getattr(m, f)) is None else str(v) for f in _FIELDS}


def load_metrics(data: dict | None) -> Metrics:
    if not data:
        return Metrics()
    value = {f: data.get(f) for f in _FIELDS}
    return Metrics(
        impressions=int(value["impressions"] or 0), clicks=int(value["clicks"] or 0),
        cost=Decimal(value["cost"] or 0), orders=int(value["orders"] or 0), units=int(value["units"] or 0),
        sales=Decimal(value["sales"] or 0),
        total_sales=None if value["total_sales"] is None else Decimal(value["total_sales"]),
        tacos_cost=None if value["tacos_cost"] is None else Decimal(value["tacos_cost"]))


def for_sellers(sellers: list[Seller], week: Week) -> dict[int, EmailSellerWeek]:
    """Each seller's stored figures for `week`, computing the missing or stale ones (one query when cached)."""
    rows = {row.seller_id: row for row in db.session.scalars(
        select(EmailSellerWeek).where(EmailSellerWeek.week == week.label,
                                      EmailSellerWeek.seller_id.in_([s.id for s in sellers])))}
    advanced = _advanced([row for row in rows.values() if not row.complete])
    for seller in sellers:
        row = rows.get(seller.id)
        if row is None or (not row.complete and (seller.id in advanced or now() - row.computed_at > RECOMPUTE_AFTER)):
            rows[seller.id] = store(seller, week, row)
    return rows


def _advanced(incomplete: list[EmailSellerWeek]) -> set[int]:
    """Sellers among `incomplete` with days stored since their figures were computed (one query)."""
    profiles = [(row.seller_id, p) for row in incomplete for p in row.figures["profiles"] if not p["complete"]]
    through = _stored_through([p["profile_id"] for _, p in profiles])
    return {seller_id for seller_id, p in profiles if through.get(p["profile_id"]) is not None and (
        p["data_through"] is None or through[p["profile_id"]] > dt.date.fromisoformat(p["data_through"]))}


def store(seller: Seller, week: Week, row: EmailSellerWeek | None = None) -> EmailSellerWeek:
    figures, complete = compute(seller, week)
    if row is None:
        try:
            with db.session.begin_nested():
                row = EmailSellerWeek(seller_id=seller.id, week=week.label, figures=figures, complete=complete)
                db.session.add(row)
        except IntegrityError:  # another worker stored it meanwhile
            row = db.session.get(EmailSellerWeek, (seller.id, week.label), populate_existing=True)
            return row
    else:
        row.figures, row.complete, row.computed_at = figures, complete, now()
    db.session.commit()
    return row


def compute(seller: Seller, week: Week) -> tuple[dict, bool]:
    previous = week.previous()
    profiles = queries.managed_profiles([seller.id]).get(seller.id, [])
    stored_through = _stored_through([p.profile_id for p in profiles])
    result = []
    for profile in profiles:
        pid = profile.profile_id
        now_totals = _one(queries.totals([seller.id], week.period, pid))
        before = _one(queries.totals([seller.id], previous.period, pid))
        days = queries.daily([seller.id], week.period, pid).get(profile.currency_code) or [
            (d, Metrics()) for d in week.period.dates()]
        through = stored_through.get(pid)
        result.append({
            "profile_id": pid, "country": profile.country_code, "currency": profile.currency_code,
            "timezone": profile.timezone,
            "data_through": through.isoformat() if through else None,
            "complete": through is not None and through >= week.sunday,
            "current": dump_metrics(now_totals), "previous": dump_metrics(before),
            "days": [[d.isoformat(), str(m.cost), str(m.sales)] for d, m in days],
            **_campaigns(pid, week, previous),
        })
    complete = all(p["complete"] for p in result)
    return {"seller": seller.name, "week": week.label, "profiles": result}, complete


def _one(totals: dict) -> Metrics:
    """A single profile's totals (one currency); empty when it had no activity."""
    return next(iter(totals.values()), Metrics())


def _stored_through(profile_ids: list[int]) -> dict[int, dt.date]:
    """The last day the dashboard's rollup holds for each profile (its data is synced up to there)."""
    if not profile_ids:
        return {}
    return dict(db.session.execute(select(ProfileDaily.profile_id, func.max(ProfileDaily.date))
                                   .where(ProfileDaily.profile_id.in_(profile_ids))
                                   .group_by(ProfileDaily.profile_id)).all())


def _campaigns(profile_id: int, week: Week, previous: Week) -> dict:
    """Top movers (largest change in ad sales, then spend) and worst ACoS, among campaigns spending ≥ 10."""
    current = {row.id: row for row in queries.campaigns(profile_id, week.period, _CAMPAIGNS).items}
    before = {row.id: row for row in queries.campaigns(profile_id, previous.period, _CAMPAIGNS).items}

    def entry(cid):
        row, old = current.get(cid), before.get(cid)
        name = (row or old).info["name"]
        m, p = (row.metrics if row else Metrics()), (old.metrics if old else Metrics())
        return {"name": name, "now": dump_metrics(m), "before": dump_metrics(p)}

    spending = [cid for cid in current.keys() | before.keys()
                if max(current[cid].metrics.cost if cid in current else 0,
                       before[cid].metrics.cost if cid in before else 0) >= MIN_CAMPAIGN_SPEND]

    def movement(cid):
        m = current[cid].metrics if cid in current else Metrics()
        p = before[cid].metrics if cid in before else Metrics()
        return (abs(m.sales - p.sales), abs(m.cost - p.cost), -cid)

    movers = sorted(spending, key=movement, reverse=True)[:TOP]
    worst_pool = [cid for cid in current if current[cid].metrics.cost >= MIN_CAMPAIGN_SPEND]
    worst = sorted(worst_pool, key=lambda cid: (_acos_key(current[cid].metrics), current[cid].metrics.cost),
                   reverse=True)[:TOP]
    return {"movers": [entry(c) for c in movers], "worst": [entry(c) for c in worst]}


def _acos_key(m: Metrics) -> Decimal:
    """Spend without sales is the worst ACoS there is."""
    return m.acos if m.acos is not None else Decimal(queries.NO_SALES_ACOS)
