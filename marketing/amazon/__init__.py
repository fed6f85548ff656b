"""Outbound client for Amazon's Login with Amazon, Ads API and Selling Partner API.

Speaks Amazon's shapes only: it returns plain data and raises the exceptions in
:mod:`marketing.amazon.errors`; it knows nothing about our database, Flask or RQ.
"""

from .ads import AdsClient, BidResult, Profile, ReportRequest, ReportStatus
from .auth import AccessTokenSource, AuthObserver, MemoryTokenCache, TokenCache
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
from .hosts import MARKETPLACES, Hosts, Marketplace, Region, marketplace, marketplace_for_country
from .lwa import TokenGrant, ads_consent_url, exchange_code, refresh_access_token, sp_consent_url
from .sp import SpClient, SpReport, SpReportDocument
from .transport import RateLimiter, RetryPolicy, Transport

__all__ = [
    "MARKETPLACES",
    "AccessTokenSource",
    "AdsClient",
    "AmazonError",
    "AmazonRequestError",
    "AmazonUnavailable",
    "AuthObserver",
    "BidResult",
    "Hosts",
    "InvalidClient",
    "InvalidGrant",
    "MalformedResponse",
    "Marketplace",
    "MemoryTokenCache",
    "Profile",
    "RateLimiter",
    "Region",
    "ReportFailed",
    "ReportRequest",
    "ReportStatus",
    "RetryPolicy",
    "SpClient",
    "SpReport",
    "SpReportDocument",
    "Throttled",
    "TokenCache",
    "TokenGrant",
    "Transport",
    "ads_consent_url",
    "exchange_code",
    "marketplace",
    "marketplace_for_country",
    "refresh_access_token",
    "sp_consent_url",
]
