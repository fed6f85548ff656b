"""Selling Partner API: Reports 2021-06-30 and FBA inventory summaries (SP_API.md §3-5)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from .errors import MalformedResponse, ReportFailed
from .hosts import Hosts, Region
from .streams import decoded_body, iter_object_items
from .transport import Limit, TokenProvider, Transport, as_transport, json_body

REPORTS = "/reports/2021-06-30"
INVENTORY_SUMMARIES = "/fba/inventory/v1/summaries"
# SP-API rejects calls without a user-agent naming the app and the language (SP_API.md §3.2).
DEFAULT_USER_AGENT = "marketing-dashboard/0.1 (Language=Python)"
# Amazon's default usage plans, per application + selling partner and operation (SP_API.md §3.3, §4.1, §5.4).
RATE_LIMITS = {
    "createReport": Limit(1 / 60, 15),
    "getReport": Limit(2.0, 15),
    "getReportDocument": Limit(1 / 60, 15),
    "getInventorySummaries": Limit(2.0, 2),
}


@dataclass(frozen=True)
class SpReport:
    report_id: str
    report_type: str
    status: str  # IN_QUEUE | IN_PROGRESS | DONE | CANCELLED | FATAL
    document_id: str | None

    @property
    def done(self) -> bool:
        return self.status in ("DONE", "CANCELLED", "FATAL")

    def raise_if_failed(self) -> None:
        """FATAL and CANCELLED (Amazon cancels when there is no data) leave no document to read."""
        if self.status in ("CANCELLED", "FATAL"):
            raise ReportFailed(
                f"Amazon ended report {self.report_id} ({self.report_type}) as {self.status}", code=self.status
            )


@dataclass(frozen=True)
class SpReportDocument:
    document_id: str
    url: str = field(repr=False)  # pre-signed, valid for 5 minutes: download right away
    compression: str | None  # "GZIP" or None


def _timestamp(value: datetime | date | str) -> str:
    """ISO 8601 in UTC as SP-API wants it; a bare date means its midnight UTC."""
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _require(body: Any, *names: str, what: str) -> dict[str, Any]:
    if not isinstance(body, dict) or any(not body.get(n) for n in names):
        raise MalformedResponse(f"{what} returned an unexpected shape (expected {', '.join(names)})")
    return body


class SpClient:
    """One seller authorisation in one SP-API region."""

    def __init__(
        self,
        http_client: httpx.Client | Transport,
        hosts: Hosts,
        region: Region,
        token_source: TokenProvider,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        rate_scope: str | None = None,
        time_scale: float = 1.0,
    ):
        """``rate_scope`` names the application + selling partner (e.g. "<LwA client id>:<selling partner id>");
        with it, each call is paced through the transport's limiter under `RATE_LIMITS` of its operation, in
        Amazon's seconds: ``time_scale`` of them pass per real second (a sandbox with a faster clock; 1 for
        Amazon)."""
        self._transport = as_transport(http_client)
        self._hosts = hosts
        self._region = Region(region)
        self._token = token_source
        self._user_agent = user_agent
        self._rate_scope = rate_scope
        self._time_scale = time_scale

    def _call(self, method: str, path: str, operation: str, **kw: Any) -> httpx.Response:
        headers = {"user-agent": self._user_agent, "Accept": "application/json"}
        if "json" in kw:
            headers["Content-Type"] = "application/json"
        if self._rate_scope is not None:
            limit = RATE_LIMITS[operation]
            kw.update(rate_key=f"sp:{self._rate_scope}:{self._region}:{operation}",
                      rate_limit=Limit(limit.rate * self._time_scale, limit.burst))
        return self._transport.request(
            method,
            self._hosts.sp_api(self._region, path),
            headers=headers,
            token=self._token,
            bearer=False,
            **kw,
        )

    def create_report(
        self,
        report_type: str,
        marketplace_ids: Sequence[str],
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
        options: dict[str, str] | None = None,
    ) -> str:
        """Request a report; returns its reportId (Amazon answers 202)."""
        body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
        if start is not None:
            body["dataStartTime"] = _timestamp(start)
        if end is not None:
            body["dataEndTime"] = _timestamp(end)
        if options:
            body["reportOptions"] = dict(options)
        response = self._call("POST", f"{REPORTS}/reports", "createReport", json=body)
        return str(_require(json_body(response), "reportId", what="createReport")["reportId"])

    def get_report(self, report_id: str) -> SpReport:
        body = _require(
            json_body(self._call("GET", f"{REPORTS}/reports/{report_id}", "getReport")),
            "reportId",
            "processingStatus",
            what="getReport",
        )
        return SpReport(
            report_id=str(body["reportId"]),
            report_type=body.get("reportType", ""),
            status=body["processingStatus"],
            document_id=body.get("reportDocumentId"),
        )

    def get_report_document(self, document_id: str) -> SpReportDocument:
        body = _require(
            json_body(self._call("GET", f"{REPORTS}/documents/{document_id}", "getReportDocument")),
            "reportDocumentId",
            "url",
            what="getReportDocument",
        )
        return SpReportDocument(str(body["reportDocumentId"]), body["url"], body.get("compressionAlgorithm"))

    def download_document(self, url: str, compression: str | None) -> Iterator[bytes]:
        """The document's bytes, decompressed, as they arrive (tab-separated or JSON per report type)."""
        with self._transport.stream("GET", url, strip_auth=True) as response:
            yield from decoded_body(response, gzipped=compression == "GZIP")

    def iter_document_items(
        self, url: str, compression: str | None, prefixes: Iterable[str]
    ) -> Iterator[tuple[str, Any]]:
        """Stream ``(prefix, item)`` out of a JSON document, e.g. prefixes ``["promotions.item"]``."""
        yield from iter_object_items(self.download_document(url, compression), prefixes)

    def iter_inventory_summaries(
        self, marketplace_id: str, *, details: bool = True, seller_skus: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """FBA inventory summaries for one marketplace, following ``pagination.nextToken``."""
        params: dict[str, Any] = {
            "granularityType": "Marketplace",
            "granularityId": marketplace_id,
            "marketplaceIds": marketplace_id,
            "details": "true" if details else "false",
        }
        if seller_skus:
            params["sellerSkus"] = ",".join(seller_skus)
        while True:
            body = json_body(self._call("GET", INVENTORY_SUMMARIES, "getInventorySummaries", params=params))
            payload = body.get("payload") if isinstance(body, dict) else None
            if not isinstance(payload, dict) or not isinstance(payload.get("inventorySummaries"), list):
                raise MalformedResponse("getInventorySummaries returned no payload.inventorySummaries")
            yield from payload["inventorySummaries"]
            next_token = (body.get("pagination") or {}).get("nextToken")
            if not next_token:
                return
            params = {**params, "nextToken": next_token}
