"""Amazon Ads reporting v3 (Sponsored Products reports): one report per profile, type and date window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marketing.amazon.ads import REPORT_COLUMNS, REPORT_GROUP_BY, AdsClient
from marketing.amazon.errors import AmazonError, MalformedResponse
from marketing.amazon.hosts import Region
from marketing.amazon.transport import Transport
from marketing.connections import clients
from marketing.models import Connection, SyncReport
from marketing.sync.sources.base import Status


def client(transport: Transport, connection: Connection) -> AdsClient:
    client_id, _ = clients.credentials("ads")
    return AdsClient(transport, clients.hosts(), Region(connection.seller.region), client_id,
                     clients.token_source(connection, transport))


class AdsReports:
    api = "ads"

    def where(self, report: SyncReport) -> str:
        return f"profile {report.profile_id}"

    def create(self, transport: Transport, connection: Connection, report: SyncReport, name: str) -> str:
        answer = client(transport, connection).create_report(
            report.profile_id, report.report_type, report.start_date, report.end_date,
            REPORT_COLUMNS[report.report_type], REPORT_GROUP_BY[report.report_type], name=name)
        return answer.report_id

    def status(self, transport: Transport, connection: Connection, report: SyncReport) -> Status:
        status = client(transport, connection).get_report(report.profile_id, report.amazon_report_id)
        status.raise_if_failed()
        return Status(status.status, ready=status.status == "COMPLETED")

    def rows(self, transport: Transport, connection: Connection, report: SyncReport) -> Iterator[dict[str, Any]]:
        ads = client(transport, connection)
        status = ads.get_report(report.profile_id, report.amazon_report_id)  # a fresh pre-signed URL
        status.raise_if_failed()
        if not status.url:
            raise MalformedResponse(f"report {report.amazon_report_id} is {status.status} without a URL")
        return ads.iter_report_rows(status.url)

    def refusal(self, report: SyncReport, exc: AmazonError) -> None:
        return None  # every Ads report is the product's core data: a refusal is a failure


SOURCE = AdsReports()
