"""What the bid engine sees: one row per live keyword/target with its performance over the look-back window.

The window ends 3 days before today because Amazon keeps attributing sales to recent clicks for days; judging
a bid on them would read every recent click as a click without a sale.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, func, select

from marketing.clock import today
from marketing.extensions import db
from marketing.models import Product, SpAdGroup, SpCampaign, SpProductAd, SpTarget, SpTargetDaily, Suggestion
from marketing.suggestions.lifecycle import APPLIED, UNDONE

ATTRIBUTION_LAG_DAYS = 3
COLUMNS = (
    "profile_id", "target_id", "kind", "campaign_id", "ad_group_id", "text", "match_type", "bid", "inherited",
    "impressions", "clicks", "cost", "orders", "units", "sales", "days",
)


def window(lookback_days: int, day: dt.date | None = None) -> tuple[dt.date, dt.date]:
    end = (day or today()) - dt.timedelta(days=ATTRIBUTION_LAG_DAYS)
    return end - dt.timedelta(days=lookback_days - 1), end


def load(seller_id: int, lookback_days: int) -> pd.DataFrame:
    """Per-target sums over the window (one grouped query), plus product economics and last change dates."""
    start, end = window(lookback_days)
    d = SpTargetDaily
    facts = and_(d.profile_id == SpTarget.profile_id, d.target_id == SpTarget.target_id, d.date >= start,
                 d.date <= end)
    query = (
        select(SpTarget.profile_id, SpTarget.target_id, SpTarget.kind, SpTarget.campaign_id, SpTarget.ad_group_id,
               SpTarget.text, SpTarget.match_type, func.coalesce(SpTarget.bid, SpAdGroup.default_bid).label("bid"),
               SpTarget.bid.is_(None).label("inherited"),
               func.coalesce(func.sum(d.impressions), 0), func.coalesce(func.sum(d.clicks), 0),
               func.coalesce(func.sum(d.cost), 0), func.coalesce(func.sum(d.orders), 0),
               func.coalesce(func.sum(d.units), 0), func.coalesce(func.sum(d.sales), 0),
               func.count(func.distinct(d.date)))
        .join(SpAdGroup, and_(SpAdGroup.profile_id == SpTarget.profile_id,
                              SpAdGroup.ad_group_id == SpTarget.ad_group_id))
        .join(SpCampaign, and_(SpCampaign.profile_id == SpTarget.profile_id,
                               SpCampaign.campaign_id == SpTarget.campaign_id))
        .outerjoin(d, facts)
        .where(SpTarget.seller_id == seller_id, SpTarget.state == "ENABLED", SpAdGroup.state == "ENABLED",
               SpCampaign.state == "ENABLED")
        .group_by(SpTarget.profile_id, SpTarget.target_id, SpTarget.kind, SpTarget.campaign_id,
                  SpTarget.ad_group_id, SpTarget.text, SpTarget.match_type, SpTarget.bid, SpAdGroup.default_bid)
    )
    frame = pd.DataFrame(db.session.execute(query).all(), columns=list(COLUMNS))
    for column in ("bid", "cost", "sales"):
        frame[column] = frame[column].astype(float)
    frame["inherited"] = frame["inherited"].astype(bool)
    frame = frame.merge(_economics(seller_id), on=["profile_id", "ad_group_id"], how="left")
    frame = frame.merge(_last_changes(seller_id), on=["profile_id", "target_id"], how="left")
    return frame


def _economics(seller_id: int) -> pd.DataFrame:
    """Average price and unit cost of the products an ad group advertises, where the seller entered them."""
    rows = db.session.execute(
        select(SpProductAd.profile_id, SpProductAd.ad_group_id, func.avg(Product.price), func.avg(Product.unit_cost))
        .join(Product, and_(Product.seller_id == SpProductAd.seller_id, Product.asin == SpProductAd.asin))
        .where(SpProductAd.seller_id == seller_id, SpProductAd.state != "ARCHIVED")
        .group_by(SpProductAd.profile_id, SpProductAd.ad_group_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["profile_id", "ad_group_id", "price", "unit_cost"])
    return frame.astype({"price": float, "unit_cost": float})


def _last_changes(seller_id: int) -> pd.DataFrame:
    """When we last changed each bid (for the cooldown); changes made in Amazon's console are not known."""
    rows = db.session.execute(
        select(Suggestion.profile_id, Suggestion.entity_id, func.max(Suggestion.changed_on))
        .where(Suggestion.seller_id == seller_id, Suggestion.kind == "bid",
               Suggestion.status.in_((APPLIED, UNDONE)))
        .group_by(Suggestion.profile_id, Suggestion.entity_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["profile_id", "target_id", "last_changed"])
    return frame
