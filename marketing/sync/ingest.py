"""Write one downloaded report into its fact table: streamed, validated, then swapped in atomically.

Rows are mapped as they arrive and loaded in batches into a temporary staging table (PostgreSQL: `COPY`;
SQLite: `executemany`), so memory stays flat whatever the report size. Only when the whole stream has been
read and validated is the report's slice of the fact table — (profile or seller+marketplace, date window) —
deleted and re-inserted from staging. Everything runs in the caller's transaction: until it commits, readers
see the previous data, and a failure rolls it all back. Re-ingesting a report is therefore idempotent;
restated rows change and rows Amazon no longer reports disappear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, delete, insert, literal, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .rows import (
    ADS_REPORT_TYPES,
    ATTRIBUTION_DAYS,
    SALES_TRAFFIC,
    SALES_TRAFFIC_PREFIXES,
    IngestError,
    Part,
    ads_part,
    sales_traffic_parts,
)

__all__ = ["ATTRIBUTION_DAYS", "SALES_TRAFFIC_PREFIXES", "IngestError", "ingest_report"]
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
) -> int:
    """Replace the report's slice of its fact table with ``rows``; return the number of rows written.

    Ads reports (`spCampaigns`, `spTargeting`, `spSearchTerm`, `spAdvertisedProduct`): ``rows`` are the
    report's row dicts (`AdsClient.iter_report_rows`), ``profile_id`` and ``attribution_days`` (7 for
    sellers, 14 for vendors: `ATTRIBUTION_DAYS[profile.account_type]`) are required, and ``currency`` is the
    profile's. `GET_SALES_AND_TRAFFIC_REPORT`: ``rows`` are the ``(prefix, item)`` pairs of
    `SpClient.iter_document_items(url, compression, SALES_TRAFFIC_PREFIXES)`, with ``seller_id``,
    ``marketplace_id`` and the marketplace's ``currency``; by-ASIN items are stored only for a one-day report
    (Amazon sums them over the whole range), dated that day.

    Raises `IngestError` (report type, row number, field) for a missing or garbled field, a date outside
    [start, end], another currency, or two rows with the same key (duplicates are refused, not merged).
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
        parts = dict(sales_traffic_parts(seller_id, marketplace_id, start, end, currency))
        routed = rows
    else:
        raise ValueError(f"unknown report type {report_type!r}")
    connection = session if isinstance(session, Connection) else session.connection()
    try:
        stages = {key: _Stage(connection, part) for key, part in parts.items() if part is not None}
        written = _load(report_type, routed, parts, stages)
        for stage in stages.values():
            stage.merge(report_type, start, end)
            stage.drop()
        return written
    except BaseException:
        session.rollback()
        raise


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
        where = [fact.c[name] == value for name, value in part.scope.items()]
        self.connection.execute(delete(fact).where(*where, fact.c.date.between(start, end)))
        constants = [literal(value, fact.c[name].type).label(name) for name, value in part.constants.items()]
        source = select(*constants, *(self.table.c[name] for name in self.columns))
        try:
            self.connection.execute(insert(fact).from_select([*part.constants, *self.columns], source))
        except IntegrityError as exc:
            detail = getattr(exc.orig, "diag", None)
            reason = getattr(detail, "message_detail", None) or str(exc.orig).splitlines()[0]
            raise IngestError(f"{report_type}: two rows for the same {fact.name} key ({reason})") from None

    def drop(self) -> None:
        self.table.drop(self.connection)
