"""What the bid engine sees: one row per keyword/target with its performance over the look-back window.

The window leaves out the last 3 days because Amazon keeps attributing sales to recent clicks for days;
judging a bid on them would read every recent click as a click without a sale.

Clicks, orders and sales are also summed over a longer history (`HISTORY_DAYS`, what the sync backfills)
as `history_*`: a keyword's conversion rate and order value don't depend on its bid, so older data still
counts as evidence for them, while cost, impressions and ACoS describe the bids of the look-back window.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, case, func, select

from marketing.clock import today
from marketing.extensions import db
from marketing.models import Product, SpAdGroup, SpCampaign, SpProductAd, SpTarget, SpTargetDaily, Suggestion
from marketing.optimize.settings import lookback_window
from marketing.suggestions.lifecycle import APPLIED, UNDONE

ATTRIBUTION_LAG_DAYS = 3
HISTORY_DAYS = 90  # conversion evidence; the sync keeps ~93 days
_LIVE = "ENABLED"


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
    frame = frame.merge(_economics(seller_id), on=["profile_id", "ad_group_id"], how="left")
    return frame.merge(_last_changes(seller_id), on=["profile_id", "target_id"], how="left")


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
    frame = pd.DataFrame(rows, columns=["profile_id", "target_id", "last_change_date"])
    return frame
