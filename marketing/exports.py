"""Daily Sponsored Products performance as CSV or JSON, streamed: for the CLI and for page downloads.

One row per entity, day and advertising profile of the seller, with ids, names from the structure tables
(empty until the structure sync has seen the entity; campaign rows fall back to the report's name), the
profile's currency and the metrics. Money is written as the exact decimal stored (4 places, e.g. "12.3400")
in both formats, never through a float.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import and_, select

from marketing.extensions import db
from marketing.models import (
    AdsProfile,
    Connection,
    Seller,
    SpAdGroup,
    SpCampaign,
    SpCampaignDaily,
    SpProductDaily,
    SpSearchTermDaily,
    SpTarget,
    SpTargetDaily,
)
from marketing.models.base import MONEY_PLACES

LEVELS = ("campaign", "target", "search-term", "product")
METRICS = ("impressions", "clicks", "cost", "orders", "sales")
_FACTS = {"campaign": SpCampaignDaily, "target": SpTargetDaily, "search-term": SpSearchTermDaily,
          "product": SpProductDaily}  # fmt: skip
_ENTITY = {  # level -> the fact's own columns before the campaign/ad group ids
    "campaign": ("campaign_id",),
    "target": ("target_id",),
    "search-term": ("target_id", "search_term"),
    "product": ("ad_id",),
}
_BATCH = 2000


def columns(level: str) -> tuple[str, ...]:
    """Field names of an export row, in order."""
    ids = ("campaign_id", "campaign_name")
    if level != "campaign":
        ids += ("ad_group_id", "ad_group_name")
    own = {
        "campaign": (),
        "target": ("target_id", "target", "match_type"),
        "search-term": ("target_id", "target", "search_term"),
        "product": ("ad_id", "asin", "sku"),
    }[level]
    return ("date", "profile_id", *ids, *own, "currency", *METRICS)


def iter_export_rows(seller: Seller, level: str, start: dt.date, end: dt.date) -> Iterator[dict[str, Any]]:
    """The seller's rows at ``level`` for days in [start, end], ordered by date, profile and entity."""
    fact = _FACTS[level]
    profile = AdsProfile
    same_profile = lambda model: model.profile_id == fact.profile_id  # noqa: E731
    query = (
        select(fact, profile.currency_code.label("currency"), SpCampaign.name.label("campaign_name"))
        .join(profile, profile.profile_id == fact.profile_id)
        .join(
            Connection,
            and_(Connection.id == profile.connection_id, Connection.seller_id == seller.id, Connection.api == "ads"),
        )  # fmt: skip
        .outerjoin(SpCampaign, and_(same_profile(SpCampaign), SpCampaign.campaign_id == fact.campaign_id))
        .where(fact.date.between(start, end))
        .order_by(fact.date, fact.profile_id, *(getattr(fact, c) for c in _ENTITY[level]))
    )
    if level != "campaign":
        query = query.add_columns(SpAdGroup.name.label("ad_group_name")).outerjoin(
            SpAdGroup, and_(same_profile(SpAdGroup), SpAdGroup.ad_group_id == fact.ad_group_id)
        )
    if level in ("target", "search-term"):
        query = query.add_columns(SpTarget.text.label("target")).outerjoin(
            SpTarget, and_(same_profile(SpTarget), SpTarget.target_id == fact.target_id)
        )
    names = columns(level)
    result = db.session.execute(query.execution_options(yield_per=_BATCH))
    for row in result:
        record, extra = row[0], row._mapping
        values = {name: extra[name] if name in extra else getattr(record, name, None) for name in names}
        if level == "campaign" and values["campaign_name"] is None:
            values["campaign_name"] = record.campaign_name  # the report's name until the structure is synced
        yield values


def text_value(value: Any) -> Any:
    """A cell as the CSV and JSON exports write it: money with the column's 4 decimals, ISO dates, None as empty."""
    if isinstance(value, Decimal):
        return f"{value:.{MONEY_PLACES}f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else value


def write_csv(rows: Iterator[dict[str, Any]], out: IO[str], level: str) -> int:
    """CSV with a header row; empty cells for missing names. Returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns(level))
    count = 0
    for count, row in enumerate(rows, 1):  # noqa: B007 (count is returned)
        writer.writerow([text_value(v) for v in row.values()])
    return count


def write_json(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """A JSON array of objects, one line per row; names missing → null, money as decimal strings."""
    count = 0
    out.write("[")
    for count, row in enumerate(rows, 1):  # noqa: B007 (count is returned)
        record = {k: text_value(v) if isinstance(v, Decimal | dt.date) else v for k, v in row.items()}
        out.write(("\n" if count == 1 else ",\n") + json.dumps(record, ensure_ascii=False))
    out.write("\n]\n" if count else "]\n")
    return count
