"""What the bid engine sees: one row per keyword/target with its performance over the look-back window.

The window leaves out the last 3 days because Amazon keeps attributing sales to recent clicks for days;
judging a bid on them would read every recent click as a click without a sale.

Clicks, orders and sales are also summed over a longer history (`history_start`: from the first Monday of the
last `HISTORY_DAYS`, what the sync backfills) as `history_*`: a keyword's conversion rate and order value don't
depend on its bid, so older data still counts as evidence for them, while cost, impressions and ACoS describe the
bids of the look-back window.

The bid each day's clicks were bought at comes from the bid history (`models.BidHistory`), never from the
reports' `keywordBid` (the bid at report time): `bid_clicks` = Σ clicks × bid in force, so the engine's CPC/bid
ratio compares each click's cost with the bid it was bought at. The last change (ours or the console's) and its
size come from the same history; a campaign's budget status from its daily spend against its budget.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import Float, and_, case, cast, false, func, or_, select, text, union_all

from marketing.clock import today
from marketing.extensions import db
from marketing.models import (
    AdsProfile,
    BidHistory,
    Connection,
    Product,
    SalesTrafficAsinDaily,
    SalesTrafficAsinWeekly,
    SpAdGroup,
    SpCampaign,
    SpCampaignDaily,
    SpProductAd,
    SpProductDaily,
    SpTarget,
    SpTargetDaily,
    SpTargetWeekly,
    Suggestion,
    SyncReport,
    SyncRun,
)
from marketing.models.facts import WEEKLY_DIALECTS, WEEKLY_METRICS, week_of
from marketing.models.suggestions import Kind
from marketing.models.sync import ACTIVE_RUN, ReportStatus
from marketing.optimize.margin import fees_per_unit
from marketing.optimize.settings import lookback_window
from marketing.promotions import history as promotion_history
from marketing.suggestions.lifecycle import APPLIED, UNDONE

ATTRIBUTION_LAG_DAYS = 3
HISTORY_DAYS = 90  # conversion evidence; the sync keeps ~93 days
PRICE_DAYS = 30  # observed selling prices, and the sales that weigh an ad group's products
BUDGET_DAYS = 7  # the days a campaign's budget status is judged on
_LIVE = "ENABLED"


def incomplete_profiles(seller_id: int, lookback_days: int, day: dt.date | None = None) -> dict[int, str]:
    """Profiles whose targeting data for the window has a hole, with why: the seller's last ended sync failed
    an spTargeting report that overlaps it (the next sync asks for exactly those reports again)."""
    start, end = lookback_window(day or today(), lookback_days, ATTRIBUTION_LAG_DAYS)
    last = select(func.max(SyncRun.id)).where(SyncRun.seller_id == seller_id, SyncRun.status.not_in(ACTIVE_RUN))
    failed = db.session.scalars(select(SyncReport).where(
        SyncReport.run_id == last.scalar_subquery(), SyncReport.status == ReportStatus.FAILED,
        SyncReport.report_type == "spTargeting", SyncReport.start_date <= end, SyncReport.end_date >= start))
    return {r.profile_id: f"its targeting data from {r.start_date} to {r.end_date} did not sync" for r in failed}


def load(seller_id: int, lookback_days: int, day: dt.date | None = None, *, budget_share: float = 0.95
         ) -> pd.DataFrame:
    """Per-target sums over the window (one grouped query) in the engine's input columns
    (`marketing.optimize.bids`), plus product prices and our last change dates.

    Paused targets are included: they inform the engine's priors but get no suggestion."""
    start, end = lookback_window(day or today(), lookback_days, ATTRIBUTION_LAG_DAYS)
    history_start = min(start, first_history_day(day or today()))
    profiles = list(db.session.scalars(select(SpTarget.profile_id).where(SpTarget.seller_id == seller_id)
                                       .distinct()))
    dialect = db.session.get_bind().dialect.name
    facts = _facts(profiles, history_start, start, end, weekly=dialect in WEEKLY_DIALECTS)

    def window(column):
        return func.sum(case((facts.c.day >= start, column), else_=0))

    # Summed per target first (a hash aggregate over ~13 weekly rows and the cut weeks' days per target), then
    # joined to the targets: joining the days first read each target's days through the index, one heap page a
    # day (~9M page reads for a 100,000-target seller).
    f = facts.c
    sums = (
        select(f.profile_id, f.target_id, window(f.impressions), window(f.clicks), window(f.cost), window(f.orders),
               window(f.sales), func.sum(f.clicks), func.sum(f.orders), func.sum(f.sales))
        .group_by(f.profile_id, f.target_id)
    ).subquery()
    query = (
        select(SpTarget.profile_id, SpTarget.target_id, SpTarget.kind, SpTarget.campaign_id, SpTarget.ad_group_id,
               SpTarget.text, cast(SpTarget.bid, Float), cast(SpAdGroup.default_bid, Float), SpTarget.state,
               SpAdGroup.state, SpCampaign.state, *(func.coalesce(column, 0) for column in list(sums.c)[2:]))
        .join(SpAdGroup, and_(SpAdGroup.profile_id == SpTarget.profile_id,
                              SpAdGroup.ad_group_id == SpTarget.ad_group_id))
        .join(SpCampaign, and_(SpCampaign.profile_id == SpTarget.profile_id,
                               SpCampaign.campaign_id == SpTarget.campaign_id))
        .outerjoin(sums, and_(sums.c.profile_id == SpTarget.profile_id, sums.c.target_id == SpTarget.target_id))
        .where(SpTarget.seller_id == seller_id, SpTarget.state != "ARCHIVED")
        .order_by(SpTarget.profile_id, SpTarget.target_id)
    )
    if dialect == "postgresql":  # the aggregate's ~1.5 KB a target stays in memory; JIT costs more than it saves
        db.session.execute(text("SET LOCAL work_mem = '256MB'"))
        db.session.execute(text("SET LOCAL jit = off"))
    columns = ["profile_id", "target_id", "kind", "campaign_id", "ad_group_id", "text", "current_bid",
               "ad_group_default_bid", "target_state", "ad_group_state", "campaign_state", "impressions", "clicks",
               "cost", "orders", "sales", "history_clicks", "history_orders", "history_sales"]
    # The driver's own tuples (every column is already an int, a float or text): the ORM's and Core's row objects
    # cost ~0.4 s for 100,000 targets, and pandas probes row objects for named fields (~1 s).
    with db.session.connection().execute(query) as result:
        frame = pd.DataFrame(result.cursor.fetchall(), columns=columns)
    counts = ("impressions", "clicks", "orders", "history_clicks", "history_orders")
    frame = frame.astype({c: float for c in ("current_bid", "ad_group_default_bid", "cost", "sales", "history_sales")}
                         | {c: "int64" for c in counts})
    live = (frame.pop("target_state") == _LIVE) & (frame.pop("ad_group_state") == _LIVE)
    frame["state"] = (live & (frame.pop("campaign_state") == _LIVE)).map({True: "enabled", False: "paused"})
    frame["manual"] = True  # every Sponsored Products keyword/target bid is the advertiser's own
    frame = frame.merge(_economics(seller_id, day or today()), on=["profile_id", "ad_group_id"], how="left")
    frame = frame.merge(_bid_clicks(seller_id, start, end), on=["profile_id", "target_id"], how="left")
    frame = frame.merge(_budget_days(seller_id, (day or today()) - dt.timedelta(days=1), budget_share),
                        on=["profile_id", "campaign_id"], how="left")
    return frame.merge(_last_changes(seller_id, end), on=["profile_id", "target_id"], how="left")


def first_history_day(day: dt.date) -> dt.date:
    """The history's first day: the first Monday of the last `HISTORY_DAYS` days (84 to 90 days back). It
    starts on a Monday so that it reads whole weeks of `sp_target_weekly`, not a partial week's days: a fifth of a
    large seller's rows."""
    first = lookback_window(day, HISTORY_DAYS, ATTRIBUTION_LAG_DAYS)[0]
    return first + dt.timedelta(days=-first.weekday() % 7)


def _facts(profiles: list[int], first: dt.date, cut: dt.date, last: dt.date, *, weekly: bool):
    """The profiles' targeting facts from `first` to `last` as (profile_id, target_id, day, metrics…) rows: weeks
    from `sp_target_weekly` where it is kept (`day` their Monday), except a week `cut` (the window's first day)
    falls inside, and every other day from `sp_target_daily`. A week lies wholly on one side of `cut`, so
    `day >= cut` tells the window's rows.

    A week only partly inside [first, last] (the history's first, the window's last) is read as its weekly row
    less its days outside, negated (`day` their own), where those are fewer than its days inside: the sums are
    the same, from about a third of the rows (one weekly row and a day, instead of six days)."""
    weeks, outside = [], []
    monday = week_of(first)
    while weekly and monday <= last:
        sunday = monday + dt.timedelta(days=6)
        inside = (min(sunday, last) - max(monday, first)).days + 1
        if not monday < cut <= sunday and 1 + (7 - inside) < inside:
            weeks.append(monday)
            outside += [day for day in _dates(monday, sunday) if not first <= day <= last]
        monday += dt.timedelta(days=7)
    covered = {week + dt.timedelta(days=k) for week in weeks for k in range(7)}
    d, w = SpTargetDaily, SpTargetWeekly
    parts = [select(d.profile_id, d.target_id, d.date.label("day"), *_metrics(d))
             .where(d.profile_id.in_(profiles), _days(d.date, [day for day in _dates(first, last)
                                                                  if day not in covered]))]
    if weeks:
        parts.append(select(w.profile_id, w.target_id, w.week_start.label("day"), *_metrics(w))
                     .where(w.profile_id.in_(profiles), w.week_start.in_(weeks)))
    if outside:
        parts.append(select(d.profile_id, d.target_id, d.date.label("day"), *_metrics(d, sign=-1))
                     .where(d.profile_id.in_(profiles), _days(d.date, outside)))
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()


def _dates(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def _days(column, days: list[dt.date]):
    """`column` on one of `days`, as date ranges (one per run of consecutive days; false for none)."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day - dt.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return or_(false(), *(column.between(a, b) for a, b in runs))


def _metrics(table, sign: int = 1) -> list:
    """The summed metrics (negated for `sign` -1), every one as a float: PostgreSQL sums floats fastest (its bigint
    and numeric sums keep wide states, which its parallel workers also serialise: ~30 % of a large seller's
    query), counts stay exact in a float far beyond any target's, and floats come back without a Decimal each."""
    columns = [cast(getattr(table, m), Float) for m in WEEKLY_METRICS]
    return [(column if sign > 0 else -column).label(m) for column, m in zip(columns, WEEKLY_METRICS, strict=True)]


def _bid_clicks(seller_id: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per target, Σ clicks × the bid in force that day over the window (NaN where the history has no bid):
    the bids the window's clicks were bought at. A target's first recorded bid counts for the days before it."""
    h = BidHistory
    spans = select(
        h.profile_id, h.target_id, h.bid, h.valid_from,
        func.lead(h.valid_from).over(partition_by=(h.profile_id, h.target_id), order_by=h.valid_from).label("until"),
        func.row_number().over(partition_by=(h.profile_id, h.target_id), order_by=h.valid_from).label("n"),
    ).where(h.seller_id == seller_id).subquery()
    d = SpTargetDaily
    query = (
        select(spans.c.profile_id, spans.c.target_id, func.sum(d.clicks * spans.c.bid))
        .join(d, and_(d.profile_id == spans.c.profile_id, d.target_id == spans.c.target_id,
                      d.date >= start, d.date <= end, or_(spans.c.n == 1, d.date >= spans.c.valid_from),
                      or_(spans.c.until.is_(None), d.date < spans.c.until)))
        .group_by(spans.c.profile_id, spans.c.target_id)
    )
    frame = pd.DataFrame(db.session.execute(query).all(), columns=["profile_id", "target_id", "bid_clicks"])
    return frame.astype({"profile_id": "int64", "target_id": "int64", "bid_clicks": float})


def _budget_days(seller_id: int, end: dt.date, share: float) -> pd.DataFrame:
    """Per campaign with a budget, over the last `BUDGET_DAYS` days to `end` (yesterday: spend, unlike sales, is
    not attributed later, so the latest days count at once): the days with data (`budget_days`), those on which it
    spent at least `share` of its budget (`budget_capped_days`), its daily budget (`campaign_budget`) and its mean
    daily spend on those days (`campaign_spend`). Budgets are today's (the structure sync keeps no budget history)."""
    c, d = SpCampaign, SpCampaignDaily
    start = end - dt.timedelta(days=BUDGET_DAYS - 1)
    capped = case((d.cost >= c.budget * share, 1), else_=0)
    rows = db.session.execute(
        select(d.profile_id, d.campaign_id, func.count(), func.sum(capped), c.budget, func.avg(d.cost))
        .join(c, and_(c.profile_id == d.profile_id, c.campaign_id == d.campaign_id))
        .where(c.seller_id == seller_id, c.budget > 0, d.date >= start, d.date <= end)
        .group_by(d.profile_id, d.campaign_id, c.budget)
    ).all()
    frame = pd.DataFrame(rows, columns=["profile_id", "campaign_id", "budget_days", "budget_capped_days",
                                        "campaign_budget", "campaign_spend"])
    return frame.astype({"profile_id": "int64", "campaign_id": "int64", "budget_days": float,
                         "budget_capped_days": float, "campaign_budget": float, "campaign_spend": float})


class Sold(NamedTuple):
    """What an advertised ASIN sold in one profile's marketplace over the last `PRICE_DAYS` days."""

    profile_id: int
    asin: str
    currency: str | None
    units: int
    sales: Decimal
    source: str  # "sales_traffic" | "ads"
    price: Decimal | None  # what it sold for: over the window, else (none sold) when it last sold (history)


def product_sales(seller_id: int, day: dt.date | None = None) -> list[Sold]:
    """Per advertising profile and advertised ASIN, its units and sales in the `PRICE_DAYS` days before `day`.

    From the Sales & Traffic by-ASIN history (every sale in the profile's marketplace, not only the ads') where
    it knows the ASIN (Seller Central connected, the history pulled), else from the ads' own attributed sales.
    An ASIN the history knows that sold nothing in the window (out of stock, say) does not fall back to ad
    sales: its price is what it sold for before, in the daily history, else the weekly one (up to a year back).
    The window is the whole `PRICE_DAYS`, so a deal or a stock-out in the last days no longer decides it."""
    end = (day or today()) - dt.timedelta(days=1)
    start = end - dt.timedelta(days=PRICE_DAYS - 1)
    oldest = end - dt.timedelta(days=365)
    advertised = db.session.execute(
        select(SpProductAd.profile_id, SpProductAd.asin).distinct()
        .where(SpProductAd.seller_id == seller_id, SpProductAd.asin.is_not(None), SpProductAd.state != "ARCHIVED")
    ).all()
    profiles = {pid: (currency, market) for pid, currency, market in db.session.execute(
        select(AdsProfile.profile_id, AdsProfile.currency_code, AdsProfile.marketplace_id)
        .join(Connection, Connection.id == AdsProfile.connection_id).where(Connection.seller_id == seller_id))}
    s, w = SalesTrafficAsinDaily, SalesTrafficAsinWeekly
    store = {(market, asin): (sales, units) for market, asin, sales, units in db.session.execute(
        select(s.marketplace_id, s.asin, func.sum(s.ordered_sales), func.sum(s.units_ordered))
        .where(s.seller_id == seller_id, s.date >= start, s.date <= end).group_by(s.marketplace_id, s.asin))}
    before: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for table, column in ((w, w.week_start), (s, s.date)):  # the daily history wins over the weekly one
        before.update({(market, asin): (sales, units) for market, asin, sales, units in db.session.execute(
            select(table.marketplace_id, table.asin, func.sum(table.ordered_sales), func.sum(table.units_ordered))
            .where(table.seller_id == seller_id, column >= oldest, column < start, table.units_ordered > 0)
            .group_by(table.marketplace_id, table.asin))})
    a = SpProductDaily
    ads = {(pid, asin): (sales, units) for pid, asin, sales, units in db.session.execute(
        select(a.profile_id, a.asin, func.sum(a.sales), func.sum(a.units))
        .where(a.profile_id.in_({pid for pid, _ in advertised}), a.date >= start, a.date <= end)
        .group_by(a.profile_id, a.asin))}
    rows = []
    for pid, asin in advertised:
        currency, market = profiles.get(pid, (None, None))
        key = (market, asin)
        if key in store or key in before:
            (sales, units), source = store.get(key, (None, 0)), "sales_traffic"
            old_sales, old_units = before.get(key, (None, 0))
        else:
            (sales, units), source = ads.get((pid, asin), (None, 0)), "ads"
            old_sales, old_units = None, 0
        price = Decimal(sales) / units if units else Decimal(old_sales) / old_units if old_units else None
        rows.append(Sold(pid, asin, currency, int(units or 0), Decimal(sales or 0), source, price))
    return rows


def _economics(seller_id: int, day: dt.date) -> pd.DataFrame:
    """Price, unit cost and fees (referral + FBA, `optimize.margin.fees_per_unit`) per ad group, from the ASINs
    it advertises.

    An ASIN's price is the one the seller entered, else what it sold for (`product_sales`: the price the
    engine falls back on for order value); its unit cost is the seller's. A price or cost entered in another
    currency than the profile's is not used. An ad group with several ASINs (usually it has one) gets
    averages weighted by each ASIN's sales — a click most likely buys the best seller — or simple averages
    when none sold; and a unit cost only when every priced ASIN has one, since a margin from part of the
    group would cap bids on a guess. An ASIN with a promotion running on `day` (`promotions.history.in_force`)
    is priced at its promoted price, and the ad group's `promotion` names it (the suggestion says so)."""
    products = {p.asin: p for p in db.session.scalars(
        select(Product).where(Product.seller_id == seller_id, Product.archived.is_(False)))}
    sold = {(s.profile_id, s.asin): s for s in product_sales(seller_id, day)}
    ads = db.session.execute(
        select(SpProductAd.profile_id, SpProductAd.ad_group_id, SpProductAd.asin).distinct()
        .where(SpProductAd.seller_id == seller_id, SpProductAd.asin.is_not(None), SpProductAd.state != "ARCHIVED")
    ).all()
    running = promotion_history.in_force(seller_id, day)
    groups: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    notes: dict[tuple[int, int], list[str]] = {}
    for pid, ad_group_id, asin in ads:
        seen, product = sold[(pid, asin)], products.get(asin)
        if product is not None and product.currency_code not in (None, seen.currency):
            product = None
        price = product.price if product is not None and product.price else seen.price
        if price and asin in running:  # a sale during a coupon or deal earns the promoted price
            price = running[asin].net_price(Decimal(price))
            notes.setdefault((pid, ad_group_id), []).append(f"{asin}'s {running[asin].describe(seen.currency)}")
        if price:
            cost = np.nan if product is None or product.unit_cost is None else float(product.unit_cost)
            fees = 0.0 if product is None else fees_per_unit(price, product.referral_fee_pct, product.fba_fee)
            groups.setdefault((pid, ad_group_id), []).append((float(price), cost, float(seen.sales), fees))
    rows = []
    for (pid, ad_group_id), items in groups.items():
        prices, costs, weights, fees = (np.array(column) for column in zip(*items, strict=True))
        weights = weights if weights.sum() > 0 else np.ones(len(items))
        rows.append((pid, ad_group_id, np.average(prices, weights=weights), np.average(costs, weights=weights),
                     np.average(fees, weights=weights), "; ".join(notes.get((pid, ad_group_id), [])) or None))
    frame = pd.DataFrame(rows, columns=["profile_id", "ad_group_id", "price", "unit_cost", "fees", "promotion"])
    return frame.astype({"profile_id": "int64", "ad_group_id": "int64", "price": float, "unit_cost": float,
                         "fees": float, "promotion": object})


def _last_changes(seller_id: int, end: dt.date) -> pd.DataFrame:
    """Each target's last bid change (ours or the console's, from the bid history; applies recorded before the
    history existed count by their date) and its evidence: the bid before and after, and clicks, cost, orders
    and sales per day over up to `CHANGE_DAYS` days before the change and from it to the window's end."""
    h = BidHistory
    ranked = select(
        h.profile_id, h.target_id, h.valid_from, h.bid,
        func.lag(h.bid).over(partition_by=(h.profile_id, h.target_id), order_by=h.valid_from).label("previous"),
        func.row_number().over(partition_by=(h.profile_id, h.target_id), order_by=h.valid_from.desc()).label("k"),
    ).where(h.seller_id == seller_id).subquery()
    last = (select(ranked.c.profile_id, ranked.c.target_id, ranked.c.valid_from, ranked.c.previous, ranked.c.bid)
            .where(ranked.c.k == 1, ranked.c.previous.is_not(None)))
    changes = pd.DataFrame(db.session.execute(last).all(),
                           columns=["profile_id", "target_id", "last_change_date", "bid_before", "bid_after"])
    applied = pd.DataFrame(db.session.execute(
        select(Suggestion.profile_id, Suggestion.entity_id, func.max(Suggestion.changed_on))
        .where(Suggestion.seller_id == seller_id, Suggestion.kind == Kind.BID,
               Suggestion.status.in_((APPLIED, UNDONE)))
        .group_by(Suggestion.profile_id, Suggestion.entity_id)
    ).all(), columns=["profile_id", "target_id", "applied_date"])
    changes = changes.merge(applied, on=["profile_id", "target_id"], how="outer")
    changes["last_change_date"] = pd.to_datetime(changes["last_change_date"]).fillna(
        pd.to_datetime(changes.pop("applied_date")))
    for column in ("bid_before", "bid_after"):
        changes[column] = changes[column].astype(float)
    return changes.astype({"profile_id": "int64", "target_id": "int64"}).merge(
        _around_changes(seller_id, changes, end), on=["profile_id", "target_id"], how="left")


CHANGE_DAYS = 14  # days before a change its effect is measured against (and most days after it that count)


def _around_changes(seller_id: int, changes: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    """Per target with a change in the last `HISTORY_DAYS` days: clicks, cost, orders and sales summed over the
    `CHANGE_DAYS` days before it and from it to `end` (`before_*`, `after_*`), with the days counted."""
    columns = ["profile_id", "target_id"] + [f"{w}_{m}" for w in ("before", "after")
                                             for m in ("days", "clicks", "cost", "orders", "sales")]
    recent = changes[changes["last_change_date"] >= pd.Timestamp(end - dt.timedelta(days=HISTORY_DAYS))]
    if recent.empty:
        return pd.DataFrame(columns=columns).astype({"profile_id": "int64", "target_id": "int64"})
    d = SpTargetDaily
    first = recent["last_change_date"].min().date() - dt.timedelta(days=CHANGE_DAYS)
    daily = pd.DataFrame(db.session.execute(
        select(d.profile_id, d.target_id, d.date, d.clicks, d.cost, d.orders, d.sales)
        .where(d.profile_id.in_(recent["profile_id"].unique().tolist()), d.date >= first, d.date <= end,
               d.target_id.in_(recent["target_id"].unique().tolist()))
    ).all(), columns=["profile_id", "target_id", "date", "clicks", "cost", "orders", "sales"])
    daily = daily.astype({"cost": float, "sales": float, "clicks": float, "orders": float})
    daily["date"] = pd.to_datetime(daily["date"])
    daily = daily.merge(recent[["profile_id", "target_id", "last_change_date"]], on=["profile_id", "target_id"])
    lag = (daily["date"] - daily["last_change_date"]).dt.days
    out = recent[["profile_id", "target_id", "last_change_date"]].copy()
    span_end = pd.Timestamp(end)
    out["before_days"] = float(CHANGE_DAYS)
    out["after_days"] = ((span_end - out["last_change_date"]).dt.days + 1).clip(lower=0).astype(float)
    for window, rows in (("before", daily[(lag < 0) & (lag >= -CHANGE_DAYS)]), ("after", daily[lag >= 0])):
        sums = rows.groupby(["profile_id", "target_id"])[["clicks", "cost", "orders", "sales"]].sum()
        sums.columns = [f"{window}_{m}" for m in sums.columns]
        out = out.merge(sums.reset_index(), on=["profile_id", "target_id"], how="left")
    out = out.merge(_controls(recent, end), on=["profile_id", "last_change_date"], how="left")
    out = out.drop(columns="last_change_date").fillna({c: 0.0 for c in columns[2:]})
    return out[columns + [c for c in out.columns if c.startswith("control_")]]


def _controls(recent: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    """Per profile and change date L, the untouched targets' (no bid change from L − `CHANGE_DAYS` on) clicks,
    cost and sales per day after L ÷ per day before it: the market's own drift over the same days, for a
    difference-in-differences (`control_clicks`, `control_cost`, `control_sales`)."""
    d, h = SpTargetDaily, BidHistory
    rows = []
    for (profile_id, day), _ in recent.groupby(["profile_id", "last_change_date"]):
        first = (day - pd.Timedelta(days=CHANGE_DAYS)).date()
        ranked = select(h.target_id, h.valid_from, func.row_number().over(
            partition_by=h.target_id, order_by=h.valid_from).label("n")).where(h.profile_id == profile_id).subquery()
        touched = select(ranked.c.target_id).where(ranked.c.n > 1, ranked.c.valid_from >= first)
        after = d.date >= day.date()
        metrics = (d.clicks, d.cost, d.sales)
        sums = db.session.execute(
            select(*(func.coalesce(func.sum(case((after, column), else_=0)), 0) for column in metrics),
                   *(func.coalesce(func.sum(case((after, 0), else_=column)), 0) for column in metrics))
            .where(d.profile_id == int(profile_id), d.date >= first, d.date <= end, d.target_id.not_in(touched))
        ).one()
        days_after, days_before = max((end - day.date()).days + 1, 1), CHANGE_DAYS
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = [(float(a) / days_after) / (float(b) / days_before) if float(b) > 0 else np.nan
                      for a, b in zip(sums[:3], sums[3:], strict=True)]
        rows.append((int(profile_id), day, *ratios))
    return pd.DataFrame(rows, columns=["profile_id", "last_change_date", "control_clicks", "control_cost",
                                       "control_sales"]).astype({"profile_id": "int64"})
