"""What the bid engine sees: one row per keyword/target with its performance over the look-back window.

The window leaves out the last 3 days because Amazon keeps attributing sales to recent clicks for days;
judging a bid on them would read every recent click as a click without a sale.

Clicks, orders and sales are also summed over a longer history (`HISTORY_DAYS`, what the sync backfills)
as `history_*`: a keyword's conversion rate and order value don't depend on its bid, so older data still
counts as evidence for them, while cost, impressions and ACoS describe the bids of the look-back window.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, func, select

from marketing.clock import today
from marketing.extensions import db
from marketing.models import (
    AdsProfile,
    Connection,
    Product,
    SalesTrafficAsinDaily,
    SpAdGroup,
    SpCampaign,
    SpProductAd,
    SpProductDaily,
    SpTarget,
    SpTargetDaily,
    Suggestion,
    SyncReport,
    SyncRun,
)
from marketing.models.suggestions import Kind
from marketing.models.sync import ACTIVE_RUN, ReportStatus
from marketing.optimize.settings import lookback_window
from marketing.suggestions.lifecycle import APPLIED, UNDONE

ATTRIBUTION_LAG_DAYS = 3
HISTORY_DAYS = 90  # conversion evidence; the sync keeps ~93 days
PRICE_DAYS = 30  # observed selling prices, and the sales that weigh an ad group's products
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


def load(seller_id: int, lookback_days: int, day: dt.date | None = None) -> pd.DataFrame:
    """Per-target sums over the window (one grouped query) in the engine's input columns
    (`marketing.optimize.bids`), plus product prices and our last change dates.

    Paused targets are included: they inform the engine's priors but get no suggestion."""
    start, end = lookback_window(day or today(), lookback_days, ATTRIBUTION_LAG_DAYS)
    history_start = min(start, lookback_window(day or today(), HISTORY_DAYS, ATTRIBUTION_LAG_DAYS)[0])
    d = SpTargetDaily
    facts = and_(d.profile_id == SpTarget.profile_id, d.target_id == SpTarget.target_id, d.date >= history_start,
                 d.date <= end)

    def window(column):
        return func.coalesce(func.sum(case((d.date >= start, column), else_=0)), 0)

    def history(column):
        return func.coalesce(func.sum(column), 0)

    query = (
        select(SpTarget.profile_id, SpTarget.target_id, SpTarget.kind, SpTarget.campaign_id, SpTarget.ad_group_id,
               SpTarget.text, SpTarget.bid, SpAdGroup.default_bid, SpTarget.state, SpAdGroup.state,
               SpCampaign.state, window(d.impressions), window(d.clicks), window(d.cost), window(d.orders),
               window(d.sales), history(d.clicks), history(d.orders), history(d.sales))
        .join(SpAdGroup, and_(SpAdGroup.profile_id == SpTarget.profile_id,
                              SpAdGroup.ad_group_id == SpTarget.ad_group_id))
        .join(SpCampaign, and_(SpCampaign.profile_id == SpTarget.profile_id,
                               SpCampaign.campaign_id == SpTarget.campaign_id))
        .outerjoin(d, facts)
        .where(SpTarget.seller_id == seller_id, SpTarget.state != "ARCHIVED")
        .group_by(SpTarget.profile_id, SpTarget.target_id, SpTarget.kind, SpTarget.campaign_id,
                  SpTarget.ad_group_id, SpTarget.text, SpTarget.bid, SpAdGroup.default_bid, SpTarget.state,
                  SpAdGroup.state, SpCampaign.state)
    )
    columns = ["profile_id", "target_id", "kind", "campaign_id", "ad_group_id", "text", "current_bid",
               "ad_group_default_bid", "target_state", "ad_group_state", "campaign_state", "impressions", "clicks",
               "cost", "orders", "sales", "history_clicks", "history_orders", "history_sales"]
    frame = pd.DataFrame(db.session.execute(query).all(), columns=columns)
    live = (frame.pop("target_state") == _LIVE) & (frame.pop("ad_group_state") == _LIVE)
    frame["state"] = (live & (frame.pop("campaign_state") == _LIVE)).map({True: "enabled", False: "paused"})
    frame["manual"] = True  # every Sponsored Products keyword/target bid is the advertiser's own
    for column in ("current_bid", "ad_group_default_bid", "cost", "sales", "history_sales"):
        frame[column] = frame[column].astype(float)
    frame = frame.merge(_economics(seller_id, day or today()), on=["profile_id", "ad_group_id"], how="left")
    return frame.merge(_last_changes(seller_id), on=["profile_id", "target_id"], how="left")


class Sold(NamedTuple):
    """What an advertised ASIN sold in one profile's marketplace over the last `PRICE_DAYS` days."""

    profile_id: int
    asin: str
    currency: str | None
    units: int
    sales: Decimal
    source: str  # "sales_traffic" | "ads"


def product_sales(seller_id: int, day: dt.date | None = None) -> list[Sold]:
    """Per advertising profile and advertised ASIN, its units and sales in the days before `day`.

    From Sales & Traffic by ASIN (every sale in the profile's marketplace, not only the ads') where Seller
    Central is connected and the ASIN sold, else from the ads' own attributed sales."""
    end = (day or today()) - dt.timedelta(days=1)
    start = end - dt.timedelta(days=PRICE_DAYS - 1)
    advertised = db.session.execute(
        select(SpProductAd.profile_id, SpProductAd.asin).distinct()
        .where(SpProductAd.seller_id == seller_id, SpProductAd.asin.is_not(None), SpProductAd.state != "ARCHIVED")
    ).all()
    profiles = {pid: (currency, market) for pid, currency, market in db.session.execute(
        select(AdsProfile.profile_id, AdsProfile.currency_code, AdsProfile.marketplace_id)
        .join(Connection, Connection.id == AdsProfile.connection_id).where(Connection.seller_id == seller_id))}
    s = SalesTrafficAsinDaily
    store = {(market, asin): (sales, units) for market, asin, sales, units in db.session.execute(
        select(s.marketplace_id, s.asin, func.sum(s.ordered_sales), func.sum(s.units_ordered))
        .where(s.seller_id == seller_id, s.date >= start, s.date <= end).group_by(s.marketplace_id, s.asin))}
    a = SpProductDaily
    ads = {(pid, asin): (sales, units) for pid, asin, sales, units in db.session.execute(
        select(a.profile_id, a.asin, func.sum(a.sales), func.sum(a.units))
        .where(a.profile_id.in_({pid for pid, _ in advertised}), a.date >= start, a.date <= end)
        .group_by(a.profile_id, a.asin))}
    rows = []
    for pid, asin in advertised:
        currency, market = profiles.get(pid, (None, None))
        (sales, units), source = store.get((market, asin), (None, 0)), "sales_traffic"
        if not units:
            (sales, units), source = ads.get((pid, asin), (None, 0)), "ads"
        rows.append(Sold(pid, asin, currency, int(units or 0), Decimal(sales or 0), source))
    return rows


def _economics(seller_id: int, day: dt.date) -> pd.DataFrame:
    """Price and unit cost per ad group, from the ASINs it advertises.

    An ASIN's price is the one the seller entered, else what it sold for (`product_sales`: the price the
    engine falls back on for order value); its unit cost is the seller's. A price or cost entered in another
    currency than the profile's is not used. An ad group with several ASINs (usually it has one) gets
    averages weighted by each ASIN's sales — a click most likely buys the best seller — or simple averages
    when none sold; and a unit cost only when every priced ASIN has one, since a margin from part of the
    group would cap bids on a guess."""
    products = {p.asin: p for p in db.session.scalars(
        select(Product).where(Product.seller_id == seller_id, Product.archived.is_(False)))}
    sold = {(s.profile_id, s.asin): s for s in product_sales(seller_id, day)}
    ads = db.session.execute(
        select(SpProductAd.profile_id, SpProductAd.ad_group_id, SpProductAd.asin).distinct()
        .where(SpProductAd.seller_id == seller_id, SpProductAd.asin.is_not(None), SpProductAd.state != "ARCHIVED")
    ).all()
    groups: dict[tuple[int, int], list[tuple[float, float, float]]] = {}
    for pid, ad_group_id, asin in ads:
        seen, product = sold[(pid, asin)], products.get(asin)
        if product is not None and product.currency_code not in (None, seen.currency):
            product = None
        price = product.price if product is not None and product.price else None
        if price is None and seen.units:
            price = seen.sales / seen.units
        if price:
            cost = np.nan if product is None or product.unit_cost is None else float(product.unit_cost)
            groups.setdefault((pid, ad_group_id), []).append((float(price), cost, float(seen.sales)))
    rows = []
    for (pid, ad_group_id), items in groups.items():
        prices, costs, weights = (np.array(column) for column in zip(*items, strict=True))
        weights = weights if weights.sum() > 0 else np.ones(len(items))
        rows.append((pid, ad_group_id, np.average(prices, weights=weights), np.average(costs, weights=weights)))
    frame = pd.DataFrame(rows, columns=["profile_id", "ad_group_id", "price", "unit_cost"])
    return frame.astype({"profile_id": "int64", "ad_group_id": "int64", "price": float, "unit_cost": float})


def _last_changes(seller_id: int) -> pd.DataFrame:
    """When we last changed each bid (for the cooldown); changes made in Amazon's console are not known."""
    rows = db.session.execute(
        select(Suggestion.profile_id, Suggestion.entity_id, func.max(Suggestion.changed_on))
        .where(Suggestion.seller_id == seller_id, Suggestion.kind == Kind.BID,
               Suggestion.status.in_((APPLIED, UNDONE)))
        .group_by(Suggestion.profile_id, Suggestion.entity_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["profile_id", "target_id", "last_change_date"])
    return frame
