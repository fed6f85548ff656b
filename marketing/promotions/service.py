"""The promotion suggestion run: read the seller's history per marketplace, ask the engine what to promote, store
one suggestion per proposed ASIN, and supersede the still-pending ones of the previous run (as bids do).

What the engine skips is kept on the run's notice, grouped by reason ("enter unit cost: B0…"), so the page can
say why an ASIN got nothing. A suggestion's `payload` holds the proposal's fields (dates as ISO text),
`current_value` the price and `proposed_value` the net price after the discount.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections import defaultdict
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, insert, select

from marketing.amazon.hosts import marketplace
from marketing.bids.queue import enqueue_once
from marketing.clock import now, today
from marketing.extensions import db
from marketing.formatting import currency_symbol
from marketing.models import SuggestionRun
from marketing.models.base import MONEY_SCALE
from marketing.models.suggestions import Direction, Kind, RunStatus, Suggestion, Trigger
from marketing.promotions import history, measuring
from marketing.suggestions import lifecycle

log = logging.getLogger("marketing.promotions")

KIND = Kind.PROMOTION
ENTER_UNIT_COST = "enter unit cost"  # the engine's Skip reason the page links to the products page
_NOTICE_ASINS = 20  # ASINs named per skip reason on the run's notice; the rest are counted
_MIN_PEERS = 2  # other sellers' reads a seller's dip share or demand curve starts from, at least (`_peers`)


def job_id(seller_id: int) -> str:
    return f"promotions-suggest-{seller_id}"


def enqueue(seller_id: int, trigger: str = Trigger.MANUAL):
    return enqueue_once(suggest_job, seller_id, trigger, job_id=job_id(seller_id))


def suggest_job(seller_id: int, trigger: str = Trigger.MANUAL) -> str:
    """RQ entry point (queue `default`)."""
    run = run_suggestions(seller_id, trigger)
    return summary(run)


def summary(run: SuggestionRun) -> str:
    """What `marketing promotions suggest` prints (a contract)."""
    return f"{run.suggestions} promotion suggestions"


def run_suggestions(seller_id: int, trigger: str = Trigger.MANUAL) -> SuggestionRun:
    """Compute and store a run; a failure is recorded on the run and re-raised."""
    run = SuggestionRun(seller_id=seller_id, kind=KIND, status=RunStatus.RUNNING, trigger=trigger)
    db.session.add(run)
    db.session.commit()
    try:
        _compute(run)
    except Exception as exc:
        db.session.rollback()
        run.status, run.error, run.finished_at = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000], now()
        db.session.commit()
        raise
    return run


def _compute(run: SuggestionRun) -> None:
    engine, day = history.engine(), today()
    skipped: dict[str, list[str]] = defaultdict(list)
    hints: list[dict] = []  # what the seller can change for the ASINs skipped for their restocks
    start = day - dt.timedelta(days=history.HISTORY_DAYS)
    read = {}  # marketplace → (currency, history, economics, measured past promotions)
    for market_id in history.marketplaces(run.seller_id):
        currency = history.currency(run.seller_id, market_id)
        frame = history.daily(run.seller_id, market_id, start, day - dt.timedelta(days=1))
        economics = history.economics(run.seller_id, currency)
        read[market_id] = (currency, frame, economics,
                           measuring.measure_reported(run.seller_id, market_id, frame, economics))
    # the seller's own reads of its dips and of its demand curve's bend are kept on the run, where the agency's other
    # sellers' runs find them
    measured_all = [m for *_, m in read.values() if len(m)]
    own = engine.dip_fit(pd.concat(measured_all, ignore_index=True)) if measured_all else None
    run.dip_share, run.dip_share_variance = own if own is not None else (None, None)
    run.bend_stats = engine.bend_stats(measured_all)
    dips, bends = _peers(run.seller_id)
    for market_id, (currency, frame, economics, measured) in read.items():
        # the elasticities' spread sets each proposal's interval; past promotions' days leave the baseline; their
        # dips and siblings' losses set the share of the extra units taken back, over all of the seller's
        # marketplaces, the dips' from the share the agency's other sellers show; the demand curve's bend over all of
        # theirs
        elsewhere = [other for key, (*_, other) in read.items() if key != market_id and len(other)]
        others = pd.concat(elsewhere, ignore_index=True) if elsewhere else None
        prices = economics.set_index("asin")["price"].to_dict() if len(economics) else {}
        # running and planned promotions at their depth, and the inventory history, let the engine run each
        # ASIN's stock forward with its restocks
        proposals, skips = engine.suggest(
            frame, economics, inventory=history.inventory(run.seller_id, market_id),
            busy=history.busy(run.seller_id, market_id, day, prices=prices), fees=history.fees(market_id, day),
            elasticity=engine.elasticities(measured, with_sd=True, elsewhere=others, peers=bends), today=day,
            deal_types=history.deal_types(run.seller_id, market_id, day),
            promotions=measured[["asin", "start", "end"]], measured=measured,
            measured_elsewhere=others, peers=dips,
            inventory_history=history.inventory_history(run.seller_id, market_id, start, day),
            settings=engine.PromotionSettings(currency_symbol=currency_symbol(
                currency or marketplace(market_id).currency)))
        rows = [_row(run, p, market_id, currency) for p in proposals]
        if rows:
            db.session.execute(insert(Suggestion), rows)
        run.targets += int(frame["asin"].nunique())
        run.suggestions += len(rows)
        for skip in skips:
            skipped[skip.reason].append(skip.asin)
            if skip.restock:
                hints.append({"asin": skip.asin, "marketplace_id": market_id,
                              "country": marketplace(market_id).country_code, **plain(skip.restock)})
    db.session.flush()
    run.notice = skip_notice(skipped)
    run.restock_hints = sorted(hints, key=lambda h: (h["country"], h["asin"])) or None
    run.superseded = lifecycle.supersede(run.seller_id, KIND, run.id)
    run.status, run.finished_at = RunStatus.SUCCEEDED, now()
    db.session.commit()
    log.info("promotion suggestions for seller %s: %s of %s ASINs", run.seller_id, run.suggestions, run.targets)


def _peers(seller_id: int) -> tuple[list[tuple[float, float]], list[dict]]:
    """The agency's other sellers' own reads, from each one's latest run: of their dips (share, variance) and of
    their demand curve's bend (`bend_stats`); a seller whose promotions no longer show one has none. Each kind only
    where there are `_MIN_PEERS`: what a seller's suggestions start from is shown with their inputs, and one other
    seller's read could be backed out of it."""
    latest = (select(func.max(SuggestionRun.id).label("id"))
              .where(SuggestionRun.kind == KIND, SuggestionRun.status == RunStatus.SUCCEEDED,
                     SuggestionRun.seller_id != seller_id)
              .group_by(SuggestionRun.seller_id).subquery())
    rows = db.session.execute(select(SuggestionRun.dip_share, SuggestionRun.dip_share_variance,
                                     SuggestionRun.bend_stats).join(latest, SuggestionRun.id == latest.c.id)).all()
    dips = [(float(share), float(variance)) for share, variance, _ in rows
            if share is not None and variance is not None]
    bends = [stats for *_, stats in rows if stats]
    return (dips if len(dips) >= _MIN_PEERS else []), (bends if len(bends) >= _MIN_PEERS else [])


def skip_notice(skipped: dict[str, list[str]]) -> str | None:
    """"enter unit cost: B01, B02. stock would run out: B03." — each reason once, its ASINs sorted."""
    parts = []
    for reason, asins in sorted(skipped.items()):
        names = sorted(set(asins))
        more = len(names) - _NOTICE_ASINS
        parts.append(f"{reason}: {', '.join(names[:_NOTICE_ASINS])}" + (f" and {more} more" if more > 0 else ""))
    return ". ".join(parts)[:2000] + "." if parts else None


def skipped_asins(notice: str | None, reason: str) -> list[str]:
    """The ASINs a run's notice names for `reason` (the page's "enter unit cost" list)."""
    for part in (notice or "").rstrip(".").split(". "):
        head, _, names = part.partition(": ")
        if head == reason:
            return [n for n in names.split(" and ")[0].split(", ") if n]
    return []


def _money(value: float | None) -> Decimal | None:
    return None if value is None or not math.isfinite(value) else Decimal(str(value)).quantize(MONEY_SCALE)


def _row(run: SuggestionRun, proposal, market_id: str, currency: str | None) -> dict:
    payload = {k: plain(v) for k, v in dataclasses.asdict(proposal).items() if k not in ("explanation", "inputs")}
    payload["currency"] = currency or marketplace(market_id).currency
    return {
        "seller_id": run.seller_id, "run_id": run.id, "kind": KIND, "entity_kind": "asin",
        "entity_ref": proposal.asin, "marketplace": market_id, "payload": payload, "label": proposal.asin,
        "current_value": _money(proposal.price), "proposed_value": _money(proposal.net_price),
        "direction": Direction.DOWN, "status": lifecycle.PENDING, "reason": proposal.type.lower()[:48],
        "explanation": proposal.explanation, "inputs": {k: plain(v) for k, v in (proposal.inputs or {}).items()},
        "expected_sales_delta": None, "expected_spend_delta": None,
    }


def plain(value):
    """JSON-safe copy of an engine value (dates as ISO text; NaN and infinity as None)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def after_sync(seller_id: int, sync_run_id: int | None) -> None:
    """Run after each sync that stored data and after each history chain that stored days
    (`marketing.sync.outcome.AFTER_SYNC`, `AFTER_HISTORY`): queue this seller's run under its own unique id."""
    enqueue(seller_id, trigger=Trigger.SYNC)
