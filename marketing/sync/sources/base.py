"""What every report source adapter provides (`Source`) and the status it reports (`Status`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from marketing.amazon.errors import AmazonError
from marketing.amazon.transport import Transport
from marketing.models import Connection, SyncReport


@dataclass(frozen=True)
class Status:
    state: str  # Amazon's word for it (COMPLETED, IN_PROGRESS, DONE, ...), quoted in messages
    ready: bool  # the file can be downloaded
    empty: bool = False  # Amazon will make no file because there is no data: the report is done with 0 rows


class Source(Protocol):
    api: str  # the `Connection.api` it talks through ("ads", "sp")

    def where(self, report: SyncReport) -> str:
        """The report's scope in a sentence: "profile 123" or "marketplace ATVPDKIKX0DER"."""

    def create(self, transport: Transport, connection: Connection, report: SyncReport, name: str) -> str:
        """Ask Amazon for the report; returns Amazon's report id."""

    def status(self, transport: Transport, connection: Connection, report: SyncReport) -> Status:
        """One look at the report; raises ReportFailed when Amazon gave up on it."""

    def rows(self, transport: Transport, connection: Connection, report: SyncReport) -> Iterator[dict[str, Any]]:
        """Stream the finished report's rows (fetching a fresh download URL first)."""

    def refusal(self, report: SyncReport, exc: AmazonError) -> str | None:
        """The notice to show when `exc` withholds optional data for a role the app lacks; None when it is a
        failure of the report."""
