"""Amazon Ads API: profiles, Sponsored Products v3 entities and bids, reporting v3 (ADS_API.md §2-4)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from .errors import (
    AmazonError,
    AmazonRequestError,
    AmazonUnavailable,
    InvalidClient,
    InvalidGrant,
    MalformedResponse,
    ReportFailed,
    Throttled,
)
from .hosts import Hosts, Region
from .streams import ArrayStream, decoded_body
from .transport import TokenProvider, Transport, as_transport, json_body

# kind -> (vendor media type, response/request array key, own id filter, id field)
ENTITY_KINDS: dict[str, tuple[str, str, str, str]] = {
    "campaigns": ("application/vnd.spCampaign.v3+json", "campaigns", "campaignIdFilter", "campaignId"),
    "adGroups": ("application/vnd.spAdGroup.v3+json", "adGroups", "adGroupIdFilter", "adGroupId"),
    "keywords": ("application/vnd.spKeyword.v3+json", "keywords", "keywordIdFilter", "keywordId"),
    "targets": (
        "application/vnd.spTargetingClause.v3+json",
        "targetingClauses",
        "targetIdFilter",
        "targetId",
    ),
    "productAds": ("application/vnd.spProductAd.v3+json", "productAds", "adIdFilter", "adId"),
}
MAX_ID_FILTER = 1000  # the entity's own id filter (SponsoredProductsObjectIdFilter.maxItems)
MAX_UPDATE_BATCH = 1000  # PUT /sp/keywords|targets maxItems
REPORT_CONTENT_TYPE = "application/vnd.createasyncreportrequest.v3+json"

_METRICS = [
    "impressions", "clicks", "cost", "costPerClick", "clickThroughRate",
    *(f"{m}{d}" for m in ("purchases", "purchasesSameSku", "unitsSoldClicks", "unitsSoldSameSku", "sales",
                          "attributedSalesSameSku") for d in ("1d", "7d", "14d", "30d")),
]  # fmt: skip
# Columns the product requests per report type (ADS_API.md §4.4), for groupBy in REPORT_GROUP_BY.
SP_CAMPAIGNS_COLUMNS = (
    "date", *_METRICS, "spend", "campaignBiddingStrategy",
    "campaignId", "campaignName", "campaignStatus", "campaignBudgetAmount", "campaignBudgetType",
    "campaignBudgetCurrencyCode", "topOfSearchImpressionShare",
)  # fmt: skip
SP_TARGETING_COLUMNS = (
    "date", *_METRICS, "salesOtherSku7d", "unitsSoldOtherSku7d", "acosClicks7d", "acosClicks14d",
    "roasClicks7d", "roasClicks14d", "keywordId", "keyword", "keywordBid", "keywordType", "matchType",
    "targeting", "adKeywordStatus", "adGroupId", "adGroupName", "campaignId", "campaignName",
    "campaignStatus", "campaignBudgetAmount", "campaignBudgetType", "campaignBudgetCurrencyCode",
    "portfolioId", "topOfSearchImpressionShare",
)  # fmt: skip
SP_SEARCH_TERM_COLUMNS = (
    *(c for c in SP_TARGETING_COLUMNS if c != "topOfSearchImpressionShare"),
    "searchTerm",
)
SP_ADVERTISED_PRODUCT_COLUMNS = (
    "date", *_METRICS, "spend", "campaignId", "campaignName", "campaignStatus", "campaignBudgetAmount",
    "campaignBudgetType", "campaignBudgetCurrencyCode", "adGroupId", "adGroupName", "adId",
    "advertisedAsin", "advertisedSku", "portfolioId",
)  # fmt: skip
REPORT_COLUMNS = {
    "spCampaigns": SP_CAMPAIGNS_COLUMNS,
    "spTargeting": SP_TARGETING_COLUMNS,
    "spSearchTerm": SP_SEARCH_TERM_COLUMNS,
    "spAdvertisedProduct": SP_ADVERTISED_PRODUCT_COLUMNS,
}
REPORT_GROUP_BY = {
    "spCampaigns": ("campaign",),
    "spTargeting": ("targeting",),
    "spSearchTerm": ("searchTerm",),
    "spAdvertisedProduct": ("advertiser",),
}
_AD_PRODUCTS = {"sp": "SPONSORED_PRODUCTS", "sb": "SPONSORED_BRANDS", "sd": "SPONSORED_DISPLAY"}
_DUPLICATE_REPORT = re.compile(r"duplicate of\s*:?\s*([A-Za-z0-9-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Profile:
    profile_id: int
    country_code: str
    currency_code: str
    timezone: str
    marketplace_id: str
    account_type: str  # seller | vendor | agency
    account_id: str | None
    account_name: str | None


@dataclass(frozen=True)
class BidResult:
    entity_id: str
    bid: float
    ok: bool
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False  # the whole batch was throttled / Amazon was down: send again later


@dataclass(frozen=True)
class ReportRequest:
    report_id: str
    reused: bool  # Amazon answered 425: an identical report is already being generated


@dataclass(frozen=True)
class ReportStatus:
    report_id: str
    status: str  # PENDING | PROCESSING | COMPLETED | FAILED
    url: str | None
    failure_reason: str | None
    file_size: int | None
    url_expires_at: str | None

    @property
    def done(self) -> bool:
        return self.status in ("COMPLETED", "FAILED")

    def raise_if_failed(self) -> None:
        if self.status == "FAILED":
            raise ReportFailed(f"Amazon could not generate report {self.report_id}: {self.failure_reason}")


def _profile(item: dict[str, Any]) -> Profile:
    try:
        info = item.get("accountInfo") or {}
        return Profile(
            profile_id=int(item["profileId"]),
            country_code=item["countryCode"],
            currency_code=item["currencyCode"],
            timezone=item["timezone"],
            marketplace_id=info["marketplaceStringId"],
            account_type=info["type"],
            account_id=info.get("id"),
            account_name=info.get("name"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponse(f"Unexpected profile shape from GET /v2/profiles: missing {exc}") from exc


def _iso(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else day


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AdsClient:
    """One advertiser connection in one region of the Ads API."""

    def __init__(
        self,
        http_client: httpx.Client | Transport,
        hosts: Hosts,
        region: Region,
        client_id: str,
        token_source: TokenProvider,
        *,
        page_size: int | None = None,
    ):
        self._transport = as_transport(http_client)
        self._hosts = hosts
        self._region = Region(region)
        self._client_id = client_id
        self._token = token_source
        self._page_size = page_size
        self._account_types: dict[int, str] = {}  # from list_profiles, to explain refusals

    def _call(
        self,
        method: str,
        path: str,
        *,
        profile_id: int | None = None,
        media_type: str | None = None,
        content_type: str | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """``media_type`` sets Content-Type and Accept (SP v3); ``content_type`` only the former."""
        headers = {"Amazon-Advertising-API-ClientId": self._client_id}
        if profile_id is not None:
            headers["Amazon-Advertising-API-Scope"] = str(profile_id)
        if media_type:
            headers["Content-Type"] = headers["Accept"] = media_type
        elif content_type:
            headers["Content-Type"] = content_type
        # Amazon limits an app per profile: one bucket per (client id, profile), whatever process calls.
        key = f"ads:{self._client_id}:{profile_id}" if profile_id is not None else None
        try:
            return self._transport.request(
                method,
                self._hosts.ads_api(self._region, path),
                headers=headers,
                token=self._token,
                rate_key=key,
                **kw,
            )
        except AmazonRequestError as exc:
            if profile_id is not None and exc.status in (400, 401, 403):
                self._explain_refusal(exc, profile_id)
            raise

    def _explain_refusal(self, exc: AmazonRequestError, profile_id: int) -> None:
        """Amazon's words for an unmanageable profile are cryptic; say what it means."""
        if self._account_types.get(profile_id) == "agency":
            exc.message = (
                f"Profile {profile_id} is an agency/DSP profile; Amazon refuses Sponsored Products "
                f"calls for it: {exc.message}"
            )
        elif exc.status in (401, 403):
            exc.message = (
                f"Amazon refused access to profile {profile_id} (this login lacks campaign permission for it, "
                f"or it is an agency/DSP profile): {exc.message}"
            )
        exc.args = (exc.message,)

    def list_profiles(self) -> list[Profile]:
        """Profiles this connection can see in this region (GET /v2/profiles)."""
        body = json_body(self._call("GET", "/v2/profiles"))
        if not isinstance(body, list):
            raise MalformedResponse("GET /v2/profiles did not return a list")
        profiles = [_profile(item) for item in body]
        self._account_types.update((p.profile_id, p.account_type) for p in profiles)
        return profiles

    def iter_entities(
        self,
        profile_id: int,
        kind: str,
        state_filter: Iterable[str] | None = None,
        id_filter: Iterable[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every SP entity of ``kind`` as Amazon returns it (ids are strings), following nextToken."""
        media_type, key, id_filter_name, _ = ENTITY_KINDS[kind]
        base: dict[str, Any] = {}
        if state_filter:
            base["stateFilter"] = {"include": [s.upper() for s in state_filter]}
        if self._page_size:
            base["maxResults"] = self._page_size
        id_batches: Iterable[Sequence[str] | None] = [None]
        if id_filter is not None:
            id_batches = list(_chunks([str(i) for i in id_filter], MAX_ID_FILTER))
        for ids in id_batches:
            body = dict(base)
            if ids is not None:
                body[id_filter_name] = {"include": list(ids)}
            while True:
                page = json_body(
                    self._call(
                        "POST", f"/sp/{kind}/list", profile_id=profile_id, media_type=media_type,
                        json=body, idempotent=True,
                    )
                )  # fmt: skip
                if not isinstance(page, dict) or not isinstance(page.get(key, []), list):
                    raise MalformedResponse(f"POST /sp/{kind}/list returned an unexpected shape")
                yield from page.get(key, [])
                next_token = page.get("nextToken")
                if not next_token:
                    break
                body = {**body, "nextToken": next_token}

    def update_bids(self, profile_id: int, kind: str,
                    items: Sequence[tuple[str | int, float | None]]) -> list[BidResult]:
        """Set bids on keywords or targets; one result per item, in input order. A bid of None is sent as null:
        the keyword or target drops its own bid and inherits its ad group's default again.

        Sent in batches of 1000. Amazon's 207 answer is read per item; a batch Amazon refuses as a
        whole (4xx, or throttled/unavailable past our wait budget) yields an error for each item.
        """
        if kind not in ("keywords", "targets"):
            raise ValueError("kind must be 'keywords' or 'targets'")
        media_type, key, _, id_field = ENTITY_KINDS[kind]
        results: list[BidResult] = []
        for batch in _chunks([(str(i), None if b is None else float(b)) for i, b in items], MAX_UPDATE_BATCH):
            payload = {key: [{id_field: entity_id, "bid": bid} for entity_id, bid in batch]}
            try:
                response = self._call("PUT", f"/sp/{kind}", profile_id=profile_id, media_type=media_type, json=payload)
            except (InvalidGrant, InvalidClient):
                raise
            except AmazonError as exc:
                retryable = isinstance(exc, Throttled | AmazonUnavailable)
                results.extend(
                    BidResult(i, b, False, exc.code or type(exc).__name__, exc.message, retryable) for i, b in batch
                )
                continue
            results.extend(self._multi_status(json_body(response), key, id_field, batch))
        return results

    @staticmethod
    def _multi_status(body: Any, key: str, id_field: str, batch: Sequence[tuple[str, float]]) -> list[BidResult]:
        section = body.get(key) if isinstance(body, dict) else None
        if not isinstance(section, dict):
            raise MalformedResponse(f"Bid update answer has no '{key}' section")
        by_index: dict[int, BidResult] = {}
        for item in section.get("success") or []:
            index = item["index"]
            entity_id, bid = batch[index]
            by_index[index] = BidResult(str(item.get(id_field) or entity_id), bid, True)
        for item in section.get("error") or []:
            index = item["index"]
            entity_id, bid = batch[index]
            code, message = "UNKNOWN", "Amazon rejected the update without details"
            for err in item.get("errors") or []:
                for detail in (err.get("errorValue") or {}).values():
                    code = detail.get("reason") or err.get("errorType") or code
                    message = detail.get("message") or message
                    break
                break
            by_index[index] = BidResult(entity_id, bid, False, code, message)
        return [
            by_index.get(i) or BidResult(eid, bid, False, "NO_RESULT", "Amazon returned no result for this item")
            for i, (eid, bid) in enumerate(batch)
        ]

    def create_report(
        self,
        profile_id: int,
        report_type: str,
        start: date | str,
        end: date | str,
        columns: Sequence[str],
        group_by: Sequence[str],
        time_unit: str = "DAILY",
        filters: Sequence[dict[str, Any]] | None = None,
        name: str | None = None,
    ) -> ReportRequest:
        """Ask for a reporting-v3 report; an identical one already in progress (425) is reused."""
        configuration: dict[str, Any] = {
            "adProduct": _AD_PRODUCTS[report_type[:2]],
            "reportTypeId": report_type,
            "groupBy": list(group_by),
            "columns": list(columns),
            "timeUnit": time_unit,
            "format": "GZIP_JSON",
        }
        if filters:
            configuration["filters"] = list(filters)
        body: dict[str, Any] = {
            "startDate": _iso(start),
            "endDate": _iso(end),
            "configuration": configuration,
        }
        if name:
            body["name"] = name
        try:
            response = self._call(
                "POST", "/reporting/reports", profile_id=profile_id, content_type=REPORT_CONTENT_TYPE, json=body
            )
        except AmazonRequestError as exc:
            match = _DUPLICATE_REPORT.search(exc.message or "") if exc.status == 425 else None
            if match is None:
                raise
            return ReportRequest(match.group(1), reused=True)
        report = json_body(response)
        if not isinstance(report, dict) or not report.get("reportId"):
            raise MalformedResponse("POST /reporting/reports returned no reportId")
        return ReportRequest(str(report["reportId"]), reused=False)

    def get_report(self, profile_id: int, report_id: str) -> ReportStatus:
        body = json_body(self._call("GET", f"/reporting/reports/{report_id}", profile_id=profile_id))
        if not isinstance(body, dict) or "status" not in body:
            raise MalformedResponse(f"GET /reporting/reports/{report_id} returned no status")
        return ReportStatus(
            report_id=str(body.get("reportId") or report_id),
            status=body["status"],
            url=body.get("url"),
            failure_reason=body.get("failureReason"),
            file_size=int(body["fileSize"]) if body.get("fileSize") is not None else None,
            url_expires_at=body.get("urlExpiresAt"),
        )

    def iter_report_rows(self, url: str) -> ArrayStream:
        """Stream a finished report's rows from its pre-signed URL (no credentials are sent).

        An iterator of row dicts; `ingest_report` instead reads its `raw_batches()` with a bulk decoder.
        Nothing is requested before the first read.
        """
        return ArrayStream(lambda: self._report_chunks(url))

    def _report_chunks(self, url: str) -> Iterator[bytes]:
        with self._transport.stream("GET", url, strip_auth=True) as response:
            yield from decoded_body(response, gzipped=True)
