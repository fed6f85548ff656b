"""Sync runs and the reports they wait for, persisted so a restarted worker resumes instead of re-requesting."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketing.clock import now
from marketing.models.base import Base


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some reports stored, some failed (`SyncRun.error` says which and why)
    FAILED = "failed"  # nothing stored


# A run in one of these has not ended: a seller has at most one, and its steps may still act.
ACTIVE_RUN = (RunStatus.QUEUED, RunStatus.RUNNING)


class ReportStatus(StrEnum):
    """Where one report of a run stands: asked for (`requested`), made by Amazon (`ready`), stored (`ingested`);
    or given up on (`failed`, re-planned by the next run), or optional data Amazon withholds for a role the
    app lacks (`refused`: a notice, not a failure)."""

    NEW = "new"
    REQUESTED = "requested"
    READY = "ready"
    INGESTED = "ingested"
    FAILED = "failed"
    REFUSED = "refused"


# A report in one of these is finished: its run ends when all of its reports are.
ENDED_REPORT = (ReportStatus.INGESTED, ReportStatus.FAILED, ReportStatus.REFUSED)


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # backfill | nightly | manual
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # why reports failed (a failed or partial run)
    notice: Mapped[str | None] = mapped_column(Text)  # what Amazon withheld without failing the run
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    reports: Mapped[list[SyncReport]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                     order_by="SyncReport.id")


class SyncReport(Base):
    """One report of a run: requested at Amazon, checked later, downloaded and ingested."""

    __tablename__ = "sync_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(8))  # ads | sp
    profile_id: Mapped[int | None] = mapped_column(BigInteger)  # ads reports
    marketplace_id: Mapped[str | None] = mapped_column(String(32))  # SP-API reports
    report_type: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.NEW)
    amazon_report_id: Mapped[str | None] = mapped_column(String(128))
    checks: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # Since when Amazon has been throttling (or unavailable for) this report's step; cleared once it answers.
    waiting_since: Mapped[dt.datetime | None]

    run: Mapped[SyncRun] = relationship(back_populates="reports")
