"""SP-API reports (Sales & Traffic by day and by child ASIN): one report per marketplace and date window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marketing.amazon.hosts import Region
from marketing.amazon.sp import SpClient
from marketing.amazon.transport import Transport
from marketing.connections import clients
from marketing.models import Connection, SyncReport
from marketing.sync import ingest
from marketing.sync.plan import SALES_TRAFFIC
from marketing.sync.sources.base import Status


def client(transport: Transport, connection: Connection) -> SpClient:
    app_id, _ = clients.credentials("sp")
    return SpClient(transport, clients.hosts(), Region(connection.seller.region),
                    clients.token_source(connection, transport),
                    rate_scope=f"{app_id}:{connection.seller.selling_partner_id or connection.seller_id}")


class SpReports:
    api = "sp"

    def where(self, report: SyncReport) -> str:
        return f"marketplace {report.marketplace_id}"

    def create(self, transport: Transport, connection: Connection, report: SyncReport, name: str) -> str:
        return client(transport, connection).create_report(
            SALES_TRAFFIC, [report.marketplace_id], report.start_date, report.end_date,
            options={"dateGranularity": "DAY", "asinGranularity": "CHILD"})

    def status(self, transport: Transport, connection: Connection, report: SyncReport) -> Status:
        status = client(transport, connection).get_report(report.amazon_report_id)
        if status.status == "CANCELLED":  # Amazon cancels a report that has no data
            return Status(status.status, ready=False, empty=True)
        status.raise_if_failed()
        return Status(status.status, ready=status.status == "DONE")

    def rows(self, transport: Transport, connection: Connection, report: SyncReport) -> Iterator[dict[str, Any]]:
        sp = client(transport, connection)
        status = sp.get_report(report.amazon_report_id)
        status.raise_if_failed()
        document = sp.get_report_document(status.document_id)
        return sp.iter_document_items(document.url, document.compression, ingest.SALES_TRAFFIC_PREFIXES)


SOURCE = SpReports()
