"""Ads reporting v3 report types, their groupBy levels, columns and filters — and request validation.

The tables follow Amazon's column reference for Sponsored Products (ADS_API.md §4.3/4.4). Validation
answers the way reporting v3 does: a 400 `{code, detail}` naming what is wrong.
"""

from __future__ import annotations

from datetime import date, timedelta

ATTRIBUTED = [
    f"{stem}{w}d"
    for stem in (
        "purchases",
        "purchasesSameSku",
        "unitsSoldClicks",
        "unitsSoldSameSku",
        "sales",
        "attributedSalesSameSku",
    )
    for w in (1, 7, 14, 30)
]
METRICS = [
    "impressions",
    "clicks",
    "cost",
    "costPerClick",
    "clickThroughRate",
    *ATTRIBUTED,
    "addToList",
    "qualifiedBorrows",
    "royaltyQualifiedBorrows",
    "kindleEditionNormalizedPagesRead14d",
    "kindleEditionNormalizedPagesRoyalties14d",
]
TIME = ["date", "startDate", "endDate"]
CAMPAIGN = [
    "campaignId",
    "campaignName",
    "campaignStatus",
    "campaignBudgetAmount",
    "campaignBudgetType",
    "campaignBudgetCurrencyCode",
]
BUDGET_RULES = ["campaignRuleBasedBudgetAmount", "campaignApplicableBudgetRuleId", "campaignApplicableBudgetRuleName"]
OTHER_SKU = ["salesOtherSku7d", "unitsSoldOtherSku7d", "acosClicks7d", "acosClicks14d", "roasClicks7d", "roasClicks14d"]
TARGETING = [
    *METRICS,
    *OTHER_SKU,
    "keywordId",
    "keyword",
    "keywordBid",
    "keywordType",
    "matchType",
    "targeting",
    "adGroupId",
    "adGroupName",
    *CAMPAIGN,
    "portfolioId",
    *TIME,
]

REPORT_TYPES: dict[str, dict] = {
    "spCampaigns": {
        "base": [*METRICS, "spend", "campaignBiddingStrategy", *TIME],
        "groups": {
            "campaign": [*CAMPAIGN, *BUDGET_RULES, "topOfSearchImpressionShare"],
            "adGroup": ["adGroupId", "adGroupName", "adStatus", *CAMPAIGN],
            "campaignPlacement": ["placementClassification", *CAMPAIGN, *BUDGET_RULES],  # "+ the campaign fields"
        },
        "filters": {"campaign": {"campaignStatus"}, "adGroup": {"adStatus"}, "campaignPlacement": {"campaignSite"}},
    },
    "spTargeting": {
        "base": [*TARGETING, "topOfSearchImpressionShare"],
        "groups": {"targeting": ["adKeywordStatus"]},
        "filters": {"targeting": {"keywordType", "adKeywordStatus"}},
    },
    "spSearchTerm": {
        "base": [*TARGETING, "searchTerm"],
        "groups": {"searchTerm": ["adKeywordStatus"]},
        "filters": {"searchTerm": {"keywordType", "adKeywordStatus"}},
    },
    "spAdvertisedProduct": {
        "base": [
            *METRICS,
            "spend",
            *OTHER_SKU,
            *CAMPAIGN,
            "adGroupId",
            "adGroupName",
            "adId",
            "portfolioId",
            "advertisedAsin",
            "advertisedSku",
            *TIME,
        ],
        "groups": {"advertiser": []},
        "filters": {"advertiser": {"adCreativeStatus"}},
    },
}
FILTER_VALUES = {
    "campaignStatus": {"ENABLED", "PAUSED", "ARCHIVED"},
    "adStatus": {"ENABLED", "PAUSED", "ARCHIVED"},
    "adKeywordStatus": {"ENABLED", "PAUSED", "ARCHIVED"},
    "adCreativeStatus": {"ENABLED", "PAUSED", "ARCHIVED"},
    "keywordType": {"BROAD", "PHRASE", "EXACT", "TARGETING_EXPRESSION", "TARGETING_EXPRESSION_PREDEFINED"},
    "campaignSite": {"AmazonBusiness"},
}
MAX_DAYS = 31
RETENTION_DAYS = 95


class ReportRequestError(ValueError):
    pass


def _day(value: object, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ReportRequestError(f"{name} must be a date in YYYY-MM-DD format") from None


def validate(body: object, today: date) -> dict:
    """Check a createAsyncReport body; return it normalised or raise ReportRequestError."""
    if not isinstance(body, dict):
        raise ReportRequestError("Request body must be a JSON object")
    for key in ("startDate", "endDate", "configuration"):
        if key not in body:
            raise ReportRequestError(f"{key} is required")
    cfg = body["configuration"]
    if not isinstance(cfg, dict):
        raise ReportRequestError("configuration must be an object")
    for key in ("adProduct", "reportTypeId", "groupBy", "columns", "timeUnit", "format"):
        if not cfg.get(key):
            raise ReportRequestError(f"configuration.{key} is required")
    rtype = cfg["reportTypeId"]
    if rtype not in REPORT_TYPES:
        raise ReportRequestError(f"Invalid reportTypeId: {rtype}")
    if cfg["adProduct"] != "SPONSORED_PRODUCTS":
        raise ReportRequestError(f"reportTypeId {rtype} is not supported for adProduct {cfg['adProduct']}")
    if cfg["format"] != "GZIP_JSON":
        raise ReportRequestError(f"Invalid format: {cfg['format']}")
    if cfg["timeUnit"] not in ("DAILY", "SUMMARY"):
        raise ReportRequestError(f"Invalid timeUnit: {cfg['timeUnit']}")
    spec = REPORT_TYPES[rtype]
    group_by = cfg["groupBy"]
    if not isinstance(group_by, list) or not all(isinstance(g, str) for g in group_by):
        raise ReportRequestError("configuration.groupBy must be a list of strings")
    bad = [g for g in group_by if g not in spec["groups"]]
    if bad:
        raise ReportRequestError(f"groupBy {bad} not supported for {rtype}; allowed: {sorted(spec['groups'])}")
    columns = cfg["columns"]
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ReportRequestError("configuration.columns must be a list of strings")
    allowed = set(spec["base"]).union(*(spec["groups"][g] for g in group_by))
    allowed -= {"startDate", "endDate"} if cfg["timeUnit"] == "DAILY" else {"date"}
    bad = [c for c in columns if c not in allowed]
    if bad:
        raise ReportRequestError(
            f"configuration columns {bad} are not supported for reportTypeId {rtype} with groupBy {group_by} "
            f"and timeUnit {cfg['timeUnit']}"
        )
    filters = cfg.get("filters") or []
    if not isinstance(filters, list):
        raise ReportRequestError("configuration.filters must be a list")
    valid_fields = set.intersection(*(spec["filters"][g] for g in group_by))
    for f in filters:
        if not isinstance(f, dict) or f.get("field") not in valid_fields:
            raise ReportRequestError(f"Invalid filter {f!r} for groupBy {group_by}")
        values = f.get("values")
        if not isinstance(values, list) or not values or not set(values) <= FILTER_VALUES[f["field"]]:
            raise ReportRequestError(f"Invalid values for filter {f['field']}: {values!r}")
    start, end = _day(body["startDate"], "startDate"), _day(body["endDate"], "endDate")
    if end < start:
        raise ReportRequestError("endDate must be on or after startDate")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportRequestError(f"Report date range cannot exceed {MAX_DAYS} days")
    if start < today - timedelta(days=RETENTION_DAYS):
        raise ReportRequestError(f"startDate cannot be more than {RETENTION_DAYS} days in the past")
    if end > today + timedelta(days=1):
        raise ReportRequestError("endDate cannot be in the future")
    return {
        "name": body.get("name"),
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "reportTypeId": rtype,
            "groupBy": list(group_by),
            "columns": list(columns),
            "timeUnit": cfg["timeUnit"],
            "format": "GZIP_JSON",
            "filters": [{"field": f["field"], "values": list(f["values"])} for f in filters] or None,
        },
    }
