"""The suggestion run: load per-target evidence, ask the engine (`marketing.optimize.bids`), save what it says.

One run per seller at a time (a unique job id), triggered after every successful sync and on demand. Each
advertising profile is its own engine call (one currency and one marketplace bid range per call). A new run
supersedes the seller's still-pending bid suggestions and proposes nothing for a target whose approved change
(or undo) is not sent yet: the newer bid would be based on a bid about to change, and one target would have
two writes in flight. With the seller's opt-in, small changes are approved by the system and sent straight
away, whichever path started the run — never while writes to Amazon are paused.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import orjson
import pandas as pd
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import insert, select

from marketing import settings_registry
from marketing.amazon.hosts import Marketplace
from marketing.bids import apply, history, inputs, rules
from marketing.bids.queue import enqueue_once
from marketing.clock import now, today
from marketing.extensions import db
from marketing.formatting import currency_symbol
from marketing.models import CampaignSettings, SuggestionRun, copy_text
from marketing.models.base import MONEY_PLACES
from marketing.models.suggestions import Direction, Kind, RunStatus, Suggestion, Trigger
from marketing.optimize.settings import BidSettings
from marketing.settings_registry import Group
from marketing.suggestions import lifecycle

log = logging.getLogger("marketing.bids")

KIND = Kind.BID


def job_id(seller_id: int) -> str:
    return f"bids-suggest-{seller_id}"


def enqueue(seller_id: int, trigger: str = Trigger.MANUAL):
    return enqueue_once(suggest_job, seller_id, trigger, job_id=job_id(seller_id))


def suggest_job(seller_id: int, trigger: str = Trigger.MANUAL) -> str:
    """RQ entry point (queue `default`); also what the post-sync registry runs."""
    run = run_suggestions(seller_id, trigger)
    return f"{run.suggestions} suggestions: {run.up} up, {run.down} down"


def run_suggestions(seller_id: int, trigger: str = Trigger.MANUAL) -> SuggestionRun:
    """Compute and store a run, then queue sending what it auto-approved; a failure is recorded on the run and
    re-raised (the job shows as failed)."""
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
    if run.auto_approved:
        apply.enqueue(seller_id)
    return run


def _compute(run: SuggestionRun) -> None:
    from marketing.optimize.bids import suggest_bids  # why: the numpy/pandas engine loads in workers, not pages

    guard = rules.guardrails(run.seller_id)
    overrides = campaign_overrides(run.seller_id)
    frame = inputs.load(run.seller_id, guard["bid_lookback_days"],
                        budget_share=BidSettings().budget_bound_share)
    busy = lifecycle.busy_entities(run.seller_id, KIND)
    incomplete = inputs.incomplete_profiles(run.seller_id, guard["bid_lookback_days"])
    if incomplete:  # a bid judged on a window with missing days would read them as days without clicks
        run.notice = " ".join(f"Profile {pid} skipped: {why}." for pid, why in sorted(incomplete.items()))[:2000]
        log.info("bid suggestions for seller %s: %s", run.seller_id, run.notice)
    frame = frame[~frame["profile_id"].isin(list(incomplete))]
    run.targets = len(frame)
    profiles = [(int(pid), rules.profile_marketplace(run.seller_id, int(pid)), targets)
                for pid, targets in frame.groupby("profile_id")]
    with lifecycle.superseding(run.seller_id, KIND, run.id) as replaced:  # the server deletes while the engine runs
        results = [(pid, market, suggest_bids(targets.reset_index(drop=True), engine_settings(guard, market),
                                              today=today(), campaign_acos=overrides.target_acos.get(pid),
                                              campaign_objective=overrides.objective.get(pid)))
                   for pid, market, targets in profiles]
    run.superseded = replaced[0]
    for profile_id, market, result in results:
        history.store_measurements(run.seller_id, profile_id, result[result["measured"]])
        moves = result[result["direction"] != "hold"]
        if busy:
            keys = zip(moves["profile_id"].tolist(), moves["target_id"].tolist(), strict=True)
            moves = moves[[key not in busy for key in keys]]
        created = now()
        _write(_rows(run, moves.iloc[i:i + _CHUNK], market, created) for i in range(0, len(moves), _CHUNK))
        run.suggestions += len(moves)
        run.up += int((moves["direction"] == Direction.UP).sum())
        run.down += int((moves["direction"] == Direction.DOWN).sum())
    db.session.flush()
    if guard["bid_auto_apply_below"] is not None and rules.writes_paused(run.seller_id) is None:
        run.auto_approved = _auto_approve(run, guard["bid_auto_apply_below"])
    run.status, run.finished_at = RunStatus.SUCCEEDED, now()
    db.session.commit()
    log.info("bid suggestions for seller %s: %s up, %s down of %s targets", run.seller_id, run.up, run.down,
             run.targets)


@dataclass(frozen=True)
class CampaignOverrides:
    """Per profile, the campaigns with their own target ACoS (fractions) and objective (set on the campaign page)."""

    target_acos: dict[int, dict[int, float]]
    objective: dict[int, dict[int, str]]


def campaign_overrides(seller_id: int) -> CampaignOverrides:
    found = CampaignOverrides({}, {})
    for row in db.session.scalars(select(CampaignSettings).where(CampaignSettings.seller_id == seller_id)):
        if row.target_acos is not None:
            found.target_acos.setdefault(row.profile_id, {})[row.campaign_id] = float(row.target_acos) / 100
        if row.objective is not None:
            found.objective.setdefault(row.profile_id, {})[row.campaign_id] = row.objective
    return found


def engine_settings(guard: rules.Guardrails, market: Marketplace | None) -> BidSettings:
    """The seller's settings in the engine's terms (each setting's `engine_field`; fractions for percents) and
    the profile marketplace's bid range."""
    fields = {d.engine_field: d.engine_value(guard[key]) for key, d in settings_registry.group(Group.BIDS).items()
              if d.engine_field}
    if market is not None:
        fields |= {"marketplace_min_bid": market.min_bid, "marketplace_max_bid": market.max_bid,
                   "bid_increment": rules.tick(market),
                   "currency_symbol": currency_symbol(market.currency)}
        # One amount for every profile, each in its own currency: where it falls outside a marketplace's legal
        # range (0.10 in yen) that marketplace's own limit applies, instead of failing the seller's whole run.
        for key in ("min_bid", "max_bid"):
            if fields[key] is not None and not market.min_bid <= fields[key] <= market.max_bid:
                fields[key] = None
    return BidSettings(exclude_recent_days=inputs.ATTRIBUTION_LAG_DAYS, **fields)


def _rows(run: SuggestionRun, moves: pd.DataFrame, market: Marketplace | None, created: dt.datetime
          ) -> dict[str, list]:
    """The engine's suggestion rows as suggestions columns, column by column (a large seller's run writes 100,000
    rows: no per-row pandas access). Money is given as its text and `inputs` (every engine column the row's own
    columns don't hold) and `payload` as JSON text: what COPY is sent (`_write` decodes them for SQLite)."""
    n = len(moves)
    column = {name: moves[name].tolist() for name in _STORED | _PAYLOAD if name in moves.columns}
    promotion = column.get("promotion", [None] * n)
    return {
        "seller_id": [run.seller_id] * n, "run_id": [run.id] * n, "kind": [KIND] * n,
        "profile_id": [int(v) for v in column["profile_id"]], "entity_kind": column["kind"],
        "entity_id": [int(v) for v in column["target_id"]], "entity_ref": [str(int(v)) for v in column["target_id"]],
        "marketplace": [market.marketplace_id if market is not None else None] * n,
        "campaign_id": [int(v) for v in column["campaign_id"]], "ad_group_id": [int(v) for v in column["ad_group_id"]],
        "label": column["text"], "current_value": _money_texts(moves["current_bid"]),
        "proposed_value": column["suggested_bid"], "direction": column["direction"],
        "status": [lifecycle.PENDING] * n, "reason": [str(v) for v in column["reason"]],
        "explanation": [_explanation(text, p) for text, p in zip(column["explanation"], promotion, strict=True)],
        "payload": [orjson.dumps({"objective": o, "budget_bound": bool(b)}).decode()
                    for o, b in zip(column["objective"], column["budget_bound"], strict=True)],
        "inputs": _json_objects(moves, [name for name in moves.columns if name not in _STORED]),
        "expected_spend_delta": _money_texts(moves["expected_spend_delta_per_day"]),
        "expected_sales_delta": _money_texts(moves["expected_sales_delta_per_day"]),
        "created_at": [created] * n,
    }


def _write(chunks: Iterable[dict[str, list]]) -> None:
    """Insert the rows, chunk by chunk as `_rows` builds them: one COPY on PostgreSQL, each chunk sent as text
    (`_copy_text`) by psycopg's writer thread so the server takes a chunk in while the next is built; multi-row
    INSERTs elsewhere (SQLite), money and JSON decoded for the ORM's types."""
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        return
    names = list(first)
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        for columns in itertools.chain([first], chunks):
            columns |= {name: [orjson.loads(text) for text in columns[name]] for name in _JSON}
            columns |= {name: [None if text is None else Decimal(text) for text in columns[name]] for name in _MONEY}
            db.session.execute(insert(Suggestion), [dict(zip(names, row, strict=True))
                                                    for row in zip(*columns.values(), strict=True)])
        return
    cursor = connection.connection.driver_connection.cursor()
    statement = f"COPY {Suggestion.__tablename__} ({', '.join(names)}) FROM STDIN"
    with cursor, cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        for columns in itertools.chain([first], chunks):
            copy.write(_copy_text(columns))


_JSON = ("payload", "inputs")  # the columns `_rows` gives as JSON text
_MONEY = ("current_value", "proposed_value", "expected_spend_delta", "expected_sales_delta")  # and as money text
_CHUNK = 5_000  # rows built and sent at a time


def _copy_text(columns: dict[str, list]) -> bytes:
    """Rows as COPY's text format, built a column at a time: psycopg's `write_row` costs ~18 µs a row (1.2 s for a
    large seller's run). Values are escaped a column at a time (`_copy_column`), then joined once per row."""
    texts = [_copy_column(values) for values in columns.values()]
    return "".join(row + "\n" for row in map("\t".join, zip(*texts, strict=True))).encode()


def _copy_column(values: list) -> list[str]:
    """One column's values as COPY text. The run's own columns (one value repeated) convert once; text without
    nulls is escaped as one string joined on NUL, which no text PostgreSQL stores can hold (a value holding one
    anyway goes value by value, and the server refuses it as it would have)."""
    n, first = len(values), values[0]
    if values.count(first) == n:
        return [_copy_value(first)] * n
    if type(first) is int:
        return list(map(str, values))
    if type(first) is str and None not in values:
        joined = "\0".join(values)
        if joined.count("\0") == n - 1:
            return copy_text.escape(joined).split("\0")
    return [_copy_value(value) for value in values]


def _copy_value(value) -> str:
    if value is None:
        return copy_text.NULL
    return copy_text.escape(value.isoformat() if isinstance(value, dt.datetime) else str(value))


def _explanation(text: str, promotion) -> str:
    """The engine's sentence, and where a promotion runs on the ad group's product, that its margin used the
    promoted price (`inputs._economics`)."""
    if isinstance(promotion, str) and promotion:
        return f"{text} Margin at the promoted price during {promotion}."
    return text


def _money_texts(values: pd.Series) -> list[str | None]:
    """Engine figures (floats) as the money columns' text, rounded to their places (NaN: none)."""
    return [None if v != v else f"{v:.{MONEY_PLACES}f}" for v in values.to_numpy(dtype=float).tolist()]


_STORED = {"profile_id", "target_id", "kind", "campaign_id", "ad_group_id", "text", "current_bid", "suggested_bid",
           "direction", "reason", "explanation", "expected_spend_delta_per_day", "expected_sales_delta_per_day"}
_PAYLOAD = {"promotion", "objective", "budget_bound"}  # read by `_rows` too, and kept in `inputs`


def _json_objects(frame: pd.DataFrame, names: list[str]) -> list[str]:
    """Each row's `names` columns as the text of one JSON object, built a column at a time: a dict and an encoder
    call per row cost ~1 s for 60,000 rows. Floats keep 6 significant digits (what the page shows, and a third
    fewer bytes to write). What is not known (none, NaN, infinity: PostgreSQL's JSON refuses the last two) is left
    out: a quarter of a large seller's row bytes, which the server's time to take the rows grows with (~0.3 s of
    its ~3.9 s for 66,000 rows)."""
    if not names or frame.empty:
        return ["{}"] * len(frame)
    parts = []
    for name in names:
        key, values = "," + orjson.dumps(name).decode() + ":", _json_values(frame[name])
        if "null" in values:
            parts.append(["" if value == "null" else key + value for value in values])
        else:
            parts += [itertools.repeat(key), values]
    return ["{" + "".join(row)[1:] + "}" for row in zip(*parts, strict=False)]  # keys repeat without end


_SIGNIFICANT = 6


def _json_values(values: pd.Series) -> list[str]:
    """One column's values as JSON texts: numbers through one encoder call; anything else (dates, text,
    categories) one call per distinct value."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iub":
        return orjson.dumps(values.to_numpy().tolist()).decode()[1:-1].split(",")
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
        array = values.to_numpy(dtype=float)
        finite = np.isfinite(array)
        magnitude = np.floor(np.log10(np.abs(np.where(finite & (array != 0), array, 1.0))))
        scale = 10.0 ** (_SIGNIFICANT - 1 - magnitude)
        plain = (np.round(np.where(finite, array, 0.0) * scale) / scale).astype(object)
        plain[~finite] = None
        return orjson.dumps(plain.tolist()).decode()[1:-1].split(",")
    codes, distinct = pd.factorize(values)
    texts = [orjson.dumps(_plain(value)).decode() for value in distinct]
    return [texts[code] if code >= 0 else "null" for code in codes.tolist()]


def _plain(value):
    """JSON-safe copy of a numpy/pandas scalar (no NaN or infinity: PostgreSQL's JSON refuses them)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, str | int | float | bool) else str(value)


def _auto_approve(run: SuggestionRun, below_pct: Decimal) -> int:
    count = 0
    for suggestion in db.session.scalars(
        db.select(Suggestion).where(Suggestion.run_id == run.id, Suggestion.status == lifecycle.PENDING)
    ):
        if suggestion.change_pct is not None and abs(Decimal(str(suggestion.change_pct))) < below_pct:
            count += lifecycle.approve(suggestion, actor=None)
    return count


def after_sync(seller_id: int, sync_run_id: int) -> None:
    """Run after each sync that stored data (`marketing.sync.outcome.AFTER_SYNC`): queue this seller's run under its
    own unique id, so a sync never starts a second run beside one already queued or running."""
    enqueue(seller_id, trigger=Trigger.SYNC)
