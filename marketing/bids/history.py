"""Keeping the bid history (`models.BidHistory`): our applies, and the differences between structure syncs.

The engine reads the bid in force on each day from it (`inputs.load`), never the reports' `keywordBid`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketing.clock import now, today
from marketing.extensions import db
from marketing.models import BidHistory, BidSource, SpAdGroup, SpTarget, Suggestion
from marketing.models.suggestions import Kind
from marketing.suggestions.lifecycle import APPLIED

MEASURED = ("change_pct_last", "measured_clicks_pct", "measured_cpc_pct", "measured_spend_delta",
            "measured_sales_delta", "measured_marginal_acos", "measured_profit_delta", "change_paid")


def record(session: Session, rows: list[dict]) -> None:
    """Insert history rows (profile_id, target_id, valid_from, seller_id, bid, source); a second change of a
    target on the same day replaces the first (the bid in force that day is the last one set)."""
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(BidHistory)
    session.execute(statement.on_conflict_do_update(
        index_elements=["profile_id", "target_id", "valid_from"],
        set_={"bid": statement.excluded.bid, "source": statement.excluded.source,
              "recorded_at": statement.excluded.recorded_at}), rows)


def record_applied(session: Session, *, seller_id: int, profile_id: int, target_id: int, bid: Decimal) -> None:
    """A bid we set (an apply or an undo), in force from today."""
    record(session, [_row(seller_id, profile_id, target_id, bid, BidSource.OURS, today())])


def record_structure(session: Session, *, seller_id: int, profile_id: int, day: dt.date | None = None) -> int:
    """After a structure sync: every target whose bid (its own, else its ad group's default) differs from the
    last one recorded gets a row from `day` — `console` for its own bid, `inherited` for a default. A target
    seen for the first time gets its first row. Returns how many rows were written."""
    day = day or today()
    latest = (select(BidHistory.target_id, func.max(BidHistory.valid_from).label("valid_from"))
              .where(BidHistory.profile_id == profile_id).group_by(BidHistory.target_id).subquery())
    last = (select(BidHistory.target_id, BidHistory.bid)
            .join(latest, and_(latest.c.target_id == BidHistory.target_id,
                               latest.c.valid_from == BidHistory.valid_from))
            .where(BidHistory.profile_id == profile_id).subquery())
    query = (
        select(SpTarget.target_id, SpTarget.bid, SpAdGroup.default_bid, last.c.bid)
        .join(SpAdGroup, and_(SpAdGroup.profile_id == SpTarget.profile_id,
                              SpAdGroup.ad_group_id == SpTarget.ad_group_id))
        .outerjoin(last, last.c.target_id == SpTarget.target_id)
        .where(SpTarget.profile_id == profile_id, SpTarget.state != "ARCHIVED")
    )
    rows = []
    for target_id, own, default, recorded in session.execute(query):
        bid = own if own is not None else default
        if bid is None or (recorded is not None and abs(Decimal(bid) - Decimal(recorded)) < Decimal("0.00005")):
            continue
        source = BidSource.CONSOLE if own is not None else BidSource.INHERITED
        rows.append(_row(seller_id, profile_id, target_id, bid, source, day))
    record(session, rows)
    return len(rows)


def _row(seller_id, profile_id, target_id, bid, source, day) -> dict:
    return {"profile_id": profile_id, "target_id": target_id, "valid_from": day, "seller_id": seller_id,
            "bid": Decimal(bid), "source": str(source), "recorded_at": now()}


def store_measurements(seller_id: int, profile_id: int, measured: pd.DataFrame) -> int:
    """What each measured change did (the engine's `measured_*` columns) on the applied suggestion that made it,
    as `payload["measured"]`, for the keyword page and the review page; refreshed each run while the change is
    the target's last. Returns how many suggestions were updated."""
    if measured.empty:
        return 0
    dates = {int(t): d.date() for t, d in zip(measured["target_id"], pd.to_datetime(measured["last_change_date"]),
                                              strict=True)}
    figures = {int(row["target_id"]): {k: _plain(row[k]) for k in MEASURED} for _, row in measured.iterrows()}
    count = 0
    for suggestion in db.session.scalars(select(Suggestion).where(
            Suggestion.seller_id == seller_id, Suggestion.profile_id == profile_id, Suggestion.kind == Kind.BID,
            Suggestion.status == APPLIED, Suggestion.entity_id.in_(list(dates)))):
        if suggestion.changed_on == dates[suggestion.entity_id]:
            suggestion.payload = {**(suggestion.payload or {}), "measured": figures[suggestion.entity_id]}
            count += 1
    return count


def last_measured(seller_id: int, profile_id: int, target_id: int) -> dict | None:
    """The target's last applied change with its measurement (None if it has none yet): the bid before and after,
    the day, and the `measured` figures."""
    return last_measured_many(seller_id, [(profile_id, target_id)]).get((profile_id, target_id))


def last_measured_many(seller_id: int, targets) -> dict[tuple[int, int], dict]:
    """`last_measured` for many (profile id, target id) pairs in one query (a review page's rows); pairs whose
    last applied change is not measured yet are left out."""
    wanted = set(targets)
    if not wanted:
        return {}
    rows = db.session.scalars(select(Suggestion).where(
        Suggestion.seller_id == seller_id, Suggestion.kind == Kind.BID, Suggestion.status == APPLIED,
        Suggestion.entity_id.in_({target for _, target in wanted}))
        .order_by(Suggestion.changed_on.desc(), Suggestion.id.desc()))
    found: dict[tuple[int, int], dict] = {}
    seen: set[tuple[int, int]] = set()
    for suggestion in rows:
        key = (suggestion.profile_id, suggestion.entity_id)
        if key not in wanted or key in seen:
            continue
        seen.add(key)
        if "measured" in (suggestion.payload or {}):
            found[key] = {"day": suggestion.changed_on, "old": suggestion.previous_value,
                          "new": suggestion.proposed_value, **suggestion.payload["measured"]}
    return found


def _plain(value):
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool | int | str) or value is None:
        return value
    number = float(value)
    return None if pd.isna(number) or number in (float("inf"), float("-inf")) else round(number, 4)
