"""SP-API reports: Sales & Traffic (daily totals; by child ASIN), the coupon and the deal reports, one per
marketplace and window; and the role refusal that makes each optional data with a notice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import current_app

from marketing.amazon.errors import AmazonError
from marketing.amazon.hosts import Region
from marketing.amazon.sp import SpClient
from marketing.amazon.transport import Transport
from marketing.connections import clients
from marketing.models import Connection, SyncReport
from marketing.sync import ingest, promotions
from marketing.sync.plan import COUPONS, INVENTORY, PROMOTIONS, SALES_TRAFFIC
from marketing.sync.sources.base import Status

# The role an app needs for each report type we ask for (shared/amazon/SP_API.md §5, §9: Sales & Traffic is said
# to need Brand Analytics, the deal report Selling Partner Insights; the coupon report's is not documented, and
# Amazon's 403 does not say).
ROLES = {SALES_TRAFFIC: "Brand Analytics", PROMOTIONS: "Selling Partner Insights",
         INVENTORY: "Amazon Fulfillment"}
# What each withheld data is, in the refusal notice.
WITHHELD = {SALES_TRAFFIC: ("the Sales & Traffic report", "sales and traffic"),
            COUPONS: ("the coupon report", "coupon results"),
            PROMOTIONS: ("the deal report", "Lightning Deal and Best Deal results"),
            INVENTORY: ("the FBA inventory", "stock levels")}
# The start-window options of the promotion reports (their dataStartTime/dataEndTime are not used).
WINDOW_OPTIONS = {COUPONS: ("couponStartDateFrom", "couponStartDateTo"),
                  PROMOTIONS: ("promotionStartDateFrom", "promotionStartDateTo")}


def report_options(report: SyncReport) -> tuple[dict[str, str], bool]:
    """(reportOptions, whether the report's dates are its data range) of a planned SP report."""
    if report.report_type in WINDOW_OPTIONS:
        first, last = WINDOW_OPTIONS[report.report_type]
        return {first: f"{report.start_date.isoformat()}T00:00:00Z",
                last: f"{report.end_date.isoformat()}T23:59:59Z"}, False
    return {"dateGranularity": "DAY", "asinGranularity": "CHILD"}, True


def client(transport: Transport, connection: Connection) -> SpClient:
    app_id, _ = clients.credentials("sp")
    return SpClient(transport, clients.hosts(), Region(connection.seller.region),
                    clients.token_source(connection, transport),
                    rate_scope=f"{app_id}:{connection.seller.selling_partner_id or connection.seller_id}",
                    time_scale=float(current_app.config.get("AMAZON_TIME_SCALE", 1.0)))


class SpReports:
    api = "sp"

    def where(self, report: SyncReport) -> str:
        return f"marketplace {report.marketplace_id}"

    def create(self, transport: Transport, connection: Connection, report: SyncReport, name: str) -> str:
        options, ranged = report_options(report)
        return client(transport, connection).create_report(
            report.report_type, [report.marketplace_id], *((report.start_date, report.end_date) if ranged else ()),
            options=options)

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
        prefixes = promotions.PREFIXES.get(report.report_type, ingest.SALES_TRAFFIC_PREFIXES)
        return sp.iter_document_items(document.url, document.compression, prefixes)

    def refusal(self, report: SyncReport, exc: AmazonError) -> str | None:
        """A 403 that outlived the transport's one retry with a fresh access token is a role refusal, not a token
        problem (Amazon sends the same body for both): every SP-API data is optional, so the run goes on."""
        return refusal_notice(report.report_type, self.where(report), exc)


def refusal_notice(report_type: str, where: str, exc: AmazonError) -> str | None:
    """The notice for a role refusal (a 403) of `report_type`, None for any other error."""
    if exc.status != 403:
        return None
    role = f"the {ROLES[report_type]}" if report_type in ROLES else "the report's"
    what, data = WITHHELD.get(report_type, (f"the {report_type} report", "that data"))
    return (f"Amazon withheld {what} for {where}: the Seller Central app lacks {role} role. Grant the app "
            f"that role (the seller then authorizes it again) to get {data}; the rest of the sync is not "
            "affected.")


SOURCE = SpReports()
