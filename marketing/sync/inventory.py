"""FBA inventory summaries → `inventory_daily`: one row per ASIN for the day, that day's slice replaced.

Amazon lists one summary per SKU and condition; an ASIN's row sums them. Fulfillable is `fulfillableQuantity`
(the total quantity when Amazon sends no details), inbound the working, shipped and receiving quantities,
reserved `totalReservedQuantity`; a quantity Amazon leaves out counts 0. FBM ASINs are not in the FBA
inventory, so they get no row: their stock is unknown. A summary without an ASIN is not stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from marketing.models import InventoryDaily
from marketing.sync.rows import IngestError, count_or_zero

INBOUND = ("inboundWorkingQuantity", "inboundShippedQuantity", "inboundReceivingQuantity")


def _quantity(number: int, item: dict, path: str) -> int:
    value: Any = item
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    try:
        return count_or_zero(value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise IngestError(f"FBA inventory summary {number}: field {path!r}: {exc or repr(value)[:60]}") from None


def ingest_inventory(session: Session, summaries: Iterable[Any], *, seller_id: int, marketplace_id: str,
                     day: dt.date) -> int:
    """Replace the seller's inventory rows of `day` in the marketplace; returns the ASINs stored."""
    stock: dict[str, list[int]] = {}
    for number, item in enumerate(summaries, 1):
        if not isinstance(item, dict):
            raise IngestError(f"FBA inventory summary {number}: is not a JSON object")
        asin = item.get("asin")
        if not isinstance(asin, str) or not asin:
            continue
        if len(asin) > 16:
            raise IngestError(f"FBA inventory summary {number}: field 'asin': is longer than 16 characters")
        details = item.get("inventoryDetails")
        fulfillable = _quantity(number, item, "inventoryDetails.fulfillableQuantity" if isinstance(details, dict)
                                else "totalQuantity")
        inbound = sum(_quantity(number, item, f"inventoryDetails.{name}") for name in INBOUND)
        reserved = _quantity(number, item, "inventoryDetails.reservedQuantity.totalReservedQuantity")
        total = stock.setdefault(asin, [0, 0, 0])
        total[0] += fulfillable
        total[1] += inbound
        total[2] += reserved
    table = InventoryDaily.__table__
    session.execute(delete(table).where(table.c.seller_id == seller_id, table.c.marketplace_id == marketplace_id,
                                        table.c.date == day))
    if stock:
        session.execute(insert(table), [
            {"seller_id": seller_id, "marketplace_id": marketplace_id, "date": day, "asin": asin,
             "fulfillable": f, "inbound": i, "reserved": r} for asin, (f, i, r) in sorted(stock.items())])
    return len(stock)
