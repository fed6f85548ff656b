"""SP-API reports (Sales & Traffic by day and by child ASIN): one report per marketplace and date window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marketing.amazon.errors import AmazonError
from marketing.amazon.hosts import Region
from marketing.amazon.sp import SpClient
from marketing.amazon.transport import Transport
from marketing.connections import clients
from marketing.models import Connection, SyncReport
from marketing.sync import ingest
from marketing.sync.plan import SALES_TRAFFIC
from marketing.sync.sources.base import Status

# The role an app needs for each report type we ask for (shared/amazon/SP_API.md §9: Sales & Traffic is said to
# need Brand Analytics; Amazon's 403 does not say).
ROLES = {SALES_TRAFFIC: "Brand Analytics"}


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

    def refusal(self, report: SyncReport, exc: AmazonError) -> str | None:
        """A 403 that outlived the transport's one retry with a fresh access token is a role refusal, not a token
        problem (Amazon sends the same body for both): Sales & Traffic is optional, so the run goes on."""
        if exc.status != 403:
            return None
        role = ROLES.get(report.report_type, "the report's")
        return (f"Amazon withheld the Sales & Traffic report for {self.where(report)}: the Seller Central app "
                f"lacks the {role} role. Grant the app that role (the seller then authorizes it again) to get "
                "sales and traffic; the Ads data is not affected.")


SOURCE = SpReports()
