"""Write one downloaded report into its fact table: streamed, validated, then swapped in atomically.

Rows are mapped as they arrive and loaded in batches into a temporary staging table (PostgreSQL: `COPY`;
SQLite: `executemany`), so memory stays flat whatever the report size. Only when the whole stream has been
read and validated is the report's slice of the fact table — (profile or seller+marketplace, date window) —
deleted and re-inserted from staging. Everything runs in the caller's transaction: until it commits, readers
see the previous data, and a failure rolls it all back. Re-ingesting a report is therefore idempotent;
restated rows change and rows Amazon no longer reports disappear. A targeting report then sums the weeks it
touches again into `sp_target_weekly` (PostgreSQL), in the same transaction, for the bid inputs.
Every ingest bumps its seller's `data_version` in that transaction too, which is how the dashboard's
remembered sums learn that the figures changed (`marketing.dashboard.cache`).

Bulk path: an Ads report read straight from its download (`AdsClient.iter_report_rows`, an `ArrayStream`) on
PostgreSQL skips the staging table. The slice is deleted first, then slices of a few MB of the JSON array are
decoded by msgspec into structs of the needed fields, checked per slice (money with more decimals than its column
rounded per slice, as the row mapper does) and COPY'd straight into the fact table as text blocks, in one COPY; a
slice the bulk path cannot take whole is mapped row by row. Every check still
runs before a row is sent, error messages are the row-by-row ones, and a bad row anywhere still outranks a
duplicate key. The same transaction rule holds (the deleted rows hold their row locks until the commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import psycopg
from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    MetaData,
    Table,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketing.amazon.streams import ArrayStream, iter_array_items
from marketing.models import SpTargetDaily, SpTargetWeekly, copy_text, data_changed
from marketing.models.facts import WEEKLY_DIALECTS, WEEKLY_METRICS, week_of

from .rows import (
    ADS_REPORT_TYPES,
    ATTRIBUTION_DAYS,
    SALES_TRAFFIC,
    SALES_TRAFFIC_PREFIXES,
    IngestError,
    Part,
    RowMapper,
    ads_part,
    sales_traffic_parts,
    sales_traffic_week_parts,
)

__all__ = ["ATTRIBUTION_DAYS", "SALES_TRAFFIC_PREFIXES", "IngestError", "ingest_report", "refresh_target_weeks"]
TARGETING = "spTargeting"
BATCH_ROWS = 5000  # rows mapped before they go to staging: bounds memory, amortises the round trips


def ingest_report(
    session: Session | Connection,
    report_type: str,
    rows: Iterable[Any],
    *,
    start: dt.date,
    end: dt.date,
    currency: str,
    profile_id: int | None = None,
    attribution_days: int | None = None,
    seller_id: int | None = None,
    marketplace_id: str | None = None,
    asin_only: bool = False,
    weekly: bool = False,
) -> int:
    """Replace the report's slice of its fact table with ``rows``; return the number of rows written.

    Ads reports (`spCampaigns`, `spTargeting`, `spSearchTerm`, `spAdvertisedProduct`): ``rows`` are the
    report's row dicts (`AdsClient.iter_report_rows`), ``profile_id`` and ``attribution_days`` (7 for
    sellers, 14 for vendors: `ATTRIBUTION_DAYS[profile.account_type]`) are required, and ``currency`` is the
    profile's. `GET_SALES_AND_TRAFFIC_REPORT`: ``rows`` are the ``(prefix, item)`` pairs of
    `SpClient.iter_document_items(url, compression, SALES_TRAFFIC_PREFIXES)`, with ``seller_id``,
    ``marketplace_id`` and the marketplace's ``currency``; by-ASIN items are stored only for a one-day report
    (Amazon sums them over the whole range), dated that day; with ``asin_only`` only those (the daily totals
    belong to the run's range report). With ``weekly`` (a Sun–Sat report, ``start`` its Sunday) only by-ASIN
    items, as that week's rows of `sales_traffic_asin_weekly`.

    Numbers are rounded half-even to their column's scale and null metrics stored as 0 (`rows`). Raises
    `IngestError` (report type, row number, field, value) for a missing field or id, text in a number, a
    non-finite value, a negative count, an overflow, a date outside [start, end], another currency, or two rows
    with the same key (duplicates are refused, not merged).
    Download errors (`MalformedResponse`, `AmazonUnavailable`) propagate unchanged. On any exception the
    transaction is rolled back; otherwise the caller commits, e.g. together with its `SyncReport` status.
    """
    if start > end:
        raise ValueError("start must not be after end")
    if report_type in ADS_REPORT_TYPES:
        if profile_id is None or attribution_days is None:
            raise ValueError(f"{report_type} needs profile_id and attribution_days")
        parts: dict[str | None, Part | None] = {
            None: ads_part(report_type, profile_id, start, end, currency, attribution_days)
        }
        routed: Iterable[tuple[str | None, Any]] = ((None, row) for row in rows)
    elif report_type == SALES_TRAFFIC:
        if seller_id is None or marketplace_id is None:
            raise ValueError(f"{report_type} needs seller_id and marketplace_id")
        parts = dict(sales_traffic_week_parts(seller_id, marketplace_id, start, currency) if weekly
                     else sales_traffic_parts(seller_id, marketplace_id, start, end, currency, not asin_only))
        routed = rows
    else:
        raise ValueError(f"unknown report type {report_type!r}")
    connection = session if isinstance(session, Connection) else session.connection()
    try:
        written = None
        part = parts.get(None)
        if isinstance(rows, ArrayStream) and part and part.mapper.fast and connection.dialect.name == "postgresql":
            prefix = _copy_prefix(part.constants)
            if prefix is not None:
                written = _load_direct(connection, report_type, rows, part, prefix, start, end)
        if written is None:
            stages = {key: _Stage(connection, part) for key, part in parts.items() if part is not None}
            written = _load(report_type, routed, parts, stages)
            for stage in stages.values():
                stage.merge(report_type, start, end)
                stage.drop()
        if report_type == TARGETING:
            refresh_target_weeks(connection, profile_id, start, end)
        connection.execute(data_changed(seller_id=seller_id) if seller_id is not None
                           else data_changed(profile_id=profile_id))
        return written
    except BaseException:
        session.rollback()
        raise


def refresh_target_weeks(session: Session | Connection, profile_id: int, start: dt.date, end: dt.date) -> None:
    """Sum the profile's days again into every week of `sp_target_weekly` that [start, end] touches (where the
    dialect keeps it, `WEEKLY_DIALECTS`), in the caller's transaction: the ingest calls it after replacing a
    targeting slice, so the weeks never disagree with the days."""
    connection = session if isinstance(session, Connection) else session.connection()
    if connection.dialect.name not in WEEKLY_DIALECTS:
        return
    first, last = week_of(start), week_of(end)
    weekly, daily = SpTargetWeekly.__table__, SpTargetDaily.__table__
    connection.execute(delete(weekly).where(weekly.c.profile_id == profile_id,
                                            weekly.c.week_start.between(first, last)))
    week = cast(func.date_trunc("week", cast(daily.c.date, DateTime)), Date)
    connection.execute(insert(weekly).from_select(
        ["profile_id", "week_start", "target_id", *WEEKLY_METRICS],
        select(daily.c.profile_id, week, daily.c.target_id, *(func.sum(daily.c[m]) for m in WEEKLY_METRICS))
        .where(daily.c.profile_id == profile_id, daily.c.date.between(first, last + dt.timedelta(days=6)))
        .group_by(daily.c.profile_id, week, daily.c.target_id)))


def _copy_prefix(constants: dict[str, Any]) -> str | None:
    """The constant columns as the start of a COPY text line, or None if they need escaping."""
    cells = [str(value) for value in constants.values()]
    if not all(type(value) in (int, str) for value in constants.values()) or copy_text.SPECIAL.search("".join(cells)):
        return None
    return "".join(f"{cell}\t" for cell in cells)


def _load_direct(
    connection: Connection, report_type: str, stream: ArrayStream, part: Part, prefix: str, start: dt.date, end: dt.date
) -> int:
    """The bulk path (PostgreSQL, an Ads report's own download): delete the slice, then one COPY into the fact table.

    No staging table: every check runs in Python before a row is sent, so the only error the COPY can add is a
    duplicate key — reported, like the staged path's, once the rest of the report has been checked too (a bad row
    anywhere outranks a duplicate). Readers still see the old slice until the caller commits.
    """
    fact = part.fact
    _delete_slice(connection, part, start, end)
    names = ", ".join([*part.constants, *part.mapper.columns])
    constants = list(part.constants.values())
    blocks = _blocks(report_type, stream, part.mapper, prefix)
    written = 0
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor, cursor.copy(f"COPY {fact.name} ({names}) FROM STDIN") as copy:
            for block, rows in blocks:
                if rows:
                    copy.write(block)
                    written += rows
                else:
                    copy.write_row([*constants, *block])
                    written += 1
    except psycopg.errors.UniqueViolation as exc:
        for _ in blocks:  # check the rest
            pass
        raise _duplicate(report_type, fact.name, exc) from None
    return written


def _blocks(report_type: str, stream: ArrayStream, mapper: RowMapper, prefix: str) -> Iterator[tuple[Any, int]]:
    """``(COPY text, rows)`` for each slice the bulk decoder takes whole, ``(values, 0)`` for each row mapped one
    by one (slices it refuses, and whatever `ArrayStream.raw_batches` could not cut). Raises `IngestError` for
    the first bad row, in report order, with the row-by-row mapper's message."""
    fast = mapper.fast
    number = 0  # rows read so far
    for batch in stream.raw_batches():
        try:
            if not batch.isascii():
                batch.decode()  # msgspec does not check the UTF-8 of the fields it skips
            rows = fast.decode(batch)
        except msgspec.ValidationError:
            rows = None
        except (msgspec.DecodeError, UnicodeDecodeError):  # broken JSON, or a cut inside a string: read exactly
            yield from _mapped(report_type, stream.items_after(batch), mapper, number)
            return
        block = None if rows is None else fast.copy_block(rows, prefix)
        if block is None:
            number = yield from _mapped(report_type, iter_array_items([batch]), mapper, number)
        else:
            number += len(rows)
            yield block, len(rows)
    yield from _mapped(report_type, stream.rest_items(), mapper, number)


def _mapped(report_type: str, items: Iterable[Any], mapper: RowMapper, number: int) -> Iterator[tuple[Any, int]]:
    """Rows mapped one by one, numbered after ``number``; returns the last row number."""
    for number, row in enumerate(items, number + 1):  # noqa: B020 (the count goes on)
        try:
            values = mapper(row)
        except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError):
            raise IngestError(f"{report_type} row {number}: {mapper.diagnose(row)}") from None
        yield values, 0
    return number


def _delete_slice(connection: Connection, part: Part, start: dt.date, end: dt.date) -> None:
    fact = part.fact
    where = [fact.c[name] == value for name, value in part.scope.items()]
    connection.execute(delete(fact).where(*where, fact.c[part.date_column].between(start, end)))


def _duplicate(report_type: str, table: str, exc: BaseException) -> IngestError:
    detail = getattr(exc, "diag", None)
    reason = getattr(detail, "message_detail", None) or str(exc).splitlines()[0]
    return IngestError(f"{report_type}: two rows for the same {table} key ({reason})")


def _load(report_type: str, routed: Iterable[tuple[str | None, Any]], parts: dict, stages: dict) -> int:
    for number, (key, row) in enumerate(routed, 1):
        if key not in parts:
            raise IngestError(f"{report_type} row {number}: unexpected document section {key!r}")
        stage = stages.get(key)
        if stage is None:  # a section this window does not store
            continue
        try:
            values = stage.part.mapper(row)
        except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError):
            raise IngestError(f"{report_type} row {number}: {stage.part.mapper.diagnose(row)}") from None
        stage.add(values)
    for stage in stages.values():
        stage.flush()
    return sum(stage.rows for stage in stages.values())


class _Stage:
    """A temporary table shaped like the mapper's columns, filled in batches."""

    def __init__(self, connection: Connection, part: Part):
        self.connection = connection
        self.part = part
        self.columns = part.mapper.columns
        fact = part.fact
        staged = (Column(name, fact.c[name].type) for name in self.columns)
        self.table = Table(f"ingest_stage_{fact.name}", MetaData(), *staged, prefixes=["TEMPORARY"])
        self.postgres = connection.dialect.name == "postgresql"
        connection.execute(text(f"DROP TABLE IF EXISTS {self.table.name}"))  # left by a failed call (SQLite)
        self.table.create(connection)
        self.batch: list[list[Any]] = []
        self.rows = 0

    def add(self, values: list[Any]) -> None:
        self.batch.append(values)
        if len(self.batch) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        if self.postgres:
            names = ", ".join(self.columns)
            cursor = self.connection.connection.driver_connection.cursor()
            with cursor, cursor.copy(f"COPY {self.table.name} ({names}) FROM STDIN") as copy:
                for values in self.batch:
                    copy.write_row(values)
        else:
            self.connection.execute(insert(self.table), [dict(zip(self.columns, v, strict=True)) for v in self.batch])
        self.rows += len(self.batch)
        self.batch = []

    def merge(self, report_type: str, start: dt.date, end: dt.date) -> None:
        """Delete the slice, insert staging: one statement each, inside the caller's transaction."""
        fact, part = self.part.fact, self.part
        _delete_slice(self.connection, part, start, end)
        constants = [literal(value, fact.c[name].type).label(name) for name, value in part.constants.items()]
        source = select(*constants, *(self.table.c[name] for name in self.columns))
        try:
            self.connection.execute(insert(fact).from_select([*part.constants, *self.columns], source))
        except IntegrityError as exc:
            raise _duplicate(report_type, fact.name, exc.orig) from None

    def drop(self) -> None:
        self.table.drop(self.connection)
