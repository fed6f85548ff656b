"""Structure sync: a profile's campaigns, ad groups, keywords, targets and product ads, upserted by Amazon id.

Everything is listed with ARCHIVED included, so archived entities stay in the tables, marked by `state`.
Amazon's v3 ids are strings; they become integers here, once. A keyword or target without its own bid keeps
`bid` NULL: it inherits its ad group's default bid, resolved when read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketing.amazon.ads import AdsClient
from marketing.amazon.errors import MalformedResponse
from marketing.bids import history
from marketing.clock import now
from marketing.models import SpAdGroup, SpCampaign, SpProductAd, SpTarget

STATES = ("ENABLED", "PAUSED", "ARCHIVED")
BATCH = 1000


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def campaign_row(item: dict) -> dict:
    budget = item.get("budget") or {}
    bidding = item.get("dynamicBidding") or {}
    return {
        "campaign_id": int(item["campaignId"]),
        "name": item.get("name") or "",
        "state": item["state"],
        "targeting_type": item.get("targetingType") or "MANUAL",
        "budget": _money(budget.get("budget")),
        "budget_type": budget.get("budgetType"),
        "bidding_strategy": bidding.get("strategy"),
        "placement_adjustments": {p["placement"]: p["percentage"] for p in bidding.get("placementBidding") or []},
        "start_date": _day(item.get("startDate")),
        "end_date": _day(item.get("endDate")),
    }


def ad_group_row(item: dict) -> dict:
    return {
        "ad_group_id": int(item["adGroupId"]),
        "campaign_id": int(item["campaignId"]),
        "name": item.get("name") or "",
        "state": item["state"],
        "default_bid": _money(item["defaultBid"]),
    }


def keyword_row(item: dict) -> dict:
    return {
        "target_id": int(item["keywordId"]),
        "kind": "keyword",
        "campaign_id": int(item["campaignId"]),
        "ad_group_id": int(item["adGroupId"]),
        "text": item.get("keywordText") or "",
        "match_type": item.get("matchType"),
        "expression": None,
        "state": item["state"],
        "bid": _money(item.get("bid")),
    }


def expression_text(expression: list[dict]) -> str:
    """`asinSameAs="B0…"`-style rendering, the way Amazon's console shows a targeting expression."""
    parts = []
    for clause in expression:
        words = clause["type"].lower().split("_")
        name = words[0] + "".join(w.title() for w in words[1:])
        parts.append(f'{name}="{clause["value"]}"' if clause.get("value") is not None else name)
    return " ".join(parts)


def target_row(item: dict) -> dict:
    expression = item.get("resolvedExpression") or item.get("expression") or []
    return {
        "target_id": int(item["targetId"]),
        "kind": "target",
        "campaign_id": int(item["campaignId"]),
        "ad_group_id": int(item["adGroupId"]),
        "text": expression_text(expression),
        "match_type": item.get("expressionType"),
        "expression": expression,
        "state": item["state"],
        "bid": _money(item.get("bid")),
    }


def product_ad_row(item: dict) -> dict:
    return {
        "ad_id": int(item["adId"]),
        "campaign_id": int(item["campaignId"]),
        "ad_group_id": int(item["adGroupId"]),
        "asin": item.get("asin"),
        "sku": item.get("sku"),
        "state": item["state"],
    }


# Amazon's list kind → (model, row builder)
KINDS = (
    ("campaigns", SpCampaign, campaign_row),
    ("adGroups", SpAdGroup, ad_group_row),
    ("keywords", SpTarget, keyword_row),
    ("targets", SpTarget, target_row),
    ("productAds", SpProductAd, product_ad_row),
)


def _rows(items: Iterable[dict], build, kind: str) -> Iterator[dict]:
    for item in items:
        try:
            yield build(item)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponse(f"Amazon listed a {kind} entity we cannot read ({type(exc).__name__}: {exc})") \
                from exc


def upsert(session: Session, model, rows: list[dict]) -> None:
    """Insert or update by primary key (PostgreSQL and SQLite both speak ON CONFLICT); one cached statement,
    executed for many rows."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    keys = [c.name for c in model.__table__.primary_key.columns]
    statement = insert(model)
    updates = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def sync_profile(session: Session, client: AdsClient, *, profile_id: int, seller_id: int) -> int:
    """List every entity of the profile and upsert it; returns how many entities were seen.

    Nothing is committed here: the caller commits once the whole profile is read, so a listing cut short by
    Amazon leaves the previous structure as it was. Bids that differ from the bid history are recorded there.
    """
    seen = 0
    stamp = now()
    for kind, model, build in KINDS:
        batch: list[dict] = []
        for row in _rows(client.iter_entities(profile_id, kind, state_filter=STATES), build, kind):
            batch.append({**row, "profile_id": profile_id, "seller_id": seller_id, "synced_at": stamp})
            if len(batch) >= BATCH:
                upsert(session, model, batch)
                seen += len(batch)
                batch = []
        upsert(session, model, batch)
        seen += len(batch)
    history.record_structure(session, seller_id=seller_id, profile_id=profile_id)  # console changes, first bids
    return seen
