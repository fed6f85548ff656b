"""The limits every bid must respect, wherever it comes from (engine, reviewer's edit, undo), and the switch
that stops all writes.

Amazon's range is per marketplace (`amazon.hosts`); the seller's min/max bid settings narrow it for the engine.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from marketing import settings_registry
from marketing.amazon.hosts import Marketplace, marketplace
from marketing.extensions import db
from marketing.models import AdsProfile, Connection
from marketing.numbers import BadNumber, parse_decimal
from marketing.settings_registry import Group

CURRENCY_SYMBOLS = "$€£¥"  # typed around a bid and ignored


class BadBid(ValueError):
    """A bid a person typed is not acceptable; the message is for them."""


Guardrails = dict[str, object]  # the seller's bid settings by key, as the settings page shows them


def guardrails(seller_id: int) -> Guardrails:
    """The seller's bid settings (`settings_registry.Group.BIDS`), read once per run."""
    return settings_registry.get_many(settings_registry.group(Group.BIDS), seller_id)


def writes_paused(seller_id: int) -> str | None:
    """Why nothing may be sent to Amazon for this seller now, or None. The app-wide switch wins over the
    seller's own."""
    if settings_registry.get("writes_paused"):
        return "Writes to Amazon are paused for every seller (app settings); approved changes wait."
    if settings_registry.get("writes_paused", seller_id):
        return "Writes to Amazon are paused for this seller; approved changes wait."
    return None


def profile_marketplace(seller_id: int, profile_id: int) -> Marketplace | None:
    marketplace_id = db.session.scalar(
        select(AdsProfile.marketplace_id).join(Connection, Connection.id == AdsProfile.connection_id)
        .where(Connection.seller_id == seller_id, AdsProfile.profile_id == profile_id).limit(1)
    )
    try:
        return marketplace(marketplace_id) if marketplace_id else None
    except KeyError:
        return None


def tick(market: Marketplace | None) -> Decimal:
    """Bids are whole units where the currency has no cents worth bidding (JPY), else cents."""
    return Decimal(1) if market is not None and market.min_bid >= 1 else Decimal("0.01")


def seller_range(seller_id: int, market: Marketplace | None) -> tuple[Decimal | None, Decimal | None]:
    """The seller's own min/max bid where it applies in this marketplace: one amount for every profile, each in
    its own currency, so an amount outside the marketplace's legal range is left to Amazon's limit there (as the
    engine does)."""
    limits = []
    for key in ("bid_min", "bid_max"):
        value = settings_registry.get(key, seller_id)
        if value is not None and market is not None and not market.min_bid <= value <= market.max_bid:
            value = None
        limits.append(value)
    return limits[0], limits[1]


def parse_bid(raw: str, market: Marketplace | None, seller_id: int | None = None) -> Decimal:
    """A typed bid, checked against the marketplace's range and the seller's min/max bid settings; raises
    BadBid with a message for the reviewer.

    Read by `marketing.numbers` (a currency symbol either side is fine, a comma gets "use a dot"); a bid may
    have no more decimals than the marketplace's tick (0.755 in dollars is refused, not rounded)."""
    step = tick(market)
    try:
        value = parse_decimal(raw, places=-step.as_tuple().exponent, example="0.75", label="The bid",
                              affixes=CURRENCY_SYMBOLS)
    except BadNumber as exc:
        raise BadBid(str(exc)) from None
    if value is None:
        raise BadBid("Enter a bid, such as 0.75.")
    if market is not None and value < market.min_bid:
        raise BadBid(f"{value} is below Amazon's minimum bid in {market.country_code} ({market.min_bid}).")
    if market is not None and value > market.max_bid:
        raise BadBid(f"{value} is above Amazon's maximum bid in {market.country_code} ({market.max_bid}).")
    if value <= 0:
        raise BadBid("A bid must be above zero.")
    low, high = seller_range(seller_id, market) if seller_id is not None else (None, None)
    if low is not None and value < low:
        raise BadBid(f"{value} is below this seller's minimum bid ({low}); change the bid settings to go lower.")
    if high is not None and value > high:
        raise BadBid(f"{value} is above this seller's maximum bid ({high}); change the bid settings to go higher.")
    return value.quantize(step)
